// A function's own attribute: closures that are built but not run in the
// body (stored and spawned, returned, boxed) take nothing while it holds
// its lock, even when they take the same lock.
#![allow(dead_code, clippy::all)]

use mysql_lock::{mysql_lock, Error, Lock, LockGuard};

#[mysql_lock(name = "job")]
fn job() -> Result<Box<dyn Fn() -> Result<LockGuard, Error>>, Error> {
    let later = || Lock::new("job").acquire().map(drop);
    let _ = std::thread::spawn(later).join();
    let _ = std::thread::spawn({
        let name = String::from("job");
        move || Lock::new(name).acquire().map(drop)
    })
    .join();
    Ok(Box::new(|| Lock::new("job").acquire()))
}

pub(crate) fn main() {
    let _ = job;
}
