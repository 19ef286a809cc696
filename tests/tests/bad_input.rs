//! Bad input gives a clear, typed error: no panic, and no SQL ever built
//! from a name.

use mysql_lock::{Error, Lock};
use std::time::Duration;

#[test]
fn bad_names_are_typed_errors() {
    testkit::setup();
    let ten_mb = "n".repeat(10 * 1024 * 1024);
    for (name, why) in [("", "empty"), ("job\0x", "NUL"), (ten_mb.as_str(), "4096")] {
        let lock = Lock::new(name);
        for result in [
            lock.acquire().map(drop),
            lock.try_acquire().map(drop),
            lock.is_held().map(drop),
            lock.holding_connection_id().map(drop),
            lock.server_name().map(drop),
        ] {
            let err = result.unwrap_err();
            assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");
            let message = err.to_string();
            assert!(message.contains(why), "{message}");
            assert!(
                message.len() < 400,
                "a 10 MB name must not make a 10 MB message"
            );
        }
    }
}

#[test]
fn sql_metacharacters_are_only_ever_data() {
    testkit::setup();
    // If a name were formatted into SQL, these would break the statement or
    // smuggle in another one; as bound parameters they are just names.
    let names = [
        "'; SELECT RELEASE_ALL_LOCKS(); --",
        "\"); DROP TABLE t; --",
        "back\\'slash",
        "semi;colon",
        "x' OR '1'='1",
        "/* comment */",
        "-- dash",
    ];
    for stem in names {
        let lock = Lock::new(testkit::unique(stem));
        let guard = lock.acquire().unwrap_or_else(|e| panic!("{stem:?}: {e}"));
        assert_eq!(
            testkit::holder(lock.server_name().unwrap()),
            Some(guard.connection_id())
        );
        assert!(lock.is_held().unwrap());
        guard.release().unwrap();
        assert!(!lock.is_held().unwrap());
    }
}

#[test]
fn extreme_timeouts_are_handled() {
    testkit::setup();
    let name = testkit::unique("timeouts");
    // Contended: a timeout sent as 0 (or as NULL) would fail at once, so
    // only a real wait passes.
    for timeout in [
        Duration::from_secs(u64::MAX),
        Duration::MAX,
        Lock::FOREVER,
        Duration::from_secs(99_999_999),
    ] {
        let holder = Lock::new(name.as_str()).acquire().unwrap();
        let waiter = {
            let lock = Lock::new(name.as_str()).timeout(timeout);
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let result = lock.acquire().map(|guard| guard.release());
                (result, started.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        holder.release().unwrap();
        let (result, waited) = waiter.join().unwrap();
        assert!(matches!(result, Ok(Ok(()))), "{timeout:?}: {result:?}");
        assert!(
            waited >= Duration::from_millis(250),
            "{timeout:?}: {waited:?}"
        );
    }
    // The smallest timeouts are one attempt.
    let holder = Lock::new(name.as_str()).acquire().unwrap();
    for timeout in [Duration::ZERO, Duration::from_nanos(1)] {
        let result = std::thread::spawn({
            let lock = Lock::new(name.as_str()).timeout(timeout);
            move || lock.acquire().map(drop)
        })
        .join()
        .unwrap();
        assert!(
            matches!(result, Err(Error::Timeout { .. })),
            "{timeout:?}: {result:?}"
        );
    }
    holder.release().unwrap();
}

#[test]
fn bad_urls_and_aliases_are_typed_errors() {
    for url in [
        "",
        "mysql://",
        "http://x/y",
        "mysql://u@h:99999/db",
        "mysql://u@h/db?pool_max=x",
    ] {
        let err = mysql_lock::register("bad-input-url", url).unwrap_err();
        assert!(
            matches!(err, Error::InvalidConfig { .. }),
            "{url:?}: {err:?}"
        );
        assert!(err.to_string().contains("expected"), "{err}");
    }
    let err = mysql_lock::register("", "mysql://u@h/db").unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
    let err = Lock::new("job")
        .using("no-such-alias")
        .is_held()
        .unwrap_err();
    assert!(matches!(err, Error::UnknownAlias { .. }), "{err:?}");
}
