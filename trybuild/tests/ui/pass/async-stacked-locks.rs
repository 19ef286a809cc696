// Several #[mysql_lock] on an async fn: each lock is awaited in the order
// written, before the body, and released in reverse after it.
use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "a")]
#[mysql_lock(name = "b", timeout = 0)]
#[mysql_lock::mysql_lock(name = "c:{id}", if_busy = "skip")]
async fn job(id: u32) -> Result<Option<u32>, Error> {
    tokio::task::yield_now().await;
    Ok(Some(id))
}

#[mysql_lock(name = "x:{id}")]
#[mysql_lock(name = "y:{id}")]
async fn two_templates(id: u32) -> Result<u32, Error> {
    Ok(id)
}

pub(crate) fn main() {
    let _ = (job, two_templates);
}
