//! `held_locks`: every user lock on the server with its holder, from each
//! source a server may offer, on private servers that enable what they
//! need (the shared server is never changed): one with MariaDB's
//! `metadata_lock_info` plugin, one with `performance_schema` and its
//! metadata-lock instrument (and nothing, once the instrument is off).
//! `lock_holder` and `kill_holder` work on any server: the shared one.

use mysql::prelude::Queryable;
use mysql_lock::{Error, Lock, LockSource, ServerLock};
use std::time::{Duration, Instant};

/// The private server's URL, registered under `alias`.
fn register(alias: &str, server: &testkit::PrivateServer) -> String {
    let url = server.url();
    mysql_lock::register(alias, &url).unwrap();
    url
}

fn find<'a>(locks: &'a [ServerLock], server_name: &str) -> &'a ServerLock {
    locks
        .iter()
        .find(|lock| lock.server_name == server_name)
        .unwrap_or_else(|| panic!("{server_name} is not in {locks:#?}"))
}

/// What both sources must show: this process's locks, a plain and an
/// encoded name, another session's lock under another database, with their
/// holders' ids and accounts.
fn check_listing(alias: &str, url: &str, source: LockSource) {
    let plain = Lock::new("report-daily").using(alias);
    let encoded = Lock::new("Report Weekly").using(alias);
    let guard = plain.acquire().unwrap();
    let encoded_guard = encoded.acquire().unwrap();
    let mut other = mysql::Conn::new(mysql::Opts::from_url(url).unwrap()).unwrap();
    let other_id: u64 = other
        .query_first("SELECT CONNECTION_ID()")
        .unwrap()
        .unwrap();
    let got: Option<i64> = other
        .exec_first("SELECT GET_LOCK(?, 0)", ("otherdb.report-x",))
        .unwrap();
    assert_eq!(got, Some(1));

    let started = Instant::now();
    let locks = mysql_lock::held_locks(alias).unwrap();
    testkit::report(&format!(
        "held_locks via {source} (first call, detection included): {:?}",
        started.elapsed()
    ));
    let started = Instant::now();
    let again = mysql_lock::held_locks(alias).unwrap();
    testkit::report(&format!(
        "held_locks via {source} (cached): {:?}",
        started.elapsed()
    ));
    assert_eq!(locks.len(), again.len());
    assert_eq!(locks.len(), 3, "{locks:#?}");

    let row = find(&locks, "test.report-daily");
    assert_eq!(row.name.as_deref(), Some("report-daily"));
    assert!(!row.encoded);
    assert_eq!(row.connection_id, guard.connection_id());
    assert_eq!(row.user.as_deref(), Some("root"));
    assert!(
        row.host
            .as_deref()
            .is_some_and(|h| h.starts_with("localhost") || h.starts_with("127.0.0.1")),
        "{row:?}"
    );
    assert_eq!(row.source, source);

    let row = find(&locks, encoded.server_name().unwrap());
    assert_eq!(row.name, None);
    assert!(row.encoded);
    assert_eq!(row.display_name(), encoded.server_name().unwrap());
    assert_eq!(row.connection_id, encoded_guard.connection_id());

    let row = find(&locks, "otherdb.report-x");
    assert_eq!((row.name.as_deref(), row.encoded), (None, false));
    assert_eq!(row.connection_id, other_id);

    // The prefix is the name as written, or the server name when it can't
    // be told.
    let names = |prefix: &str| -> Vec<String> {
        mysql_lock::held_locks_with_prefix(alias, prefix)
            .unwrap()
            .into_iter()
            .map(|lock| lock.display_name().to_owned())
            .collect()
    };
    assert_eq!(names("report-"), ["report-daily"]);
    assert_eq!(names("otherdb."), ["otherdb.report-x"]);
    assert_eq!(names("test.report weekly#").len(), 1);
    assert!(names("nothing").is_empty());

    drop(guard);
    // The server ends a closed session (and frees its locks) a moment
    // after the client's COM_QUIT.
    drop(other);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let after = mysql_lock::held_locks(alias).unwrap();
        if after.len() == 1 {
            assert_eq!(after[0].connection_id, encoded_guard.connection_id());
            break;
        }
        assert!(Instant::now() < deadline, "still listed: {after:#?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(encoded_guard);
}

#[test]
fn metadata_lock_info_plugin() {
    let server =
        testkit::PrivateServer::start_with_args(&["--plugin-load-add=metadata_lock_info"]).unwrap();
    let url = register("inspect-mli", &server);
    check_listing("inspect-mli", &url, LockSource::MetadataLockInfo);

    // Only the plugin tells how long a lock has been held; without
    // performance_schema there are no attributes.
    let lock = Lock::new("timed").using("inspect-mli");
    let guard = lock.acquire().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let row = mysql_lock::lock_holder(&lock).unwrap().unwrap();
    assert_eq!(row.connection_id, guard.connection_id());
    assert_eq!(row.source, LockSource::IsUsedLock);
    let held = row.held_for.expect("the plugin tells how long");
    assert!(held >= Duration::from_millis(250), "{held:?}");
    assert!(
        held <= guard.held_for() + Duration::from_millis(50),
        "{held:?}"
    );
    assert!(row.attributes.is_empty());
}

#[test]
fn performance_schema_instrument() {
    let server = testkit::PrivateServer::start_with_args(&["--performance-schema=ON"]).unwrap();
    let url = register("inspect-pfs", &server);
    let mut admin = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();

    // performance_schema on, the instrument off (MariaDB's default): no
    // list, and the error says what to enable.
    let err = mysql_lock::held_locks("inspect-pfs").unwrap_err();
    assert!(matches!(err, Error::NoLockList { .. }), "{err:?}");
    let message = err.to_string();
    for needed in [
        "INSTALL SONAME 'metadata_lock_info'",
        "wait/lock/metadata/sql/mdl",
        "lock_holder",
    ] {
        assert!(message.contains(needed), "{message}");
    }

    admin
        .query_drop(
            "UPDATE performance_schema.setup_instruments SET ENABLED = 'YES' \
             WHERE NAME = 'wait/lock/metadata/sql/mdl'",
        )
        .unwrap();
    // Found now: a failure is not remembered.
    check_listing("inspect-pfs", &url, LockSource::PerformanceSchema);

    // performance_schema gives the holder's connection attributes.
    let lock = Lock::new("attrs").using("inspect-pfs");
    let guard = lock.acquire().unwrap();
    let locks = mysql_lock::held_locks("inspect-pfs").unwrap();
    let row = find(&locks, "test.attrs");
    assert_eq!(row.connection_id, guard.connection_id());
    assert_eq!(row.attribute("_client_name"), Some("rust-mysql-simple"));
    assert_eq!(
        row.attribute("_pid"),
        Some(std::process::id().to_string().as_str())
    );
    assert_eq!(row.held_for, None);
}

/// `lock_holder` and `kill_holder` need nothing enabled: the shared server.
#[test]
fn holder_and_kill_on_any_server() {
    testkit::setup();
    mysql_lock::set_check_interval(Duration::from_millis(50));
    let name = testkit::unique("Inspect Kill");
    let lock = Lock::new(name.as_str());
    assert_eq!(mysql_lock::lock_holder(&lock).unwrap(), None);
    assert_eq!(mysql_lock::kill_holder(&lock).unwrap(), None);

    let guard = lock.acquire().unwrap();
    let row = mysql_lock::lock_holder(&lock).unwrap().unwrap();
    assert_eq!(row.connection_id, guard.connection_id());
    assert_eq!(row.server_name, lock.server_name().unwrap());
    assert!(row.encoded, "a name with upper case is encoded: {row:?}");
    assert_eq!(row.user.as_deref(), Some("root"));

    assert_eq!(
        mysql_lock::kill_holder(&lock).unwrap(),
        Some(guard.connection_id())
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    while !guard.is_lost() {
        assert!(
            Instant::now() < deadline,
            "the guard never noticed the kill"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(matches!(guard.release(), Err(Error::LockLost { .. })));
    assert_eq!(testkit::holder(lock.server_name().unwrap()), None);
}

/// A lock session's connection says which worker it is, in the server's
/// `performance_schema.session_connect_attrs`: the alias, the thread that
/// took it from the pool, the host, the library's version, beside the
/// driver's `program_name` and `_pid`.
#[test]
fn lock_sessions_say_which_worker_they_are() {
    let server = testkit::PrivateServer::start_with_args(&["--performance-schema=ON"]).unwrap();
    let url = register("inspect-attrs", &server);
    let (name, id) = std::thread::Builder::new()
        .name("report-worker".into())
        .spawn(|| {
            let guard = Lock::new(testkit::unique("attrs"))
                .using("inspect-attrs")
                .acquire()
                .unwrap();
            let id = guard.connection_id();
            std::mem::forget(guard);
            (std::thread::current().name().map(str::to_owned), id)
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(name.as_deref(), Some("report-worker"));
    let mut admin = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();
    let attrs: Vec<(String, String)> = admin
        .exec(
            "SELECT ATTR_NAME, ATTR_VALUE FROM performance_schema.session_connect_attrs \
             WHERE PROCESSLIST_ID = ?",
            (id,),
        )
        .unwrap();
    let attr = |key: &str| {
        attrs
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
    };
    assert_eq!(
        attr("mysql_lock_alias").as_deref(),
        Some("inspect-attrs"),
        "{attrs:?}"
    );
    assert!(
        attr("mysql_lock_thread").is_some_and(|t| t.starts_with("report-worker")),
        "{attrs:?}"
    );
    assert_eq!(
        attr("mysql_lock_version").as_deref(),
        Some(env!("CARGO_PKG_VERSION")),
        "{attrs:?}"
    );
    assert!(attr("mysql_lock_host").is_some(), "{attrs:?}");
    assert_eq!(
        attr("_pid"),
        Some(std::process::id().to_string()),
        "{attrs:?}"
    );
    testkit::report(&format!(
        "a lock session's connection attributes: {attrs:?}"
    ));
}
