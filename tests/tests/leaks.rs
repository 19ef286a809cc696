//! After every kind of use and failure, the process holds no lock on the
//! server, and once idle connections are closed its number of server
//! connections is back where it started. Its own binary, so that no other
//! test opens connections meanwhile.

use mysql::prelude::Queryable;
use mysql_lock::{Error, Lock};
use std::thread;
use std::time::{Duration, Instant};

/// Server sessions other than `admin`'s own (and the server's daemons).
fn sessions(admin: &mut mysql::Conn) -> u64 {
    admin
        .query_first(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN ('Daemon', 'Binlog Dump')",
        )
        .unwrap()
        .unwrap()
}

#[test]
fn nothing_leaks() {
    testkit::setup();
    let mut admin = testkit::admin();
    let before = sessions(&mut admin);
    let mut names = Vec::new();
    let mut lock = |stem: &str| {
        let lock = Lock::new(testkit::unique(stem)).timeout(Duration::from_millis(100));
        names.push(lock.server_name().unwrap().to_owned());
        lock
    };

    // Plain use, nested locks, released in both orders.
    let (a, b) = (lock("leak-a"), lock("leak-b"));
    a.acquire().unwrap().release().unwrap();
    let (ga, gb) = (a.acquire().unwrap(), b.acquire().unwrap());
    drop(ga);
    drop(gb);
    // A timeout and a refused re-entrance.
    let contested = lock("leak-contested");
    let held = contested.acquire().unwrap();
    let other = contested.clone();
    let timed_out = thread::spawn(move || other.acquire().map(drop))
        .join()
        .unwrap();
    assert!(matches!(timed_out, Err(Error::Timeout { .. })));
    assert!(matches!(contested.acquire(), Err(Error::Reentrant { .. })));
    drop(held);
    // A panic while holding.
    let panicking = lock("leak-panic");
    let caught = std::panic::catch_unwind(|| {
        let _guard = panicking.acquire().unwrap();
        panic!("job failed");
    });
    assert!(caught.is_err());
    // A killed holder.
    let killed = lock("leak-killed");
    let guard = killed.acquire().unwrap();
    admin
        .query_drop(format!("KILL CONNECTION {}", guard.connection_id()))
        .unwrap();
    assert!(matches!(guard.release(), Err(Error::LockLost { .. })));
    // Many threads at once.
    let shared = lock("leak-shared");
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let shared = shared.clone().timeout(Duration::from_secs(10));
            thread::spawn(move || {
                for _ in 0..20 {
                    shared.acquire().unwrap().release().unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }

    // No lock is held by anyone.
    for name in &names {
        assert_eq!(testkit::holder(name), None, "{name} is still held");
    }
    // No connection is in use; closing the idle ones brings the server's
    // session count back to where it started.
    let status = mysql_lock::pool_status("default").unwrap();
    assert!(
        status.idle > 0,
        "the pool kept connections for reuse: {status:?}"
    );
    assert_eq!(
        sessions(&mut admin),
        before + status.open as u64,
        "the server sees exactly them"
    );
    assert_eq!(
        status.open, status.idle,
        "connections still in use: {status:?}"
    );
    let closed = mysql_lock::close_idle_connections("default").unwrap();
    assert_eq!(closed, status.idle);
    assert_eq!(mysql_lock::pool_status("default").unwrap().open, 0);
    let started = Instant::now();
    let mut after = sessions(&mut admin);
    while after != before && started.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(20));
        after = sessions(&mut admin);
    }
    testkit::report(&format!(
        "server sessions: {before} before, {after} after; {closed} idle connections closed"
    ));
    assert_eq!(after, before, "server connections leaked");
}
