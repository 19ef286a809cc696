//! A minimum hold time (ShedLock's `lockAtLeastFor`): a lock released
//! sooner stays held until its time is up, across processes, without
//! holding up the caller; a process that exits meanwhile frees it.

use mysql_lock::{Error, Lock};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `lock-helper min-hold`; returns the child and how long its
/// release took, once it released.
fn released_elsewhere(
    name: &str,
    seconds: f64,
    stay_ms: u64,
) -> (std::process::Child, u64, Instant) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lock-helper"))
        .args([
            "min-hold",
            testkit::url(),
            name,
            &seconds.to_string(),
            &stay_ms.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let released_at = Instant::now();
    let took = line
        .trim()
        .strip_prefix("released ")
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("unexpected: {line:?}"));
    (child, took, released_at)
}

#[test]
fn a_lock_released_early_is_held_until_its_minimum_hold_time() {
    testkit::setup();
    let name = testkit::unique("min-hold");
    let lock = Lock::new(name.as_str());
    let (mut child, took, released_at) = released_elsewhere(&name, 1.5, 2500);
    // The caller was not held up.
    assert!(took < 100, "the release took {took} ms");
    // Held by the other process until 1.5 s after its acquisition.
    assert!(lock.try_acquire().unwrap().is_none());
    std::thread::sleep(Duration::from_millis(700));
    assert!(lock.try_acquire().unwrap().is_none());
    // Then released by its background thread, while the process lives on.
    let guard = lock
        .clone()
        .timeout(Duration::from_secs(5))
        .acquire()
        .expect("released when the time is up");
    let after = released_at.elapsed();
    testkit::report(&format!(
        "min_hold 1.5 s: the release returned in {took} ms; the lock came free {after:?} later"
    ));
    assert!(
        after >= Duration::from_millis(1300) && after < Duration::from_millis(2400),
        "{after:?}"
    );
    guard.release().unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_process_that_exits_during_its_minimum_hold_frees_the_lock() {
    testkit::setup();
    let name = testkit::unique("min-hold-exit");
    let (mut child, _, _) = released_elsewhere(&name, 30.0, 200);
    assert!(Lock::new(name.as_str()).try_acquire().unwrap().is_none());
    assert!(child.wait().unwrap().success());
    testkit::assert_freed_at_once(&name);
}

#[test]
fn the_same_thread_finds_its_lingering_lock_busy() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("min-hold-self")).min_hold(Duration::from_millis(800));
    let guard = lock.acquire().unwrap();
    assert!(mysql_lock::current().is_some());
    guard.release().unwrap();
    // Not the innermost lock of the thread any more, but still busy.
    assert!(mysql_lock::current().is_none());
    assert!(lock.try_acquire().unwrap().is_none());
    let err = lock.acquire().unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("minimum hold time"), "{err}");
    assert!(testkit::holder(lock.server_name().unwrap()).is_some());
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(testkit::holder(lock.server_name().unwrap()), None);
    lock.acquire().unwrap().release().unwrap();
}

#[test]
fn a_lost_lock_is_reported_lost_even_before_its_minimum_hold_time() {
    use mysql::prelude::Queryable;
    testkit::setup();
    let lock = Lock::new(testkit::unique("min-hold-lost")).min_hold(Duration::from_secs(30));
    let guard = lock.acquire().unwrap();
    testkit::admin()
        .query_drop(format!("KILL CONNECTION {}", guard.connection_id()))
        .unwrap();
    assert!(matches!(guard.verify(), Err(Error::LockLost { .. })));
    assert!(matches!(guard.release(), Err(Error::LockLost { .. })));
    // Not lingering: free, and the thread may take it again.
    lock.try_acquire()
        .unwrap()
        .expect("free")
        .release()
        .unwrap();
}

#[test]
fn a_thread_waiting_in_get_lock_delays_no_other_sessions_release() {
    testkit::setup();
    // Thread A: a lingering lock, then a long wait for a lock held elsewhere.
    let busy_name = testkit::unique("min-hold-busy");
    let outside = Lock::new(busy_name.as_str());
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let guard = outside.acquire().unwrap();
        held_tx.send(()).unwrap();
        let _ = stop_rx.recv();
        guard.release().unwrap();
    });
    held_rx.recv().unwrap();
    let waiter = {
        let own = Lock::new(testkit::unique("min-hold-a")).min_hold(Duration::from_millis(200));
        let busy = Lock::new(busy_name.as_str()).timeout(Duration::from_secs(3));
        std::thread::spawn(move || {
            own.acquire().unwrap().release().unwrap();
            busy.acquire().map(drop)
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    // This thread: a lingering lock due at 400 ms, while A still waits.
    let mine = Lock::new(testkit::unique("min-hold-b")).min_hold(Duration::from_millis(400));
    let started = Instant::now();
    mine.acquire().unwrap().release().unwrap();
    let other = std::thread::spawn({
        let mine = mine.clone();
        move || {
            while mine.try_acquire().unwrap().is_none() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    });
    other.join().unwrap();
    let freed = started.elapsed();
    assert!(
        freed < Duration::from_millis(900),
        "released after {freed:?}: held up by another session's wait"
    );
    stop_tx.send(()).unwrap();
    holder.join().unwrap();
    assert!(waiter.join().unwrap().is_ok());
}
