// An async fn whose value is another future: that one would run after the
// release.
use mysql_lock::{mysql_lock, Error};
use std::future::Future;

#[mysql_lock(name = "job")]
async fn job() -> Result<impl Future<Output = u32>, Error> {
    Ok(async { 1 })
}

fn main() {
    let _ = job;
}
