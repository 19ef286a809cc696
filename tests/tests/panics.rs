//! A panic while holding releases the lock, and the connection goes back to
//! the pool clean; a guard may be dropped on another thread.

use mysql_lock::Lock;
use std::panic;
use std::thread;

#[test]
fn a_panic_while_holding_releases() {
    testkit::setup();
    let name = testkit::unique("panic");
    let lock = Lock::new(name.as_str());
    let server_name = lock.server_name().unwrap().to_owned();
    let result = {
        let lock = lock.clone();
        panic::catch_unwind(move || {
            let _guard = lock.acquire().unwrap();
            panic!("the job failed");
        })
    };
    assert!(result.is_err());
    assert_eq!(
        testkit::holder(&server_name),
        None,
        "the unwind released the lock"
    );
    // The same thread can take it again (its session is clean).
    lock.acquire().unwrap().release().unwrap();
}

#[test]
fn a_panicking_thread_releases() {
    testkit::setup();
    let name = testkit::unique("panic-thread");
    let lock = Lock::new(name.as_str());
    let joined = {
        let lock = lock.clone();
        thread::spawn(move || {
            let _guard = lock.acquire().unwrap();
            panic!("worker died");
        })
        .join()
    };
    assert!(joined.is_err());
    assert_eq!(testkit::holder(lock.server_name().unwrap()), None);
    let guard = lock.try_acquire().unwrap().expect("free after the panic");
    guard.release().unwrap();
}

#[test]
fn a_guard_dropped_on_another_thread_releases() {
    testkit::setup();
    let lock = Lock::new(testkit::unique("moved-guard"));
    let guard = lock.acquire().unwrap();
    let id = guard.connection_id();
    assert_eq!(testkit::holder(lock.server_name().unwrap()), Some(id));
    thread::spawn(move || guard.release())
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(testkit::holder(lock.server_name().unwrap()), None);
    // Taken again by this thread after the move and release.
    lock.acquire().unwrap().release().unwrap();
}
