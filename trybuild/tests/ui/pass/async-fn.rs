// `#[mysql_lock]` on an `async fn`: the lock is awaited, never blocking the
// thread, and held while the body's future runs.
use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job")]
async fn job() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "with-options", timeout = 0.5, min_hold = 2, using = "other")]
pub(crate) async fn with_options(n: u32) -> anyhow::Result<u32> {
    tokio::task::yield_now().await;
    Ok(n + 1)
}

#[mysql_lock(name = "forever", timeout = "forever")]
async fn forever() -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let text = String::from("done");
    Ok(text)
}

// Calls between annotated async functions, awaited.
#[mysql_lock(name = "outer")]
async fn outer() -> anyhow::Result<u32> {
    job().await?;
    let n = with_options(1).await?;
    Ok(n)
}

pub(crate) fn main() {
    let _ = (job, with_options, forever, outer);
}
