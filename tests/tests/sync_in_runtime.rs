//! Sync locks called inside a tokio runtime: on a worker of a multi-thread
//! runtime the wait moves off the worker (`block_in_place`), so the
//! worker's other tasks keep running; on a current-thread runtime the
//! documented way, `spawn_blocking`, keeps the runtime's thread free.

use mysql_lock::Lock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const HELPER: &str = env!("CARGO_BIN_EXE_lock-helper");

/// Counts 20 ms ticks until dropped.
fn ticker() -> (Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let ticks = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&ticks);
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    (ticks, task)
}

/// A contended sync acquire waiting about 1 s (another process holds the
/// lock for 1 s); returns how many ticks happened meanwhile.
async fn ticks_during_a_sync_wait(wait: impl FnOnce(Lock) -> tokio::task::JoinHandle<()>) -> usize {
    let url = testkit::setup();
    let lock = Lock::new(testkit::unique("sync-in-runtime")).timeout(Duration::from_secs(10));
    let (mut child, _) = tokio::task::block_in_place(|| {
        testkit::hold_in_another_process_at(HELPER, url, lock.name(), 1.0)
    });
    let (ticks, ticking) = ticker();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = ticks.load(Ordering::Relaxed);
    wait(lock).await.unwrap();
    let during = ticks.load(Ordering::Relaxed) - before;
    ticking.abort();
    tokio::task::block_in_place(|| child.wait()).unwrap();
    during
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_sync_wait_on_a_worker_does_not_stall_its_other_tasks() {
    let during = ticks_during_a_sync_wait(|lock| {
        // On the only worker, beside the ticker.
        tokio::spawn(async move {
            let guard = lock.acquire().unwrap();
            guard.release().unwrap();
        })
    })
    .await;
    // About 45 ticks in 0.9 s; a stalled worker would show none.
    assert!(during >= 10, "{during} ticks while the sync lock waited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn spawn_blocking_keeps_the_runtime_free() {
    let during = ticks_during_a_sync_wait(|lock| {
        tokio::task::spawn_blocking(move || {
            let guard = lock.acquire().unwrap();
            guard.release().unwrap();
        })
    })
    .await;
    assert!(during >= 10, "{during} ticks while the sync lock waited");
}
