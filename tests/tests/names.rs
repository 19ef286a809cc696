//! Names on the server: the database prefix, awkward characters, lengths
//! around both servers' limits, and case variants.

use mysql_lock::{Error, Lock};
use std::thread;

/// Takes `name`, checks from another connection that exactly the name
/// `Lock::name` reports is held by the guard's connection, releases.
fn roundtrip(name: &str) -> String {
    let lock = Lock::new(name);
    let server_name = lock.server_name().unwrap().to_owned();
    let guard = lock.acquire().unwrap_or_else(|e| panic!("{name:?}: {e}"));
    assert_eq!(
        testkit::holder(&server_name),
        Some(guard.connection_id()),
        "{name:?}"
    );
    guard.release().unwrap();
    assert_eq!(testkit::holder(&server_name), None, "{name:?}");
    server_name
}

#[test]
fn names_are_prefixed_with_the_database() {
    testkit::setup();
    let name = testkit::unique("prefixed");
    assert_eq!(roundtrip(&name), format!("test.{name}"));
}

#[test]
fn sql_metacharacters_travel_as_data() {
    testkit::setup();
    for stem in [
        "it's",
        "say \"hi\"",
        "back\\slash",
        "100%",
        "under_score",
        "semi;colon",
        "dash--dash",
        "/*c*/",
    ] {
        let name = testkit::unique(stem);
        let server_name = roundtrip(&name);
        assert_eq!(
            server_name,
            format!("test.{name}"),
            "plain names are sent unchanged"
        );
    }
}

#[test]
fn unicode_and_long_names_are_encoded_within_both_limits() {
    testkit::setup();
    let tag = testkit::unique("");
    let names = [
        format!("café-{tag}"),
        format!("日本語{tag}"),
        format!("😀{tag}"),
        format!("{tag}{}", "a".repeat(64 - tag.len())),
        format!("{tag}{}", "a".repeat(65 - tag.len())),
        format!("{tag}{}", "é".repeat(96)),
        format!("{tag}{}", "x".repeat(193 - tag.len())),
        format!("{tag}{}", "y".repeat(4096 - tag.len())),
    ];
    let mut seen = std::collections::HashSet::new();
    for name in &names {
        let server_name = roundtrip(name);
        assert!(server_name.len() <= 64, "{server_name}");
        assert!(server_name.starts_with("test."), "{server_name}");
        assert!(seen.insert(server_name), "two names collided");
    }
}

#[test]
fn case_variants_are_distinct_locks() {
    testkit::setup();
    let base = testkit::unique("case");
    let lower = Lock::new(base.as_str());
    let upper = Lock::new(base.to_uppercase());
    let guard = lower.acquire().unwrap();
    // Another thread can hold the upper-case variant at the same time.
    let upper_held = thread::spawn(move || upper.try_acquire().unwrap().is_some())
        .join()
        .unwrap();
    assert!(upper_held, "case variants must be different locks");
    guard.release().unwrap();
}

#[test]
fn invalid_names_are_refused_without_a_query() {
    testkit::setup();
    for bad in [
        String::new(),
        "a\0b".to_owned(),
        "z".repeat(10 * 1024 * 1024),
    ] {
        let err = Lock::new(bad.as_str()).acquire().unwrap_err();
        assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");
        assert!(err.to_string().len() < 500);
    }
    // MariaDB would have locked 'a' for 'a\0b': make sure nothing was taken.
    assert_eq!(testkit::holder("test.a"), None);
}
