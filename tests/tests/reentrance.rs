//! Re-entrance fails at once; opposite lock orders surface as `Deadlock`.

use mysql_lock::{Error, Lock};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn reentrance_fails_at_once() {
    testkit::setup();
    let name = testkit::unique("reentrant");
    let lock = Lock::new(name.as_str()).timeout(Duration::from_secs(10));
    let guard = lock.acquire().unwrap();
    let started = Instant::now();
    let err = lock.acquire().unwrap_err();
    assert!(matches!(err, Error::Reentrant { .. }), "{err:?}");
    assert!(matches!(lock.try_acquire(), Err(Error::Reentrant { .. })));
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "no wait for the timeout"
    );
    // The failed attempts did not nest on the server: one release frees it.
    let server_name = lock.server_name().unwrap().to_owned();
    guard.release().unwrap();
    assert_eq!(testkit::holder(&server_name), None);
    // And it can be taken again.
    lock.acquire().unwrap().release().unwrap();
}

#[test]
fn a_thread_holds_several_locks_on_one_connection() {
    testkit::setup();
    let a = Lock::new(testkit::unique("multi-a"));
    let b = Lock::new(testkit::unique("multi-b"));
    let ga = a.acquire().unwrap();
    let gb = b.acquire().unwrap();
    assert_eq!(ga.connection_id(), gb.connection_id());
    // Releasing in either order works and frees both.
    ga.release().unwrap();
    assert_eq!(
        testkit::holder(b.server_name().unwrap()),
        Some(gb.connection_id())
    );
    gb.release().unwrap();
    assert_eq!(testkit::holder(a.server_name().unwrap()), None);
    assert_eq!(testkit::holder(b.server_name().unwrap()), None);
}

#[test]
fn opposite_orders_surface_as_deadlock_quickly() {
    testkit::setup();
    let x = testkit::unique("deadlock-x");
    let y = testkit::unique("deadlock-y");
    let barrier = Arc::new(Barrier::new(2));
    let worker = |first: String, second: String| {
        let barrier = barrier.clone();
        thread::spawn(move || {
            let timeout = Duration::from_secs(10);
            let held = Lock::new(first.as_str())
                .timeout(timeout)
                .acquire()
                .unwrap();
            barrier.wait();
            let started = Instant::now();
            let result = Lock::new(second.as_str()).timeout(timeout).acquire();
            let waited = started.elapsed();
            // The loser must let go so the winner can finish.
            let outcome = match result {
                Ok(guard) => {
                    guard.release().unwrap();
                    Ok(())
                }
                Err(err) => Err(err),
            };
            held.release().unwrap();
            (outcome, waited)
        })
    };
    let one = worker(x.clone(), y.clone());
    let two = worker(y.clone(), x.clone());
    let results = [one.join().unwrap(), two.join().unwrap()];
    let deadlocks: Vec<_> = results
        .iter()
        .filter(|(r, _)| matches!(r, Err(Error::Deadlock { .. })))
        .collect();
    assert_eq!(deadlocks.len(), 1, "exactly one victim: {results:?}");
    assert!(
        deadlocks[0].1 < Duration::from_secs(1),
        "seen within a second: {results:?}"
    );
    assert!(
        results.iter().any(|(r, _)| r.is_ok()),
        "the other side gets its lock: {results:?}"
    );
    assert_eq!(
        testkit::holder(Lock::new(x.as_str()).server_name().unwrap()),
        None
    );
    assert_eq!(
        testkit::holder(Lock::new(y.as_str()).server_name().unwrap()),
        None
    );
}

// Re-entrance no macro can see: through a function pointer, a trait object
// and another crate. The runtime refuses it at once with `Reentrant`.

#[mysql_lock::mysql_lock(name = "backstop", timeout = 10)]
fn takes_backstop() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock::mysql_lock(name = "backstop", timeout = 10)]
fn call_through_pointer(callback: fn() -> Result<(), Error>) -> Result<(), Error> {
    callback()
}

trait Job {
    fn run(&self) -> Result<(), Error>;
}

struct BackstopJob;

impl Job for BackstopJob {
    #[mysql_lock::mysql_lock(name = "backstop", timeout = 10)]
    fn run(&self) -> Result<(), Error> {
        Ok(())
    }
}

#[mysql_lock::mysql_lock(name = "backstop", timeout = 10)]
fn call_through_trait_object(job: &dyn Job) -> Result<(), Error> {
    job.run()
}

#[test]
fn reentrance_no_macro_can_see_fails_at_once() {
    testkit::setup();
    type Call = fn() -> Result<(), Error>;
    let calls: [(&str, Call); 3] = [
        ("function pointer", || call_through_pointer(takes_backstop)),
        ("trait object", || call_through_trait_object(&BackstopJob)),
        ("another crate", || {
            call_through_pointer(testkit::backstop_in_another_crate)
        }),
    ];
    for (how, call) in calls {
        let started = Instant::now();
        let result = call();
        let took = started.elapsed();
        assert!(
            matches!(result, Err(Error::Reentrant { .. })),
            "{how}: {result:?}"
        );
        assert!(
            took < Duration::from_millis(100),
            "{how}: took {took:?}, not at once"
        );
    }
    // Each way in on its own takes the lock normally.
    takes_backstop().unwrap();
    BackstopJob.run().unwrap();
    testkit::backstop_in_another_crate().unwrap();
    assert_eq!(testkit::holder("test.backstop"), None);
}
