//! Timeouts: `Timeout` after about the timeout, zero returns at once, a
//! release lets a waiter in, "forever" waits until the release.

use mysql_lock::{Error, Lock};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Holds `name` on another thread until told to stop; returns the stop
/// sender, the holder's join handle and its connection id.
fn hold_elsewhere(name: &str) -> (mpsc::Sender<()>, thread::JoinHandle<()>, u64) {
    let (held_tx, held_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let lock = Lock::new(name);
    let handle = thread::spawn(move || {
        let guard = lock.acquire().expect("holder acquires");
        held_tx.send(guard.connection_id()).unwrap();
        let _ = stop_rx.recv();
        guard.release().expect("holder releases");
    });
    let id = held_rx.recv().expect("holder started");
    (stop_tx, handle, id)
}

#[test]
fn times_out_after_about_the_timeout() {
    testkit::setup();
    let name = testkit::unique("timeout");
    let (stop, holder, holder_id) = hold_elsewhere(&name);
    for millis in [0u64, 150, 400] {
        let started = Instant::now();
        let err = Lock::new(name.as_str())
            .timeout(Duration::from_millis(millis))
            .acquire()
            .unwrap_err();
        let waited = started.elapsed();
        let message = err.to_string();
        match err {
            Error::Timeout {
                timeout,
                name: reported,
                connection_wait,
                holder,
            } => {
                assert_eq!(timeout, Duration::from_millis(millis));
                assert_eq!(reported, format!("test.{name}"));
                assert!(
                    connection_wait < Duration::from_millis(50),
                    "{connection_wait:?}"
                );
                // Who holds it, as the server says, and that it is a thread
                // of this test process.
                let holder = holder.expect("the holder is described");
                assert_eq!(holder.connection_id, holder_id);
                assert!(holder.user.is_some() && holder.host.is_some(), "{holder:?}");
                let thread = holder.thread.expect("the holder is found in this process");
                assert!(thread.starts_with("thread `"), "{thread}");
                assert!(
                    message.contains(&format!("connection {holder_id}")),
                    "{message}"
                );
                assert!(
                    message.contains("the holder is in this process"),
                    "{message}"
                );
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert!(
            waited >= Duration::from_millis(millis),
            "{millis} ms: gave up early ({waited:?})"
        );
        assert!(
            waited < Duration::from_millis(millis + 400),
            "{millis} ms: waited {waited:?}"
        );
    }
    stop.send(()).unwrap();
    holder.join().unwrap();
}

#[test]
fn try_acquire_is_one_attempt() {
    testkit::setup();
    let name = testkit::unique("try");
    let (stop, holder, _) = hold_elsewhere(&name);
    let started = Instant::now();
    assert!(Lock::new(name.as_str()).try_acquire().unwrap().is_none());
    assert!(started.elapsed() < Duration::from_millis(300));
    stop.send(()).unwrap();
    holder.join().unwrap();
    let guard = Lock::new(name.as_str())
        .try_acquire()
        .unwrap()
        .expect("free now");
    guard.release().unwrap();
}

#[test]
fn release_lets_a_waiter_in() {
    testkit::setup();
    let name = testkit::unique("handoff");
    for timeout in [Duration::from_secs(20), Lock::FOREVER] {
        let (stop, holder, _) = hold_elsewhere(&name);
        let waiter = {
            let lock = Lock::new(name.as_str()).timeout(timeout);
            thread::spawn(move || {
                let started = Instant::now();
                let guard = lock.acquire().expect("waiter acquires after the release");
                let waited = started.elapsed();
                guard.release().unwrap();
                waited
            })
        };
        thread::sleep(Duration::from_millis(300));
        stop.send(()).unwrap();
        holder.join().unwrap();
        let waited = waiter.join().unwrap();
        assert!(
            waited >= Duration::from_millis(250),
            "the waiter did not wait: {waited:?}"
        );
        assert!(
            waited < Duration::from_secs(5),
            "the release did not wake the waiter: {waited:?}"
        );
    }
    assert_eq!(
        testkit::holder(Lock::new(name.as_str()).server_name().unwrap()),
        None
    );
}
