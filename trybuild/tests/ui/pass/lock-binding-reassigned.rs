// A binding assigned to (or lent as `&mut`) no longer means what its `let`
// said: a `Lock` or a closure replaced is not taken for the first one.
#![allow(dead_code, unused_variables, unused_assignments, clippy::all)]

use mysql_lock::{mysql_lock, Error, Lock};

fn ok() -> Result<(), Error> {
    Ok(())
}

fn replace(lock: &mut Lock) {
    *lock = Lock::new("elsewhere");
}

#[mysql_lock(name = "a")]
fn retime() -> Result<(), Error> {
    let mut lock = Lock::new("a");
    lock = Lock::new("b");
    let _g = lock.acquire()?;
    let mut lent = Lock::new("a");
    replace(&mut lent);
    let _h = lent.acquire()?;
    Ok(())
}

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "b")]
    pub fn b() -> Result<(), Error> {
        Ok(())
    }

    #[mysql_lock(name = "b")]
    pub fn holder() -> Result<(), Error> {
        let mut task: fn() -> Result<(), Error> = || b();
        task = super::ok;
        task()
    }
}

pub(crate) fn main() {
    let _ = retime;
    let _ = jobs::holder;
}
