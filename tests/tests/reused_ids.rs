//! Connection ids start again after a server restart: a guard whose lock
//! was lost with the old server must never touch a newer connection that
//! happens to have the same `CONNECTION_ID()`. Runs against a private
//! server of its own, which it restarts.

use mysql::prelude::Queryable;
use mysql_lock::{Error, Lock};
use std::time::Duration;

#[test]
fn a_stale_guard_never_touches_a_newer_connection_with_the_same_id() {
    let server = testkit::PrivateServer::start()
        .expect("this test needs mariadbd installed, to restart a server of its own");
    let url = server.url();
    mysql_lock::register("reused-ids", &url).unwrap();
    // No background check: the stale guard must not learn of the restart
    // before its release, as in the reviewer's reproduction.
    mysql_lock::set_check_interval(Duration::from_secs(3600));

    let n = Lock::new("lock-n").using("reused-ids");
    let m = Lock::new("lock-m").using("reused-ids");
    let guard_n = n.acquire().unwrap();
    let old_id = guard_n.connection_id();

    server.restart().expect("restart");

    // Open connections until the next one the server hands out has the old
    // id: ids count up from 1 again after a restart.
    let mut burners = Vec::new();
    loop {
        let mut probe = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();
        let id: u64 = probe
            .query_first("SELECT CONNECTION_ID()")
            .unwrap()
            .unwrap();
        assert!(
            id < old_id,
            "the server already handed out id {id}, past the old {old_id}"
        );
        burners.push(probe);
        if id + 1 == old_id {
            break;
        }
    }

    // The thread's session still has the dead connection: its first attempt
    // notices it (Disconnected: a lock was held on it), the next one opens
    // a new connection, which gets the old id.
    let guard_m = loop {
        match m.acquire() {
            Ok(guard) => break guard,
            Err(Error::Disconnected { .. }) => continue,
            Err(other) => panic!("{other:?}"),
        }
    };
    assert_eq!(
        guard_m.connection_id(),
        old_id,
        "the setup failed to reuse the id"
    );

    // Releasing the stale guard reports the loss and touches nothing else.
    let released = guard_n.release();
    assert!(
        matches!(released, Err(Error::LockLost { .. })),
        "{released:?}"
    );
    assert!(!guard_m.is_lost(), "the newer lock was marked lost");
    let mut admin = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();
    let holder: Option<u64> = admin
        .exec_first("SELECT IS_USED_LOCK(?)", (m.server_name().unwrap(),))
        .unwrap()
        .flatten();
    assert_eq!(
        holder,
        Some(old_id),
        "the newer lock was freed on the server"
    );
    // Nobody else can take it.
    let other = std::thread::spawn({
        let m = m.clone();
        move || m.try_acquire().map(|guard| guard.is_some())
    })
    .join()
    .unwrap();
    assert!(matches!(other, Ok(false)), "{other:?}");
    guard_m.verify().unwrap();
    guard_m.release().unwrap();
    mysql_lock::set_check_interval(mysql_lock::DEFAULT_CHECK_INTERVAL);
    drop(burners);
}
