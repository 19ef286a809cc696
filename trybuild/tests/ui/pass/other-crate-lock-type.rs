// Another crate's or module's `Lock` is no MySQL lock: neither through its
// path, nor imported under the bare name.
#![allow(dead_code, clippy::all)]

use mysql_lock::{mysql_lock, Error};

mod filelock {
    pub struct Lock;

    impl Lock {
        pub fn new(_path: &str) -> Self {
            Lock
        }
        pub fn acquire(&self) -> Result<(), mysql_lock::Error> {
            Ok(())
        }
    }
}

#[mysql_lock(name = "nightly")]
fn nightly() -> Result<(), Error> {
    filelock::Lock::new("nightly").acquire()?;
    Ok(())
}

#[mysql_lock(name = "nightly")]
fn imported() -> Result<(), Error> {
    use filelock::Lock;
    Lock::new("nightly").acquire()
}

pub(crate) fn main() {
    let _ = nightly;
    let _ = imported;
}
