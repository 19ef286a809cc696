//! A `GET_LOCK` the client gives up on must not leave a server session
//! that can still win the lock: the session is killed from another
//! connection before the error is returned. And the driver's
//! `read_timeout` bounds other statements, never a lock's own wait.

use mysql_lock::{Error, Lock};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Holds `name` directly on the server on another thread until told.
fn hold(name: &str) -> (mpsc::Sender<()>, thread::JoinHandle<()>) {
    let (held_tx, held_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let lock = Lock::new(name);
    let handle = thread::spawn(move || {
        let guard = lock.acquire().expect("holder acquires");
        held_tx.send(()).unwrap();
        let _ = stop_rx.recv();
        guard.release().expect("holder releases");
    });
    held_rx.recv().unwrap();
    (stop_tx, handle)
}

#[test]
fn read_timeout_never_cuts_a_lock_wait_short() {
    let url = testkit::setup();
    let opts = mysql::Opts::from_url(url).unwrap();
    let opts = mysql::OptsBuilder::from_opts(opts).read_timeout(Some(Duration::from_secs(1)));
    mysql_lock::register_opts("short-reads", opts.into()).unwrap();
    for timeout in [Duration::from_secs(10), Lock::FOREVER] {
        let name = testkit::unique("short-reads");
        let (stop, holder) = hold(&name);

        // This thread holds another lock on the same alias's session.
        let other = Lock::new(testkit::unique("short-reads-other"))
            .using("short-reads")
            .acquire()
            .unwrap();
        let releaser = thread::spawn(move || {
            thread::sleep(Duration::from_millis(2500));
            stop.send(()).unwrap();
        });
        let started = Instant::now();
        let result = Lock::new(name.as_str())
            .using("short-reads")
            .timeout(timeout)
            .acquire();
        let waited = started.elapsed();
        testkit::report(&format!(
            "with read_timeout=1s, acquire({timeout:?}) of a lock released after 2.5 s: \
             {:?} after {waited:?}",
            result.as_ref().map(|g| g.connection_id())
        ));
        let guard = result.expect("the wait is not cut short by read_timeout");
        assert!(waited >= Duration::from_millis(2400), "{waited:?}");
        assert!(!other.is_lost(), "the thread's other lock was lost");
        assert_eq!(guard.connection_id(), other.connection_id());
        guard.release().unwrap();
        other.release().unwrap();
        releaser.join().unwrap();
        holder.join().unwrap();
    }
}

#[test]
fn an_abandoned_wait_is_ended_on_the_server() {
    testkit::setup();
    let proxy = testkit::Proxy::start();
    mysql_lock::register("abandoning", &proxy.url()).unwrap();
    let name = testkit::unique("abandoned");
    let (stop, holder) = hold(&name);

    let waiter = {
        let lock = Lock::new(name.as_str())
            .using("abandoning")
            .timeout(Duration::from_secs(2));
        thread::spawn(move || {
            let started = Instant::now();
            let result = lock.acquire().map(|guard| guard.connection_id());
            (result, started.elapsed())
        })
    };
    // The waiter is in GET_LOCK; its path to the server breaks (new
    // connections still work), then the holder releases: the server grants
    // the lock to the waiter's session, whose answer never arrives.
    thread::sleep(Duration::from_millis(300));
    proxy.freeze_existing();
    thread::sleep(Duration::from_millis(200));
    stop.send(()).unwrap();
    holder.join().unwrap();

    let (result, waited) = waiter.join().unwrap();
    testkit::report(&format!(
        "a waiter whose answer never came returned after {waited:?}: {result:?}"
    ));
    assert!(
        matches!(result, Err(Error::Unanswered { .. })),
        "{result:?}"
    );
    assert!(waited < Duration::from_secs(4), "{waited:?}");
    // Its session was killed before the error was returned: the lock the
    // server granted it is free, and another worker gets it at once.
    let server_name = Lock::new(name.as_str()).server_name().unwrap().to_owned();
    assert_eq!(testkit::holder(&server_name), None);
    Lock::new(name.as_str())
        .timeout(Duration::ZERO)
        .acquire()
        .expect("free for another worker")
        .release()
        .unwrap();
}
