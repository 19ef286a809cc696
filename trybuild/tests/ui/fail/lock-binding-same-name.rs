// The two-step style: a `Lock` bound to a name, acquired later in the same
// block (or an inner one) is followed.
use mysql_lock::{mysql_lock, Error, Lock};
use std::time::Duration;

#[mysql_lock(name = "x")]
fn job() -> Result<(), Error> {
    let lock = Lock::new("x").timeout(Duration::from_secs(2));
    let guard = lock.acquire()?;
    guard.release()?;
    {
        let _again = lock.using("default").try_acquire()?;
    }
    Ok(())
}

fn main() {
    let _ = job;
}
