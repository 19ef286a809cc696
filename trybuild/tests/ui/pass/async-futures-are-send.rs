// The future of an annotated async fn is `Send` whenever its body's is:
// the expansion holds nothing across an `.await` that is not (the lock,
// its guard, the formatted name's lock), so it can be `tokio::spawn`ed.
use mysql_lock::{mysql_lock, Error};
use std::rc::Rc;

fn assert_send<T: Send>(_: T) {}

#[mysql_lock(name = "job:{id}")]
async fn job(id: u32) -> Result<u32, Error> {
    tokio::task::yield_now().await;
    Ok(id)
}

#[mysql_lock(name = "skip", if_busy = "skip")]
#[mysql_lock(name = "stacked:{n}")]
async fn skip_and_stacked(n: u64) -> anyhow::Result<Option<u64>> {
    tokio::task::yield_now().await;
    Ok(Some(n))
}

struct Worker {
    tenant: String,
}

impl Worker {
    #[mysql_lock(name = "worker:{self.tenant}:{id}")]
    async fn run(&self, id: &str) -> Result<usize, Error> {
        tokio::task::yield_now().await;
        Ok(self.tenant.len() + id.len())
    }
}

// A value that is not `Send`, made and dropped between awaits, as in a
// plain async fn. (The value returned must be `Send`, as `tokio::spawn`
// asks: it is held while the lock is released.)
#[mysql_lock(name = "local-rc")]
async fn local_rc() -> Result<u32, Error> {
    let sum = {
        let rc = Rc::new(3);
        *rc + 1
    };
    tokio::task::yield_now().await;
    Ok(sum)
}

#[allow(dead_code)]
async fn spawned() -> Result<u32, tokio::task::JoinError> {
    let handle = tokio::spawn(job(1));
    let _ = tokio::spawn(skip_and_stacked(2));
    let _ = tokio::spawn(async {
        let worker = Worker {
            tenant: "acme".into(),
        };
        worker.run("7").await
    });
    Ok(handle.await?.unwrap_or(0))
}

pub(crate) fn main() {
    // Made, never polled: nothing connects.
    assert_send(job(1));
    assert_send(skip_and_stacked(2));
    let worker = Worker {
        tenant: "acme".into(),
    };
    assert_send(worker.run("7"));
    assert_send(local_rc());
    let _ = spawned;
}
