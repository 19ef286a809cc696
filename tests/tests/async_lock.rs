//! The async API (feature `async`): exclusion across tasks and processes,
//! timeouts, try-acquire, lost locks, guards dropped with and without a
//! runtime, and cancellation at random points, which must leave no lock
//! held and no server session waiting.
//!
//! Tests that count server sessions use a database of their own, so that
//! `information_schema.PROCESSLIST`'s `DB` column tells their connections
//! from everyone else's (the statement's text shows no lock name: names
//! travel as parameters).

use mysql::prelude::Queryable;
use mysql_lock::{Error, Lock};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::{url_with_db, waiting_sessions, within};

const HELPER: &str = env!("CARGO_BIN_EXE_lock-helper");

/// Registers alias `db` on database `db`; returns the URL.
fn register_db(db: &str) -> String {
    let url = url_with_db(db);
    mysql_lock::register(db, &url).expect("register");
    url
}

/// `lock-helper hold` on `url`; returns once the other process holds
/// `name`, with its connection id.
fn hold_elsewhere(url: &str, name: &str, seconds: f64) -> (Child, u64) {
    testkit::hold_in_another_process_at(HELPER, url, name, seconds)
}

/// `KILL` statements the server has run (global: other tests' count too).
fn kills() -> u64 {
    testkit::admin()
        .query_first::<(String, u64), _>("SHOW GLOBAL STATUS LIKE 'Com_kill'")
        .expect("Com_kill")
        .map_or(0, |(_, n)| n)
}

/// A small deterministic generator (xorshift), seeded from the clock.
struct Random(u64);

impl Random {
    fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        testkit::report(&format!("random seed {seed}"));
        Random(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_on_one_runtime_exclude_each_other() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("async-tasks")).timeout(Duration::from_secs(10));

    // One holds, the other waits for the release.
    let first = lock.acquire_async().await.unwrap();
    let waiter = {
        let lock = lock.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let guard = lock.acquire_async().await.unwrap();
            let waited = started.elapsed();
            guard.release().await.unwrap();
            waited
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "the second task must wait");
    first.release().await.unwrap();
    let waited = waiter.await.unwrap();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");

