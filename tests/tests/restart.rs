//! A server restart while a lock is held and another worker waits: the loss
//! is detected, the errors are clear, and the first acquire after the
//! restart succeeds. Runs against a private server of its own, so that
//! restarting it disturbs nothing else.

use mysql_lock::{Error, Lock};
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn a_restart_is_detected_and_the_pool_recovers() {
    let server = testkit::PrivateServer::start()
        .expect("this test needs mariadbd installed, to restart a server of its own");
    mysql_lock::register("restarting", &server.url()).unwrap();
    mysql_lock::set_check_interval(Duration::from_millis(100));
    let name = testkit::unique("restart");
    let lock = Lock::new(name.as_str())
        .using("restarting")
        .timeout(Duration::from_secs(60));

    // Fill the pool with an idle connection, which the restart will kill.
    lock.acquire().unwrap().release().unwrap();

    let guard = lock.acquire().unwrap();
    let waiter = {
        let lock = lock.clone();
        thread::spawn(move || {
            let started = Instant::now();
            let result = lock.acquire().map(drop);
            (result, started.elapsed())
        })
    };
    thread::sleep(Duration::from_millis(200));
    let restarting = Instant::now();
    server.restart().expect("restart");
    testkit::report(&format!("restart took {:?}", restarting.elapsed()));

    // The waiter fails with a connection error, clearly, not a timeout.
    let (result, waited) = waiter.join().unwrap();
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Disconnected { .. }), "{err:?}");
    assert!(waited < Duration::from_secs(30), "{waited:?}");
    testkit::report(&format!("the waiter saw: {err}"));

    // The holder's loss is detected by the background check.
    let started = Instant::now();
    while !guard.is_lost() && started.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(10));
    }
    assert!(guard.is_lost(), "the restart was not noticed");
    assert!(matches!(guard.release(), Err(Error::LockLost { .. })));

    // The first acquire after the restart succeeds: dead pooled connections
    // are dropped and replaced.
    let again = lock.acquire().expect("the first acquire after the restart");
    again.release().unwrap();
    let other_thread = {
        let lock = lock.clone();
        thread::spawn(move || lock.acquire().map(|g| g.release()))
    };
    assert!(matches!(other_thread.join().unwrap(), Ok(Ok(()))));
}
