//! A small `wait_timeout` closes idle connections, and with them their
//! locks: the background ownership checks keep an idle holder's connection
//! alive. Its own binary, because the check interval is process-wide.

use mysql_lock::{Error, Lock};
use std::thread;
use std::time::Duration;

#[test]
fn ownership_checks_keep_an_idle_holder_alive() {
    let url = testkit::setup();
    let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(url).unwrap())
        .init(vec!["SET SESSION wait_timeout = 1"]);
    mysql_lock::register_opts("short-wait", opts.into()).unwrap();
    let lock = Lock::new(testkit::unique("idle-holder")).using("short-wait");

    // Without checks in time, the server closes the idle holder after 1 s.
    mysql_lock::set_check_interval(Duration::from_secs(3600));
    let guard = lock.acquire().unwrap();
    thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        testkit::holder(lock.server_name().unwrap()),
        None,
        "wait_timeout freed it"
    );
    assert!(matches!(guard.release(), Err(Error::LockLost { .. })));

    // With checks every 200 ms, the same idle holder keeps its lock.
    mysql_lock::set_check_interval(Duration::from_millis(200));
    let guard = lock.acquire().unwrap();
    thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        testkit::holder(lock.server_name().unwrap()),
        Some(guard.connection_id())
    );
    assert!(!guard.is_lost());
    guard.verify().unwrap();
    guard.release().unwrap();
}