    // Many tasks, many turns: never two inside at once.
    let inside = Arc::new(AtomicBool::new(false));
    let turns = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (lock, inside, turns) = (lock.clone(), inside.clone(), turns.clone());
            tokio::spawn(async move {
                for _ in 0..25 {
                    let guard = lock.acquire_async().await.unwrap();
                    assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    inside.store(false, Ordering::SeqCst);
                    turns.fetch_add(1, Ordering::Relaxed);
                    guard.release().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(turns.load(Ordering::Relaxed), 100);
    assert_eq!(lock.holding_connection_id_async().await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_excludes_and_timeouts_are_kept() {
    let url = testkit::setup();
    let lock = Lock::new(testkit::unique("async-process"));
    let server_name = lock.server_name().unwrap().to_owned();
    let (mut child, holder_id) =
        tokio::task::block_in_place(|| hold_elsewhere(url, lock.name(), 1.5));

    assert!(lock.is_held_async().await.unwrap());
    assert_eq!(
        lock.holding_connection_id_async().await.unwrap(),
        Some(holder_id)
    );
    assert!(lock.try_acquire_async().await.unwrap().is_none());

    let short = lock.clone().timeout(Duration::from_millis(300));
    let started = Instant::now();
    let err = short.acquire_async().await.unwrap_err();
    let waited = started.elapsed();
    match &err {
        Error::Timeout { name, holder, .. } => {
            assert_eq!(name, &server_name);
            assert_eq!(holder.as_ref().map(|h| h.connection_id), Some(holder_id));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        waited >= Duration::from_millis(290) && waited < Duration::from_millis(1300),
        "{waited:?}"
    );

    // Taken as soon as the other process lets go.
    let guard = lock
        .clone()
        .timeout(Duration::from_secs(10))
        .acquire_async()
        .await
        .unwrap();
    assert_eq!(
        lock.holding_connection_id_async().await.unwrap(),
        Some(guard.connection_id())
    );
    assert_eq!(guard.name(), lock.name());
    assert!(!guard.is_lost());
    assert!(guard.held_for() < Duration::from_secs(1));
    guard.release().await.unwrap();
    tokio::task::block_in_place(|| child.wait()).unwrap();
    assert!(!lock.is_held_async().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_holder_is_reported_lost() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("async-lost"));
    let mut admin = testkit::admin();

    let mut verified = lock.acquire_async().await.unwrap();
    verified.verify().await.unwrap();
    admin
        .query_drop(format!("KILL CONNECTION {}", verified.connection_id()))
        .unwrap();
    let err = verified.verify().await.unwrap_err();
    assert!(matches!(err, Error::LockLost { .. }), "{err:?}");
    assert!(verified.is_lost());
    let err = verified.release().await.unwrap_err();
    assert!(matches!(err, Error::LockLost { .. }), "{err:?}");

    let released = lock.acquire_async().await.unwrap();
    admin
        .query_drop(format!("KILL CONNECTION {}", released.connection_id()))
        .unwrap();
    let err = released.release().await.unwrap_err();
    assert!(matches!(err, Error::LockLost { .. }), "{err:?}");

    // The pool never hands out the dead connections: the next lock works.
    lock.acquire_async().await.unwrap().release().await.unwrap();
}

#[test]
fn dropped_guards_free_their_locks_with_and_without_a_runtime() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("async-drop"));
    let server_name = lock.server_name().unwrap().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    // Dropped on the runtime: released by a task.
    runtime.block_on(async {
        let guard = lock.acquire_async().await.unwrap();
        assert!(testkit::holder(&server_name).is_some());
        drop(guard);
    });
    let freed = within(Duration::from_secs(5), || {
        testkit::holder(&server_name).is_none()
    });
    testkit::report(&format!(
        "a guard dropped on the runtime: freed after {freed:?}"
    ));
    assert!(freed.is_some(), "the dropped guard's lock is still held");

    // Dropped after the runtime is gone: the connection is closed.
    let guard = runtime.block_on(lock.acquire_async()).unwrap();
    drop(runtime);
    assert!(testkit::holder(&server_name).is_some());
    drop(guard);
    let freed = within(Duration::from_secs(5), || {
        testkit::holder(&server_name).is_none()
    });
    testkit::report(&format!(
        "a guard dropped without a runtime: freed after {freed:?}"
    ));
    assert!(freed.is_some(), "the dropped guard's lock is still held");
}

/// One acquire without limit cancelled while it waits in `GET_LOCK`: how
/// long until its server session stops waiting; and the same when the runtime itself
/// shuts down under the wait. The lock is never taken on our behalf.
#[test]
fn a_cancelled_wait_ends_its_server_session_at_once() {
    testkit::setup();
    let db = "mysql_lock_async_cancel_one";
    let url = register_db(db);
    let mut admin = testkit::admin();
    // Without limit: nothing but the KILL would end the server's wait.
    let lock = Lock::new(testkit::unique("async-cancel-one"))
        .using(db)
        .wait_forever();
    let server_name = lock.server_name().unwrap().to_owned();
    let (mut child, holder_id) = hold_elsewhere(&url, lock.name(), 3.0);

    for shutdown in [false, true] {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let task = {
            let lock = lock.clone();
            runtime.spawn(async move { lock.acquire_async().await })
        };
        assert!(
            within(Duration::from_secs(5), || waiting_sessions(&mut admin, db)
                == 1)
            .is_some(),
            "the acquire never reached GET_LOCK"
        );
        if shutdown {
            drop(runtime);
        } else {
            task.abort();
        }
        let gone = within(Duration::from_secs(5), || {
            waiting_sessions(&mut admin, db) == 0
        });
        testkit::report(&format!(
            "a cancelled acquire ({}): its server session stopped waiting after {gone:?}",
            if shutdown {
                "runtime shut down"
            } else {
                "task aborted"
            }
        ));
        assert!(
            gone.is_some(),
            "a cancelled acquire still waits on the server"
        );
        assert_eq!(testkit::holder(&server_name), Some(holder_id));
    }
    child.wait().unwrap();
    assert_eq!(
        testkit::holder(&server_name),
        None,
        "granted to a cancelled wait"
    );
}

/// The annotated call the cancellation test cuts: holds `name` (of the
/// test's alias) for `micros`.
#[mysql_lock::mysql_lock(name = "{name}", using = "mysql_lock_async_cancel_many", timeout = 10)]
async fn locked(name: &str, micros: u64) -> Result<(), Error> {
    tokio::time::sleep(Duration::from_micros(micros)).await;
    Ok(())
}

/// A thousand acquires cancelled at random points (before the connection,
/// while waiting, just as the lock is granted, through `timeout` and
/// through `abort`; annotated calls cut while waiting, in their body or
/// releasing; nested waits cut in a task that holds another lock, which
/// must stay held) while other tasks take and release the same locks.
/// Afterwards nothing of ours is held or waiting, and another process
/// takes every lock at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_acquires_leak_nothing() {
    testkit::setup();
    let db = "mysql_lock_async_cancel_many";
    let url = register_db(db);
    let locks: Vec<Lock> = (0..4)
        .map(|_| {
            Lock::new(testkit::unique("async-cancel"))
                .using(db)
                .timeout(Duration::from_secs(10))
        })
        .collect();
    let kills_before = kills();
    let started = Instant::now();

    // Holders: take a random lock, hold it briefly, release; repeat.
    let stop = Arc::new(AtomicBool::new(false));
    let holders: Vec<_> = (0..2)
        .map(|_| {
            let (locks, stop) = (locks.clone(), stop.clone());
            tokio::spawn(async move {
                let mut random = Random::new();
                let mut turns = 0;
                while !stop.load(Ordering::Relaxed) {
                    let lock = &locks[random.below(locks.len() as u64) as usize];
                    let guard = lock.acquire_async().await.unwrap();
                    tokio::time::sleep(Duration::from_micros(random.below(3000))).await;
                    guard.release().await.unwrap();
                    turns += 1;
                }
                turns
            })
        })
        .collect();

    const CANCELLATIONS: usize = 1000;
    let mut random = Random::new();
    let (mut cancelled, mut acquired, mut aborted) = (0, 0, 0);
    // Nested waits cut while the task holds this one: it must stay held.
    let outer = Lock::new(testkit::unique("async-cancel-outer")).using(db);
    for i in 0..CANCELLATIONS {
        let lock = locks[random.below(locks.len() as u64) as usize].clone();
        let after = Duration::from_micros(random.below(4000));
        if i % 8 == 5 {
            // An annotated call cut anywhere: waiting, in its body, releasing.
            let body = random.below(2000);
            match tokio::time::timeout(after, locked(lock.name(), body)).await {
                Err(_) => cancelled += 1,
                Ok(Ok(())) => acquired += 1,
                Ok(Err(err)) => panic!("{err:?}"),
            }
        } else if i % 8 == 1 {
            // A nested wait cut in a task that holds `outer`.
            let outer = outer.clone();
            let nested = tokio::spawn(async move {
                let mut held = outer.acquire_async().await.unwrap();
                let cut = match tokio::time::timeout(after, lock.acquire_async()).await {
                    Err(_) => true,
                    Ok(guard) => {
                        guard.unwrap().release().await.unwrap();
                        false
                    }
                };
                held.verify().await.unwrap();
                held.release().await.unwrap();
                cut
            });
            if nested.await.unwrap() {
                cancelled += 1;
            } else {
                acquired += 1;
            }
        } else if i % 4 == 3 {
            let task = tokio::spawn(async move { lock.acquire_async().await });
            tokio::time::sleep(after).await;
            task.abort();
            match task.await {
                Err(join) if join.is_cancelled() => aborted += 1,
                Ok(Ok(guard)) => {
                    acquired += 1;
                    if random.below(2) == 0 {
                        drop(guard);
                    } else {
                        guard.release().await.unwrap();
                    }
                }
                other => panic!("{other:?}"),
            }
        } else {
            match tokio::time::timeout(after, lock.acquire_async()).await {
                Err(_) => cancelled += 1,
                Ok(Ok(guard)) => {
                    acquired += 1;
                    guard.release().await.unwrap();
                }
                Ok(Err(err)) => panic!("{err:?}"),
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut turns = 0;
    for holder in holders {
        turns += holder.await.unwrap();
    }
    let churn = started.elapsed();

    // Nothing held, nothing waiting: at once, or within a moment for the
    // kills and releases still under way.
    let settled = tokio::task::block_in_place(|| {
        let mut admin = testkit::admin();
        within(Duration::from_secs(5), || {
            waiting_sessions(&mut admin, db) == 0
                && locks
                    .iter()
                    .chain([&outer])
                    .all(|lock| testkit::holder(lock.server_name().unwrap()).is_none())
        })
    });
    let kills = tokio::task::block_in_place(kills) - kills_before;
    testkit::report(&format!(
        "{CANCELLATIONS} cancellable acquires in {churn:?}: {cancelled} cancelled by timeout, \
         {aborted} aborted, {acquired} acquired; holders took {turns} turns; settled after \
         {settled:?}; about {kills} KILLs of waits (the server's Com_kill, global)"
    ));
    assert!(settled.is_some(), "a lock or a wait leaked");
    assert!(
        cancelled + aborted > CANCELLATIONS / 4,
        "too few real cancellations"
    );

    // Another process takes every lock at once.
    for lock in &locks {
        let taken = Instant::now();
        let (mut child, _) = tokio::task::block_in_place(|| hold_elsewhere(&url, lock.name(), 0.0));
        tokio::task::block_in_place(|| child.wait()).unwrap();
        assert!(
            taken.elapsed() < Duration::from_secs(3),
            "another process waited {:?}",
            taken.elapsed()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minimum_hold_keeps_the_lock_after_release() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("async-min-hold")).min_hold(Duration::from_millis(600));
    let guard = lock.acquire_async().await.unwrap();
    let started = Instant::now();
    guard.release().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(100));
    assert!(lock.try_acquire_async().await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(900)).await;
    let again = lock.try_acquire_async().await.unwrap();
    assert!(again.is_some(), "still held after its minimum hold time");
    drop(again);

    // A dropped guard keeps it too.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let dropped = lock.acquire_async().await.unwrap();
    drop(dropped);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(lock.try_acquire_async().await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(lock.try_acquire_async().await.unwrap().is_some());
}

/// A pooled connection serves only the runtime that opened it: here the
/// first runtime still exists but is not running, so its connection would
/// never see an answer on the second.
#[test]
fn connections_stay_with_their_runtime() {
    testkit::setup();
    let db = "mysql_lock_async_runtimes";
    register_db(db);
    let lock = Lock::new(testkit::unique("async-runtimes"))
        .using(db)
        .timeout(Duration::from_secs(2));
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    first.block_on(async { lock.acquire_async().await.unwrap().release().await.unwrap() });
    let second = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    second.block_on(async { lock.acquire_async().await.unwrap().release().await.unwrap() });
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // And back: the second one's connection is closed when met; the first
    // opens another, which `close_idle_connections` closes.
    first.block_on(async { lock.acquire_async().await.unwrap().release().await.unwrap() });
    assert_eq!(mysql_lock::close_idle_connections(db).unwrap(), 1);
}

/// A `verify` dropped before its answer leaves the connection in the middle
/// of a statement: the guard then reports the lock lost, and closing the
/// connection frees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_verify_loses_the_lock_cleanly() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("async-verify-cut"));
    let server_name = lock.server_name().unwrap().to_owned();
    let mut guard = lock.acquire_async().await.unwrap();
    // The answer may come within the first poll: try until one is cut.
    let cut_at = {
        let mut cut_at = None;
        for attempt in 1..=10_000 {
            if tokio::time::timeout(Duration::ZERO, guard.verify())
                .await
                .is_err()
            {
                cut_at = Some(attempt);
                break;
            }
        }
        cut_at
    };
    testkit::report(&format!("verify cut at attempt {cut_at:?}"));
    if cut_at.is_none() {
        // Every answer came within the first poll: nothing to check.
        guard.release().await.unwrap();
        return;
    }
    let err = guard.release().await.unwrap_err();
    assert!(matches!(err, Error::LockLost { .. }), "{err:?}");
    let freed = tokio::task::block_in_place(|| {
        within(Duration::from_secs(5), || {
            testkit::holder(&server_name).is_none()
        })
    });
    assert!(freed.is_some(), "the lock outlived its closed connection");
}

/// `pool_max` bounds the async connections too: the wait for one counts
/// against the lock's timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_async_pool_is_reported() {
    testkit::setup();
    let db = "mysql_lock_async_pool";
    let url = url_with_db(db);
    let separator = if url.contains('?') { '&' } else { '?' };
    mysql_lock::register(db, &format!("{url}{separator}pool_max=1")).unwrap();
    let first = Lock::new(testkit::unique("async-pool")).using(db);
    let second = Lock::new(testkit::unique("async-pool"))
        .using(db)
        .timeout(Duration::from_millis(200));
    let guard = first.acquire_async().await.unwrap();
    // Another task: this one's locks share its connection.
    let err = tokio::spawn(async move { second.acquire_async().await.unwrap_err() })
        .await
        .unwrap();
    assert!(
        matches!(err, Error::PoolExhausted { max_size: 1, .. }),
        "{err:?}"
    );
    guard.release().await.unwrap();
    Lock::new(testkit::unique("async-pool"))
        .using(db)
        .timeout(Duration::from_millis(200))
        .acquire_async()
        .await
        .unwrap()
        .release()
        .await
        .unwrap();
}
