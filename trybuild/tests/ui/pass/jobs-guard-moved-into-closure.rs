// A guard held by hand that is moved into a closure (released there, or on
// another thread) is no longer known to be held: a later call taking the
// same lock is left to the runtime.
#![allow(dead_code, unused_variables, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error, Lock};

    #[mysql_lock(name = "b")]
    pub fn b() -> Result<(), Error> {
        Ok(())
    }

    pub fn moved() -> Result<(), Error> {
        let g = Lock::new("b").acquire()?;
        let release = move || g.release();
        release()?;
        b()
    }

    pub fn released_elsewhere() -> Result<(), Error> {
        let g = Lock::new("b").acquire()?;
        std::thread::spawn(move || g.release()).join().unwrap()?;
        b()
    }
}

pub(crate) fn main() {
    let _ = jobs::moved;
    let _ = jobs::released_elsewhere;
}
