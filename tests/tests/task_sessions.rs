//! Async locks belong to tasks: a task's locks share one connection (one
//! server session per task and alias), so re-entrance is refused at once,
//! two tasks on one thread are two holders, the server detects deadlocks
//! between tasks, and a cancelled nested wait ends with `KILL QUERY`,
//! keeping the task's other locks.

use mysql_lock::{Error, Lock};
use std::time::{Duration, Instant};
use testkit::{url_with_db, waiting_sessions, within};

const HELPER: &str = env!("CARGO_BIN_EXE_lock-helper");

/// The trap the issue found with thread-owned locks: on a current-thread
/// runtime, task B (same thread as task A, which holds the lock across an
/// `.await`) must wait for A, not be told it re-enters.
#[tokio::test(flavor = "current_thread")]
async fn two_tasks_on_one_thread_are_two_holders() {
    testkit::setup();
    let name = testkit::unique("task-two-holders");
    let lock = Lock::new(name.as_str());
    let guard = lock.acquire_async().await.unwrap();
    let waiter = tokio::spawn({
        let lock = lock.clone().timeout(Duration::from_secs(5));
        async move {
            let started = Instant::now();
            let guard = lock.acquire_async().await.unwrap();
            let waited = started.elapsed();
            guard.release().await.unwrap();
            waited
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "task B did not wait for task A");
    guard.release().await.unwrap();
    let waited = waiter.await.unwrap();
    assert!(waited >= Duration::from_millis(250), "waited {waited:?}");
}

/// Within one task, taking a lock it holds is `Reentrant` at once (no
/// wait until the timeout), and its other locks share its connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_task_one_connection_and_reentrance_is_refused() {
    testkit::setup();
    let first = Lock::new(testkit::unique("task-first")).timeout(Duration::from_secs(30));
    let second = Lock::new(testkit::unique("task-second"));
    let outer = first.acquire_async().await.unwrap();
    let started = Instant::now();
    let err = first.acquire_async().await.unwrap_err();
    assert!(matches!(err, Error::Reentrant { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(first.try_acquire_async().await.is_err());

    // Yield to the scheduler many times (the task may move between the
    // two workers): it keeps its session.
    for _ in 0..50 {
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let inner = second.acquire_async().await.unwrap();
    assert_eq!(inner.connection_id(), outer.connection_id());
    assert_eq!(
        testkit::holder(inner.server_name()),
        Some(outer.connection_id())
    );

    // Another task: another session.
    let other = tokio::spawn({
        let third = Lock::new(testkit::unique("task-third"));
        async move {
            let guard = third.acquire_async().await.unwrap();
            let id = guard.connection_id();
            guard.release().await.unwrap();
            id
        }
    })
    .await
    .unwrap();
    assert_ne!(other, outer.connection_id());

    inner.release().await.unwrap();
    outer.release().await.unwrap();
    // Released and taken again by the same task: fine.
    first
        .acquire_async()
        .await
        .unwrap()
        .release()
        .await
        .unwrap();
}

/// Two tasks each holding one lock and waiting for the other's: the server
/// sees two sessions and ends one wait with a deadlock error at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlocks_between_tasks_are_detected() {
    testkit::setup();
    let a = Lock::new(testkit::unique("task-deadlock-a")).timeout(Duration::from_secs(20));
    let b = Lock::new(testkit::unique("task-deadlock-b")).timeout(Duration::from_secs(20));
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let cross = |first: Lock, then: Lock| {
        let barrier = std::sync::Arc::clone(&barrier);
        tokio::spawn(async move {
            let held = first.acquire_async().await.unwrap();
            barrier.wait().await;
            let started = Instant::now();
            let result = then.acquire_async().await;
            let waited = started.elapsed();
            if let Ok(guard) = result.as_ref() {
                assert_eq!(guard.connection_id(), held.connection_id());
            }
            // Let the other side finish before releasing.
            let outcome = result
                .map(|guard| (guard, waited))
                .map_err(|err| (err, waited));
            drop(held);
            outcome
        })
    };
    let one = cross(a.clone(), b.clone());
    let two = cross(b, a);
    let (one, two) = (one.await.unwrap(), two.await.unwrap());
    let (errors, successes): (Vec<_>, Vec<_>) = [one, two].into_iter().partition(Result::is_err);
    assert_eq!(errors.len(), 1, "exactly one side is told of the deadlock");
    assert_eq!(successes.len(), 1);
    let Err((err, waited)) = &errors[0] else {
        unreachable!()
    };
    assert!(matches!(err, Error::Deadlock { .. }), "{err:?}");
    assert!(
        *waited < Duration::from_secs(5),
        "detected after {waited:?}"
    );
}

/// A child task is another holder: waiting for it while holding the same
/// lock times out, and the error says the holder is a task of this process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_task_is_another_holder() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("task-child")).timeout(Duration::from_millis(300));
    let guard = lock.acquire_async().await.unwrap();
    let child = tokio::spawn({
        let lock = lock.clone();
        async move { lock.acquire_async().await.map(|_| ()) }
    });
    let err = child.await.unwrap().unwrap_err();
    let Error::Timeout {
        holder: Some(holder),
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(holder.connection_id, guard.connection_id());
    let who = holder.thread.as_deref().unwrap_or_default();
    // The test's body runs in `block_on`, outside any task.
    assert!(
        who.contains("block_on") && who.contains("this process"),
        "{who}"
    );
    assert!(err.to_string().contains("this process"), "{err}");
    guard.release().await.unwrap();
}

/// A nested wait cancelled at random points (another process holds its
/// lock) ends with `KILL QUERY`: the task keeps its outer lock on the same
/// connection, no session of the test is left waiting, and the nested
/// lock is never left held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_nested_waits_keep_the_outer_lock() {
    let db = "mysql_lock_task_sessions";
    let url = url_with_db(db);
    mysql_lock::register(db, &url).unwrap();
    let outer = Lock::new(testkit::unique("task-outer")).using(db);
    let inner = Lock::new(testkit::unique("task-inner"))
        .using(db)
        .timeout(Duration::from_secs(30));
    let (mut child, _) = tokio::task::block_in_place(|| {
        testkit::hold_in_another_process_at(HELPER, &url, inner.name(), 30.0)
    });
    let mut guard = outer.acquire_async().await.unwrap();
    let id = guard.connection_id();
    let mut seed = 0x9e37_79b9_u64 ^ u64::from(std::process::id());
    for _ in 0..40 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let cut = Duration::from_micros(seed % 20_000);
        let attempt = tokio::time::timeout(cut, inner.acquire_async()).await;
        assert!(!matches!(attempt, Ok(Ok(_))), "the other process holds it");
    }
    // The outer lock is still ours, on the same connection.
    guard.verify().await.unwrap();
    assert_eq!(testkit::holder(guard.server_name()), Some(id));
    let mut admin = testkit::admin();
    let settled = tokio::task::block_in_place(|| {
        within(Duration::from_secs(5), || {
            waiting_sessions(&mut admin, db) == 0
        })
    });
    assert!(
        settled.is_some(),
        "a cancelled wait is still waiting on the server"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let freed = tokio::task::block_in_place(|| {
        within(Duration::from_secs(5), || {
            testkit::holder(inner.server_name().unwrap()).is_none()
        })
    });
    assert!(freed.is_some(), "the nested lock was left held");
    guard.release().await.unwrap();
    testkit::assert_freed_at_once(outer.server_name().unwrap());
}

/// A task that drops a guard (its release then runs on another task) and
/// takes the lock again at once is not re-entering: it gets the lock, and
/// when everything is released the server holds nothing (the server
/// counts the session's grants; each release undoes its own). Found by
/// the cancellation test: annotated calls cut in their body.
#[tokio::test(flavor = "current_thread")]
async fn a_dropped_guard_is_taken_again_at_once() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("task-drop-retake"));
    for _ in 0..20 {
        let guard = lock.acquire_async().await.unwrap();
        // On this one thread, the release can't run before the next acquire.
        drop(guard);
    }
    let last = lock.acquire_async().await.unwrap();
    let name = last.server_name().to_owned();
    last.release().await.unwrap();
    let freed = tokio::task::spawn_blocking(move || {
        within(Duration::from_secs(5), || testkit::holder(&name).is_none())
    })
    .await
    .unwrap();
    assert!(freed.is_some(), "a grant was never undone");
}

/// The background check covers async locks as sync ones: a task's lock
/// whose connection is killed is seen lost without `verify`, and a sound
/// one stays held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_check_sees_an_async_lock_lost() {
    testkit::setup();
    mysql_lock::set_check_interval(Duration::from_millis(50));
    let sound = Lock::new(testkit::unique("task-check-sound"))
        .acquire_async()
        .await
        .unwrap();
    let killed = tokio::spawn(async {
        Lock::new(testkit::unique("task-check-killed"))
            .acquire_async()
            .await
            .unwrap()
    })
    .await
    .unwrap();
    use mysql::prelude::Queryable;
    let id = killed.connection_id();
    tokio::task::spawn_blocking(move || {
        testkit::admin()
            .query_drop(format!("KILL CONNECTION {id}"))
            .unwrap()
    })
    .await
    .unwrap();
    let started = Instant::now();
    while !killed.is_lost() && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seen = started.elapsed();
    mysql_lock::set_check_interval(mysql_lock::DEFAULT_CHECK_INTERVAL);
    assert!(killed.is_lost(), "not seen lost after {seen:?}");
    testkit::report(&format!(
        "a killed async holder was seen lost after {seen:?}"
    ));
    assert!(!sound.is_lost());
    let err = killed.release().await.unwrap_err();
    assert!(matches!(err, Error::LockLost { .. }), "{err:?}");
    sound.release().await.unwrap();
}
