//! An alias with `lock_names=exact` sends names as given on MariaDB: case
//! variants are distinct locks, `#` and names up to 192 bytes go through,
//! and a longer name is the server's error, reported as `Error::Mysql`.
//! A mixed-case database keeps its case under the default scheme.

use mysql_lock::{Error, Lock, NameScheme};

fn with_query(extra: &str) -> String {
    let url = testkit::url();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{extra}")
}

fn database() -> String {
    mysql::Opts::from_url(testkit::url())
        .unwrap()
        .get_db_name()
        .expect("the test URL names a database")
        .to_owned()
}

#[test]
fn exact_names_are_sent_and_held_as_given() {
    mysql_lock::register("exact-names", &with_query("lock_names=exact")).unwrap();
    let db = database();
    let tag = testkit::unique("");
    let upper = format!("Job#{tag}");
    let lower = format!("job#{tag}");
    let a = Lock::new(upper.as_str()).using("exact-names");
    let b = Lock::new(lower.as_str()).using("exact-names");
    assert_eq!(a.server_name().unwrap(), format!("{db}.{upper}"));
    let held_a = a.acquire().unwrap();
    assert_eq!(
        testkit::holder(&format!("{db}.{upper}")),
        Some(held_a.connection_id())
    );
    // MariaDB keeps case: the lower-case variant is another lock. (Taken
    // from another thread: one thread's locks share a connection.)
    let b_id = std::thread::spawn(move || {
        let held_b = b
            .try_acquire()
            .unwrap()
            .expect("a distinct lock on MariaDB");
        let id = held_b.connection_id();
        held_b.release().unwrap();
        id
    })
    .join()
    .unwrap();
    assert_ne!(b_id, 0);
    held_a.release().unwrap();

    // Up to 192 bytes in all go through as given...
    let fits = format!("{tag}{}", "X".repeat(192 - db.len() - 1 - tag.len()));
    let lock = Lock::new(fits.as_str()).using("exact-names");
    assert_eq!(lock.server_name().unwrap().len(), 192);
    lock.acquire().unwrap().release().unwrap();
    // ...one more is the server's refusal (error 1059), typed, not a
    // timeout.
    let too_long = format!("{fits}X");
    let err = Lock::new(too_long.as_str())
        .using("exact-names")
        .acquire()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");
    assert!(err.to_string().contains("refused the name"), "{err}");
    // Names are still checked before anything is sent.
    let err = Lock::new("a\0b")
        .using("exact-names")
        .server_name()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");
}

#[test]
fn the_option_is_part_of_the_alias() {
    let exact = with_query("lock_names=exact");
    mysql_lock::register("exact-again", &exact).unwrap();
    mysql_lock::register("exact-again", &exact).unwrap();
    let err = mysql_lock::register("exact-again", testkit::url()).unwrap_err();
    assert!(matches!(err, Error::AliasConflict { .. }), "{err:?}");
    let opts = mysql::Opts::from_url(testkit::url()).unwrap();
    let err = mysql_lock::register_opts("exact-again", opts).unwrap_err();
    assert!(matches!(err, Error::AliasConflict { .. }), "{err:?}");
    let err = mysql_lock::register("exact-bad", &with_query("lock_names=EXACT")).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
    assert!(err.to_string().contains("lock_names=exact"), "{err}");
    let opts = mysql::Opts::from_url(testkit::url()).unwrap();
    mysql_lock::register_opts_with("exact-opts", opts, NameScheme::Exact).unwrap();
    assert_eq!(
        Lock::new("Mixed")
            .using("exact-opts")
            .server_name()
            .unwrap(),
        format!("{}.Mixed", database())
    );
}
