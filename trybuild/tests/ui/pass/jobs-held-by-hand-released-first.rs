// A lock taken by hand is held only while its guard certainly lives: not
// after it is released or dropped, not when the guard is discarded at once
// (`let _ = ..`), and not by `try_acquire` (which may hold nothing).
#![allow(dead_code, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error, Lock};

    pub fn migrate() -> Result<(), Error> {
        let guard = Lock::new("schema").acquire()?;
        guard.release()?;
        apply()?;
        let guard = Lock::new("schema").acquire()?;
        drop(guard);
        apply()?;
        let _ = Lock::new("schema").acquire()?;
        apply()?;
        {
            let _inner = Lock::new("schema").acquire()?;
        }
        apply()?;
        if let Some(guard) = Lock::new("schema").try_acquire()? {
            guard.release()?;
        }
        apply()
    }

    #[mysql_lock(name = "schema")]
    fn apply() -> Result<(), Error> {
        Ok(())
    }
}

pub(crate) fn main() {
    let _ = jobs::migrate;
}
