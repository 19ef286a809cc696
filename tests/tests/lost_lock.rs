//! Lost locks are noticed: `KILL CONNECTION` of the holder is detected
//! within the check interval, another worker gets the lock, and the guard's
//! release reports `LockLost`. `KILL QUERY` of a waiter is an error, not a
//! timeout.

use mysql::prelude::Queryable;
use mysql_lock::{Error, Lock};
use std::thread;
use std::time::{Duration, Instant};
use testkit::within;

const INTERVAL: Duration = Duration::from_millis(100);

fn kill(what: &str, id: u64) {
    testkit::admin()
        .query_drop(format!("KILL {what} {id}"))
        .unwrap();
}

#[test]
fn killing_the_holder_is_detected_and_reported() {
    testkit::setup();
    mysql_lock::set_check_interval(INTERVAL);
    let lock = Lock::new(testkit::unique("killed"));
    let guard = lock.acquire().unwrap();
    assert!(!guard.is_lost());
    assert!(!mysql_lock::current().unwrap().is_lost());
    guard.verify().unwrap();

    kill("CONNECTION", guard.connection_id());
    let detected = within(Duration::from_secs(3), || guard.is_lost())
        .expect("the loss was not detected within 3 s");
    testkit::report(&format!(
        "KILL CONNECTION detected after {detected:?} (check interval {INTERVAL:?})"
    ));
    // Within the documented bound: one interval after the last check (the
    // acquisition), plus the check's round trip and scheduling slack.
    assert!(
        detected < INTERVAL + Duration::from_millis(100),
        "{detected:?}"
    );
    // The body of an annotated function sees it through current().
    let current = mysql_lock::current().expect("still registered as held");
    assert!(current.is_lost());
    assert_eq!(current.connection_id(), guard.connection_id());

    // Another worker gets the lock.
    let other = {
        let lock = lock.clone();
        thread::spawn(move || lock.try_acquire().map(|g| g.map(|g| g.connection_id())))
            .join()
            .unwrap()
    };
    assert!(
        matches!(other, Ok(Some(id)) if id != guard.connection_id()),
        "{other:?}"
    );

    // The guard says what happened.
    assert!(matches!(guard.verify(), Err(Error::LockLost { .. })));
    let err = guard.release().unwrap_err();
    assert!(matches!(err, Error::LockLost { .. }), "{err:?}");
    assert!(err.to_string().contains("lost"), "{err}");

    // The thread's session recovered: nothing held, a new lock works.
    assert!(mysql_lock::current().is_none());
    let again = lock.acquire().unwrap();
    assert_eq!(
        testkit::holder(lock.server_name().unwrap()),
        Some(again.connection_id())
    );
    again.release().unwrap();
}

#[test]
fn verify_notices_a_kill_before_the_background_check() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("verify"));
    let guard = lock.acquire().unwrap();
    kill("CONNECTION", guard.connection_id());
    assert!(matches!(guard.verify(), Err(Error::LockLost { .. })));
    assert!(guard.is_lost());
    assert!(matches!(guard.release(), Err(Error::LockLost { .. })));
    assert_eq!(testkit::holder(lock.server_name().unwrap()), None);
}

#[test]
fn killing_one_connection_loses_every_lock_on_it() {
    testkit::setup();
    let a = Lock::new(testkit::unique("sibling-a"));
    let b = Lock::new(testkit::unique("sibling-b"));
    let ga = a.acquire().unwrap();
    let gb = b.acquire().unwrap();
    kill("CONNECTION", ga.connection_id());
    assert!(matches!(ga.release(), Err(Error::LockLost { .. })));
    assert!(
        gb.is_lost(),
        "the sibling on the same connection is lost too"
    );
    assert!(matches!(gb.release(), Err(Error::LockLost { .. })));
}

