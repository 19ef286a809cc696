// Futures that are made but not awaited in the body do not run under its
// lock, and the checks never guess that they do: an async fn called and
// handed to `tokio::spawn` (another task: another holder, which waits), a
// future stored, returned or dropped, an async block not awaited where it
// is written, an async closure (its call only makes a future).
#![allow(dead_code, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error, Lock};
    use std::future::Future;
    use std::pin::Pin;

    #[mysql_lock(name = "notify")]
    pub async fn notify() -> Result<(), Error> {
        Ok(())
    }

    #[mysql_lock(name = "notify")]
    pub async fn schedule() -> Result<usize, Error> {
        let spawned = tokio::spawn(notify());
        drop(spawned);
        let stored = notify();
        let mut later: Vec<Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>> = Vec::new();
        later.push(Box::pin(stored));
        later.push(Box::pin(async { notify().await }));
        let closure = async || notify().await;
        later.push(Box::pin(closure()));
        // An async acquire not awaited takes nothing.
        let lock = Lock::new("notify");
        let not_taken = lock.acquire_async();
        drop(not_taken);
        Ok(later.len())
    }

    // A sync function calling an async one only makes its future.
    #[mysql_lock(name = "notify")]
    pub fn sync_caller() -> Result<(), Error> {
        let future = notify();
        drop(future);
        Ok(())
    }

    // Other locks, awaited in one order everywhere: no inversion.
    #[mysql_lock(name = "orders")]
    pub async fn place_order() -> Result<(), Error> {
        reserve_stock().await?;
        let guard = Lock::new("stock").acquire_async().await?;
        guard.release().await
    }

    #[mysql_lock(name = "stock")]
    async fn reserve_stock() -> Result<(), Error> {
        Ok(())
    }
}

pub(crate) fn main() {
    let _ = (jobs::schedule, jobs::sync_caller, jobs::place_order);
}
