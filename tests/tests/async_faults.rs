//! Faults of async lock sessions found in review, each first reproduced by
//! one of these tests, then fixed: runtime shutdown, a nested grant sent
//! to a caller that went away, cancellation inside a nested timeout's
//! holder description, two runtimes on one thread, a guard dropped off the
//! runtime while its session is busy, a cancelled wait beside a lingering
//! lock, and `join!`ed acquires keeping their own timeouts.

use mysql_lock::Lock;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};
use testkit::within;

/// Polls `fut` exactly once; `Some` when it finished.
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Option<F::Output> {
    tokio::select! {
        biased;
        out = fut => Some(out),
        () = std::future::ready(()) => None,
    }
}

fn freed_within(name: &str, limit: Duration) -> bool {
    within(limit, || testkit::holder(name).is_none()).is_some()
}

/// F1: a guard dropped while its runtime shuts down (a spawned task
/// holding it when the runtime is dropped) must free its lock: the docs
/// say "a runtime that is shutting down drops the task at once, and with
/// it the connection". The connection is owned by the global book, so it
/// stays open and the lock stays held.
#[test]
fn f1_guard_dropped_by_runtime_shutdown_frees_the_lock() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("review-shutdown"));
    let name = lock.server_name().unwrap().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.spawn({
        let lock = lock.clone();
        async move {
            let _guard = lock.acquire_async().await.unwrap();
            std::future::pending::<()>().await;
        }
    });
    assert!(within(Duration::from_secs(5), || testkit::holder(&name).is_some()).is_some());
    drop(runtime);
    assert!(
        freed_within(&name, Duration::from_secs(3)),
        "the lock of a guard dropped at runtime shutdown is still held"
    );
}

/// F1b: `release()` with a minimum hold returns at once; the docs say a
/// runtime shut down before the hold is up closes the connection, "which
/// frees the lock sooner". It never frees it.
#[test]
fn f1b_min_hold_release_then_runtime_shutdown_frees_the_lock() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("review-minhold")).min_hold(Duration::from_millis(300));
    let name = lock.server_name().unwrap().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { lock.acquire_async().await.unwrap().release().await.unwrap() });
    drop(runtime);
    assert!(
        freed_within(&name, Duration::from_secs(3)),
        "a min_hold lock released before its runtime shut down is held long after its hold time"
    );
}

/// F2: a nested acquire whose wait task has already sent `Acquired`, but
/// whose future is dropped before it is polled again (select! picking
/// another ready branch, JoinHandle::abort): the grant is in the oneshot,
/// nobody releases it, the entry is gone, and the connection later goes
/// back to the idle pool still holding the lock. On one thread, so that
/// the wait task can't answer before the first poll returns.
#[tokio::test(flavor = "current_thread")]
async fn f2_nested_grant_dropped_unseen_is_released() {
    testkit::setup();
    let outer = Lock::new(testkit::unique("review-outer"));
    let inner = Lock::new(testkit::unique("review-inner"));
    let inner_name = inner.server_name().unwrap().to_owned();
    let guard = outer.acquire_async().await.unwrap();
    let mut acquire = Box::pin(inner.acquire_async());
    assert!(
        poll_once(&mut acquire).await.is_none(),
        "the wait task was spawned"
    );
    // The wait task gets the (free) lock and sends it; the caller is not
    // polled before it is dropped.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(acquire);
    let leaked_while_outer = !tokio::task::spawn_blocking({
        let name = inner_name.clone();
        move || freed_within(&name, Duration::from_secs(2))
    })
    .await
    .unwrap();
    guard.release().await.unwrap();
    let leaked_after = !tokio::task::spawn_blocking({
        let name = inner_name.clone();
        move || freed_within(&name, Duration::from_secs(2))
    })
    .await
    .unwrap();
    assert!(
        !leaked_while_outer && !leaked_after,
        "cancelled nested acquire left the lock held (while outer held: {leaked_while_outer}, \
         after the outer release, on an idle pooled connection: {leaked_after})"
    );
}

/// F3: a nested acquire that times out and is cancelled while it asks who
/// holds the lock (describe_holder, after GET_LOCK answered 0) leaves the
/// connection untrusted: the task's outer lock is then lost, though the
/// docs promise a cancelled nested wait keeps the session and its locks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f3_nested_timeout_cancelled_in_describe_holder_keeps_outer_lock() {
    testkit::setup();
    let outer = Lock::new(testkit::unique("review-outer3"));
    let inner = Lock::new(testkit::unique("review-inner3")).timeout(Duration::from_millis(200));
    // Another task (another session) holds the inner lock.
    let (held_tx, held_rx) = tokio::sync::oneshot::channel();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let holder = tokio::spawn({
        let inner = inner.clone();
        async move {
            let g = inner.acquire_async().await.unwrap();
            held_tx.send(()).unwrap();
            let _ = done_rx.await;
            g.release().await.unwrap();
        }
    });
    held_rx.await.unwrap();
    let mut guard = outer.acquire_async().await.unwrap();
    let mut acquire: Pin<Box<_>> = Box::pin(inner.acquire_async());
    assert!(poll_once(&mut acquire).await.is_none());
    // GET_LOCK times out on the server; the wait task sends the answer.
    tokio::time::sleep(Duration::from_millis(800)).await;
    // One poll: takes the answer, sends IS_USED_LOCK (describe_holder)...
    assert!(poll_once(&mut acquire).await.is_none());
    // ...and is cut there (an outer timeout equal to the lock's timeout).
    drop(acquire);
    let verified = guard.verify().await;
    done_tx.send(()).unwrap();
    holder.await.unwrap();
    assert!(verified.is_ok(), "the outer lock was lost: {verified:?}");
    guard.release().await.unwrap();
}