#[test]
fn killing_a_waiters_query_is_an_error_not_a_timeout() {
    testkit::setup();
    let name = testkit::unique("kill-query");
    let lock = Lock::new(name.as_str()).timeout(Duration::from_secs(20));
    let holder = lock.acquire().unwrap();
    // The waiter first takes a lock of its own, which tells its session's
    // connection id: the one to kill, never another test's session.
    let (id_tx, id_rx) = std::sync::mpsc::channel();
    let waiter = {
        let lock = lock.clone();
        let own = Lock::new(testkit::unique("kill-query-own"));
        thread::spawn(move || {
            let own = own.acquire().unwrap();
            id_tx.send(own.connection_id()).unwrap();
            let started = Instant::now();
            let result = lock.acquire().map(|g| g.connection_id());
            let waited = started.elapsed();
            own.release().unwrap();
            (result, waited)
        })
    };
    let waiter_id: u64 = id_rx.recv().unwrap();
    // Wait until that session is inside GET_LOCK.
    within(Duration::from_secs(5), || {
        let info: Option<Option<String>> = testkit::admin()
            .exec_first(
                "SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = ?",
                (waiter_id,),
            )
            .unwrap();
        info.flatten()
            .is_some_and(|info| info.starts_with("SELECT GET_LOCK"))
    })
    .expect("the waiter never showed up in the process list");
    kill("QUERY", waiter_id);
    let (result, waited) = waiter.join().unwrap();
    assert!(
        matches!(result, Err(Error::Interrupted { .. })),
        "{result:?}"
    );
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    holder.release().unwrap();
    // The waiter's connection stayed usable and went back to the pool.
    lock.acquire().unwrap().release().unwrap();
}

/// Kills the connection holding this thread's innermost lock and waits
/// until the background check has noticed.
fn lose_current_lock() {
    let held = mysql_lock::current().expect("inside an annotated function");
    kill("CONNECTION", held.connection_id());
    within(Duration::from_secs(3), || held.is_lost()).expect("the loss was noticed");
    assert!(mysql_lock::current().unwrap().is_lost());
}

#[mysql_lock::mysql_lock(name = "lost-in-body")]
fn succeeds_after_losing_its_lock() -> Result<u32, Error> {
    lose_current_lock();
    Ok(42)
}

#[derive(Debug, PartialEq)]
enum JobError {
    Lock(String),
    Failed(&'static str),
}

impl From<Error> for JobError {
    fn from(err: Error) -> Self {
        JobError::Lock(err.to_string())
    }
}

#[mysql_lock::mysql_lock(name = "lost-in-body")]
fn fails_after_losing_its_lock() -> Result<u32, JobError> {
    lose_current_lock();
    Err(JobError::Failed("the job's own error"))
}

#[test]
fn an_annotated_function_that_lost_its_lock_says_so() {
    testkit::setup();
    mysql_lock::set_check_interval(INTERVAL);
    // The body succeeded, but another worker may have run meanwhile: the
    // caller gets LockLost instead of the value.
    let result = succeeds_after_losing_its_lock();
    assert!(matches!(result, Err(Error::LockLost { .. })), "{result:?}");
    // The body's own error is passed on as it is.
    assert_eq!(
        fails_after_losing_its_lock(),
        Err(JobError::Failed("the job's own error"))
    );
    // Nothing is left held, and the function works again.
    assert!(mysql_lock::current().is_none());
    assert_eq!(testkit::holder("test.lost-in-body"), None);
}

#[test]
fn a_lost_lock_released_last_leaves_no_connection_checked_out() {
    let url = testkit::setup();
    mysql_lock::register("lost-last", url).unwrap();
    let x = Lock::new(testkit::unique("lost-x")).using("lost-last");
    let y = Lock::new(testkit::unique("lost-y")).using("lost-last");
    let gx = x.acquire().unwrap();
    kill("CONNECTION", gx.connection_id());
    assert!(matches!(gx.verify(), Err(Error::LockLost { .. })));
    // A new lock of the same thread gets a new connection...
    let gy = y.acquire().unwrap();
    assert_ne!(gy.connection_id(), gx.connection_id());
    gy.release().unwrap();
    // ...which goes back to the pool although the lost lock is still listed.
    let status = mysql_lock::pool_status("lost-last").unwrap();
    assert_eq!(status.open, status.idle, "{status:?}");
    assert!(matches!(gx.release(), Err(Error::LockLost { .. })));
    let status = mysql_lock::pool_status("lost-last").unwrap();
    assert_eq!(status.open, status.idle, "{status:?}");
    // And the next lock reuses it.
    x.acquire().unwrap().release().unwrap();
    assert_eq!(mysql_lock::pool_status("lost-last").unwrap().open, 1);
}
