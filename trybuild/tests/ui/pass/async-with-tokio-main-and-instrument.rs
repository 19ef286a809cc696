// #[mysql_lock] combined with #[tracing::instrument] in both orders, and
// an async fn locked inside a #[tokio::main].
use mysql_lock::{mysql_lock, Error};

// `instrument` first (outermost): the span covers the wait for the lock.
#[tracing::instrument]
#[mysql_lock(name = "instrumented-outside")]
async fn instrumented_outside(id: u32) -> Result<u32, Error> {
    Ok(id)
}

// `mysql_lock` first: its lock is taken, then the span covers the body
// only.
#[mysql_lock(name = "instrumented-inside")]
#[tracing::instrument(err)]
async fn instrumented_inside(id: u32) -> Result<u32, Error> {
    Ok(id)
}

fn assert_send<T: Send>(_: T) {}

#[tokio::main]
pub(crate) async fn main() {
    assert_send(instrumented_outside(1));
    assert_send(instrumented_inside(2));
    // Spawnable as well; never awaited here: nothing connects.
    let _ = (instrumented_outside, instrumented_inside);
}

// `#[tokio::main]` outside (first): it makes a sync function that blocks
// on the body, and `#[mysql_lock]` then locks that sync function (a sync
// lock, held while the runtime runs the body).
#[tokio::main]
#[mysql_lock(name = "serve-sync-lock")]
async fn serve_sync_lock() -> Result<u32, Error> {
    instrumented_inside(1).await
}

// `#[mysql_lock]` outside (first): the async fn awaits an async lock, and
// `#[tokio::main]` then runs that future on a runtime of its own.
#[mysql_lock(name = "serve-async-lock")]
#[tokio::main(flavor = "current_thread")]
async fn serve_async_lock() -> Result<u32, Error> {
    instrumented_outside(2).await
}

#[allow(dead_code)]
fn never_called() {
    let _ = (serve_sync_lock, serve_async_lock);
}
