use mysql_lock::{mysql_lock, Error, Lock};
use std::time::Duration;

#[mysql_lock(name = "job")]
fn job() -> Result<(), Error> {
    let guard = Lock::new("job").acquire()?;
    guard.release()?;
    // In a closure, through the full path, with the alias spelled out.
    let later = || {
        mysql_lock::Lock::new("job")
            .timeout(Duration::from_secs(1))
            .using("default")
            .try_acquire()
    };
    let _ = later()?;
    // Another alias may be another server: another lock.
    let _ = Lock::new("job").using("replica").try_acquire()?;
    Ok(())
}

fn main() {
    let _ = job;
}