/// F4: code outside any task is keyed by its thread, whatever runtime runs
/// it: a lock kept from one runtime's block_on makes another runtime's
/// block_on on the same thread share the first runtime's connection (and
/// timers). With the first runtime idle, an acquire of a free lock with a
/// 1 s timeout never returns.
#[test]
fn f4_two_runtimes_on_one_thread_are_bounded() {
    testkit::setup();
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let a = Lock::new(testkit::unique("review-rt-a"));
    let b = Lock::new(testkit::unique("review-rt-b")).timeout(Duration::from_secs(1));
    let guard = first.block_on(a.acquire_async()).unwrap();
    let second = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let outcome = second
        .block_on(async { tokio::time::timeout(Duration::from_secs(5), b.acquire_async()).await });
    let took = started.elapsed();
    let bounded = outcome.is_ok();
    if let Ok(Ok(g)) = outcome {
        second.block_on(g.release()).ok();
    }
    first.block_on(guard.release()).ok();
    assert!(
        bounded,
        "acquire of a free lock with a 1 s timeout still pending after {took:?}"
    );
}

/// F5: a guard dropped outside any runtime while its session's connection
/// is busy (here: a nested wait of the same task) is marked lost and
/// forgotten, but its lock stays held on the connection: when the session
/// ends, the connection goes back to the idle pool still holding it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f5_guard_dropped_off_runtime_while_slot_busy_frees_lock() {
    testkit::setup();
    let x = Lock::new(testkit::unique("review-x5"));
    let z = Lock::new(testkit::unique("review-z5")).timeout(Duration::from_millis(500));
    let x_name = x.server_name().unwrap().to_owned();
    let (held_tx, held_rx) = tokio::sync::oneshot::channel();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let other = tokio::spawn({
        let z = z.clone();
        async move {
            let g = z.acquire_async().await.unwrap();
            held_tx.send(()).unwrap();
            let _ = done_rx.await;
            g.release().await.unwrap();
        }
    });
    held_rx.await.unwrap();
    let gx = x.acquire_async().await.unwrap();
    let mut wait_z = Box::pin(z.acquire_async());
    assert!(
        poll_once(&mut wait_z).await.is_none(),
        "nested wait started"
    );
    // Dropped on a plain thread (no runtime): the slot is locked by the wait.
    std::thread::spawn(move || drop(gx)).join().unwrap();
    assert!(wait_z.await.is_err(), "z is held elsewhere");
    done_tx.send(()).unwrap();
    other.await.unwrap();
    let freed = tokio::task::spawn_blocking(move || freed_within(&x_name, Duration::from_secs(3)))
        .await
        .unwrap();
    assert!(
        freed,
        "x is still held (by a connection now idle in the pool)"
    );
}

/// F6: a lock released before its minimum hold time is marked `releasing`,
/// so the task counts as holding nothing: its next acquire of another name
/// waits inline, and cancelling that wait closes + KILLs the connection,
/// freeing the lingering lock long before its minimum hold time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f6_cancelled_wait_keeps_a_lingering_lock() {
    testkit::setup();
    let x = Lock::new(testkit::unique("review-x6")).min_hold(Duration::from_secs(5));
    let y = Lock::new(testkit::unique("review-y6")).timeout(Duration::from_secs(10));
    let x_name = x.server_name().unwrap().to_owned();
    let (held_tx, held_rx) = tokio::sync::oneshot::channel();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let other = tokio::spawn({
        let y = y.clone();
        async move {
            let g = y.acquire_async().await.unwrap();
            held_tx.send(()).unwrap();
            let _ = done_rx.await;
            g.release().await.unwrap();
        }
    });
    held_rx.await.unwrap();
    x.acquire_async().await.unwrap().release().await.unwrap(); // lingers 5 s
    assert!(
        tokio::time::timeout(Duration::from_millis(200), y.acquire_async())
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let holder = tokio::task::spawn_blocking(move || testkit::holder(&x_name))
        .await
        .unwrap();
    done_tx.send(()).unwrap();
    other.await.unwrap();
    assert!(
        holder.is_some(),
        "x was freed ~0.7 s into its 5 s minimum hold"
    );
}

/// F7: the session's connection mutex is awaited without the lock's
/// deadline: in `join!`, a 100 ms acquire waits out a sibling's 2 s wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f7_join_keeps_each_timeout() {
    testkit::setup();
    let a = Lock::new(testkit::unique("review-a7")).timeout(Duration::from_secs(2));
    let b = Lock::new(testkit::unique("review-b7")).timeout(Duration::from_millis(100));
    let (held_tx, held_rx) = tokio::sync::oneshot::channel();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let other = tokio::spawn({
        let a = a.clone();
        async move {
            let g = a.acquire_async().await.unwrap();
            held_tx.send(()).unwrap();
            let _ = done_rx.await;
            g.release().await.unwrap();
        }
    });
    held_rx.await.unwrap();
    let started = Instant::now();
    let (ra, b_took) = tokio::join!(a.acquire_async(), async {
        let r = b.acquire_async().await;
        let took = started.elapsed();
        if let Ok(g) = r {
            g.release().await.unwrap();
        }
        took
    });
    assert!(ra.is_err());
    done_tx.send(()).unwrap();
    other.await.unwrap();
    assert!(
        b_took < Duration::from_millis(1100),
        "b (100 ms timeout, free) took {b_took:?}"
    );
}
