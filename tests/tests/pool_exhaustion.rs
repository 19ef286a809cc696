//! More concurrent lockers than pool connections: waits stay bounded by the
//! lock's timeout and the error says what happened.

use mysql_lock::{Error, Lock};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn waits_for_a_connection_are_bounded_by_the_timeout() {
    let url = testkit::setup();
    let separator = if url.contains('?') { '&' } else { '?' };
    mysql_lock::register(
        "two-conns",
        &format!("{url}{separator}pool_min=1&pool_max=2"),
    )
    .unwrap();
    assert_eq!(mysql_lock::pool_status("two-conns").unwrap().max_size, 2);

    // Two threads hold a lock each, so both connections are in use.
    let (held_tx, held_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let stop_rx = std::sync::Arc::new(std::sync::Mutex::new(stop_rx));
    let holders: Vec<_> = (0..2)
        .map(|_| {
            let (held_tx, stop_rx) = (held_tx.clone(), stop_rx.clone());
            let lock = Lock::new(testkit::unique("busy")).using("two-conns");
            thread::spawn(move || {
                let guard = lock.acquire().unwrap();
                held_tx.send(()).unwrap();
                let _ = stop_rx.lock().unwrap().recv();
                guard.release().unwrap();
            })
        })
        .collect();
    held_rx.recv().unwrap();
    held_rx.recv().unwrap();
    assert_eq!(mysql_lock::pool_status("two-conns").unwrap().open, 2);

    // A third locker (another name) can't get a connection.
    let third = Lock::new(testkit::unique("third"))
        .using("two-conns")
        .timeout(Duration::from_millis(300));
    let started = Instant::now();
    let err = third.acquire().unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(err, Error::PoolExhausted { max_size: 2, .. }),
        "{err:?}"
    );
    assert!(
        waited >= Duration::from_millis(290) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    assert!(
        err.to_string().contains("pool_max"),
        "says what to do: {err}"
    );
    // try_acquire doesn't wait for a connection either.
    assert!(matches!(
        third.try_acquire(),
        Err(Error::PoolExhausted { .. })
    ));

    // When a holder lets go, the waiting locker gets its connection.
    let waiter = {
        let third = third.clone().timeout(Duration::from_secs(10));
        thread::spawn(move || third.acquire().map(|g| g.release()))
    };
    thread::sleep(Duration::from_millis(100));
    stop_tx.send(()).unwrap();
    assert!(matches!(waiter.join().unwrap(), Ok(Ok(()))));
    stop_tx.send(()).unwrap();
    for h in holders {
        h.join().unwrap();
    }
    let status = mysql_lock::pool_status("two-conns").unwrap();
    assert_eq!(
        status.idle, status.open,
        "every connection is back: {status:?}"
    );
}

#[test]
fn a_timeout_says_how_much_of_it_went_to_waiting_for_a_connection() {
    let url = testkit::setup();
    let separator = if url.contains('?') { '&' } else { '?' };
    mysql_lock::register("one-conn", &format!("{url}{separator}pool_max=1")).unwrap();
    let contended = testkit::unique("contended");
    // Another thread holds the contended lock.
    let (outside_tx, outside_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let outside = {
        let lock = Lock::new(contended.as_str());
        thread::spawn(move || {
            let guard = lock.acquire().unwrap();
            outside_tx.send(()).unwrap();
            let _ = release_rx.recv();
            guard.release().unwrap();
        })
    };
    outside_rx.recv().unwrap();
    // The alias's only connection is busy for 400 ms.
    let (held_tx, held_rx) = mpsc::channel();
    let busy = {
        let lock = Lock::new(testkit::unique("busy-one")).using("one-conn");
        thread::spawn(move || {
            let guard = lock.acquire().unwrap();
            held_tx.send(()).unwrap();
            thread::sleep(Duration::from_millis(400));
            guard.release().unwrap();
        })
    };
    held_rx.recv().unwrap();
    let err = Lock::new(contended.as_str())
        .using("one-conn")
        .timeout(Duration::from_millis(800))
        .acquire()
        .unwrap_err();
    match &err {
        Error::Timeout {
            connection_wait, ..
        } => assert!(
            *connection_wait >= Duration::from_millis(300)
                && *connection_wait < Duration::from_millis(700),
            "{connection_wait:?}"
        ),
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("waiting for a free pooled connection"),
        "{err}"
    );
    busy.join().unwrap();
    release_tx.send(()).unwrap();
    outside.join().unwrap();
}
