//! Aliases and connection settings: unknown aliases, malformed URLs,
//! re-registration, the default alias from DATABASE_URL, unreachable and
//! silent servers failing in bounded time.

use mysql_lock::{Error, Lock};
use std::net::TcpListener;
use std::time::{Duration, Instant};

#[test]
fn an_unknown_alias_names_the_registered_ones() {
    testkit::setup();
    mysql_lock::register("config-other", testkit::url()).unwrap();
    let err = Lock::new("job").using("nope").acquire().unwrap_err();
    match &err {
        Error::UnknownAlias {
            alias, registered, ..
        } => {
            assert_eq!(alias, "nope");
            assert!(registered.contains(&"default".to_owned()));
            assert!(registered.contains(&"config-other".to_owned()));
        }
        other => panic!("expected UnknownAlias, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("nope") && message.contains("config-other"),
        "{message}"
    );
    assert!(message.contains("register"), "says what to do: {message}");
}

#[test]
fn another_alias_locks_the_same_server() {
    testkit::setup();
    mysql_lock::register("config-second", testkit::url()).unwrap();
    let name = testkit::unique("alias");
    let guard = Lock::new(name.as_str())
        .using("config-second")
        .acquire()
        .unwrap();
    // Same server and database: the default alias sees it held.
    assert_eq!(
        Lock::new(name.as_str()).holding_connection_id().unwrap(),
        Some(guard.connection_id())
    );
    guard.release().unwrap();
}

#[test]
fn malformed_urls_fail_at_registration_without_the_password() {
    for url in [
        "mysql://user:s3cret-pw@127.0.0.1:notaport/db",
        "postgres://user:s3cret-pw@127.0.0.1/db",
        "not a url s3cret-pw",
    ] {
        let err = mysql_lock::register("config-bad", url).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{url}: {err:?}");
        assert!(!err.to_string().contains("s3cret-pw"), "{err}");
        assert!(!format!("{err:?}").contains("s3cret-pw"), "{err:?}");
    }
    // Nothing was registered.
    assert!(matches!(
        Lock::new("x").using("config-bad").server_name(),
        Err(Error::UnknownAlias { .. })
    ));
}

#[test]
fn re_registering_is_idempotent_but_never_silently_changes() {
    let url = testkit::setup();
    mysql_lock::register("config-again", url).unwrap();
    mysql_lock::register("config-again", url).unwrap();
    let err = mysql_lock::register("config-again", "mysql://root@127.0.0.1:1/other").unwrap_err();
    assert!(matches!(err, Error::AliasConflict { .. }), "{err:?}");
}

#[test]
fn a_small_pool_max_needs_no_pool_min() {
    // The driver's default pool_min is 10; this pool has no minimum.
    let url = format!("{}?pool_max=3", testkit::url().split('?').next().unwrap());
    mysql_lock::register("config-small-pool", &url).unwrap();
    assert_eq!(
        mysql_lock::pool_status("config-small-pool")
            .unwrap()
            .max_size,
        3
    );
}

#[test]
fn an_unreachable_server_fails_fast() {
    // Nothing listens on a port we bound and released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    mysql_lock::register(
        "config-refused",
        &format!("mysql://root:pw-s3cret@127.0.0.1:{port}/test?prefer_socket=false"),
    )
    .unwrap();
    let started = Instant::now();
    let err = Lock::new("job")
        .using("config-refused")
        .acquire()
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&port.to_string()) && !message.contains("pw-s3cret"),
        "{message}"
    );
}

#[test]
fn a_server_that_never_greets_fails_within_the_connect_timeout() {
    // Accepts TCP connections (the kernel completes the handshake) but never
    // sends MySQL's greeting.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    mysql_lock::register(
        "config-silent",
        &format!(
            "mysql://root@127.0.0.1:{port}/test?prefer_socket=false&tcp_connect_timeout_ms=500"
        ),
    )
    .unwrap();
    let started = Instant::now();
    let err = Lock::new("job")
        .using("config-silent")
        .acquire()
        .unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    drop(silent);
}

/// Runs `lock-helper hold - NAME 0` (registering nothing) with `env`.
fn hold_through_default_alias(database_url: Option<&str>) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_lock-helper"));
    command.args(["hold", "-", &testkit::unique("from-env"), "0"]);
    match database_url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    command.output().unwrap()
}

#[test]
fn the_default_alias_comes_from_database_url() {
    // In a child process: tests share this process's registry.
    let output = hold_through_default_alias(Some(testkit::url()));
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("held "),
        "{output:?}"
    );

    let output = hold_through_default_alias(None);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{output:?}");
    assert!(
        stdout.contains("`default`") && stdout.contains("DATABASE_URL"),
        "{stdout}"
    );

    let output = hold_through_default_alias(Some("mysql://u:pw-s3cret@h:bad/x"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("DATABASE_URL") && !stdout.contains("pw-s3cret"),
        "{stdout}"
    );
}
