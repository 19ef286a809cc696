//! Two aliases for the same server and database name the same locks: a
//! thread that holds one through the first alias gets `Reentrant` through
//! the second at once, instead of waiting for itself.

use mysql_lock::{Error, Lock};
use std::time::{Duration, Instant};

#[test]
fn the_same_lock_through_another_alias_is_reentrance() {
    let url = testkit::setup();
    // The same server and database, other settings: another pool.
    let separator = if url.contains('?') { '&' } else { '?' };
    mysql_lock::register("same-server", &format!("{url}{separator}pool_max=7")).unwrap();
    let name = testkit::unique("two-aliases");
    let first = Lock::new(name.as_str());
    let second = Lock::new(name.as_str())
        .using("same-server")
        .timeout(Lock::FOREVER);
    assert_eq!(first.server_name().unwrap(), second.server_name().unwrap());

    let guard = first.acquire().unwrap();
    let started = Instant::now();
    let result = second.acquire().map(drop);
    assert!(matches!(result, Err(Error::Reentrant { .. })), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
    guard.release().unwrap();

    // Once released, the other alias takes it normally; the reverse holds
    // too.
    let guard = second.acquire().unwrap();
    assert!(matches!(
        first.try_acquire().map(|g| g.is_some()),
        Err(Error::Reentrant { .. })
    ));
    guard.release().unwrap();

    // Another lock name through the other alias is no re-entrance.
    let guard = first.acquire().unwrap();
    let other = Lock::new(testkit::unique("two-aliases-other")).using("same-server");
    other.acquire().unwrap().release().unwrap();
    guard.release().unwrap();
}
