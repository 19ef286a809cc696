//! `is_held` and `holding_connection_id`, asked by the holder and by another
//! connection, agree with the holder's `CONNECTION_ID()`.

use mysql::prelude::Queryable;
use mysql_lock::Lock;
use std::thread;

#[test]
fn holder_and_observers_agree_with_connection_id() {
    testkit::setup();
    let name = testkit::unique("holder");
    let lock = Lock::new(name.as_str());
    let server_name = lock.server_name().unwrap().to_owned();

    assert!(!lock.is_held().unwrap());
    assert_eq!(lock.holding_connection_id().unwrap(), None);

    let guard = lock.acquire().unwrap();
    let id = guard.connection_id();
    // The holder asks (on its own session connection).
    assert!(lock.is_held().unwrap());
    assert_eq!(lock.holding_connection_id().unwrap(), Some(id));
    // Another thread asks (through a pooled connection).
    let other = {
        let lock = lock.clone();
        thread::spawn(move || {
            (
                lock.is_held().unwrap(),
                lock.holding_connection_id().unwrap(),
            )
        })
        .join()
        .unwrap()
    };
    assert_eq!(other, (true, Some(id)));
    // A connection outside the library asks.
    assert_eq!(testkit::holder(&server_name), Some(id));
    // And that id is a live session on the server.
    let live: Option<u64> = testkit::admin()
        .exec_first(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?",
            (id,),
        )
        .unwrap();
    assert_eq!(live, Some(id));

    guard.release().unwrap();
    assert!(!lock.is_held().unwrap());
    assert_eq!(testkit::holder(&server_name), None);
}

#[test]
fn a_lock_held_by_another_process_is_seen() {
    testkit::setup();
    let name = testkit::unique("other-process");
    let (mut child, id) =
        testkit::hold_in_another_process(env!("CARGO_BIN_EXE_lock-helper"), &name, 1.0);
    let lock = Lock::new(name.as_str());
    assert_eq!(lock.holding_connection_id().unwrap(), Some(id));
    assert!(lock.try_acquire().unwrap().is_none());
    assert!(child.wait().unwrap().success());
    assert_eq!(lock.holding_connection_id().unwrap(), None);
    assert!(
        lock.try_acquire().unwrap().is_some(),
        "free after the other process released"
    );
}
