// Inside an async fn holding "job", taking "job" again through `.await`:
// an async lock is held by a connection of its own, so the task would wait
// for itself until the timeout.
use mysql_lock::{mysql_lock, Error, Lock};

#[mysql_lock(name = "job")]
async fn job() -> Result<(), Error> {
    #[mysql_lock(name = "job")]
    async fn step() -> Result<(), Error> {
        Ok(())
    }
    step().await?;
    let guard = Lock::new("job").acquire_async().await?;
    guard.release().await?;
    // In an async block awaited at once, too.
    async {
        let again = Lock::new("job").try_acquire_async().await?;
        drop(again);
        Ok::<(), Error>(())
    }
    .await
}

#[mysql_lock(name = "twice")]
#[mysql_lock(name = "twice")]
async fn stacked() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = (job, stacked);
}
