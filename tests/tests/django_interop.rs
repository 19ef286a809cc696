//! A real django-mysql worker (Python, PyMySQL, `tests/interop/django_worker.py`)
//! and the library on the same server exclude each other: plain lower-case
//! names, a database whose name has upper-case letters, and mixed-case names
//! on an alias with exact names; and `holding_connection_id()` agrees both
//! ways.
//!
//! The worker uses PyMySQL; with `MYSQL_LOCK_INTEROP_DRIVER=mysqlclient`
//! and a venv that has mysqlclient (a C build against `libmariadb-dev`), it
//! uses mysqlclient instead.
//!
//! Needs the virtual environment `tests/interop/setup-venv.sh` makes
//! (`target/interop-venv`, or `MYSQL_LOCK_INTEROP_VENV`), which the test
//! runs itself on first use (a few seconds, once; `.ci/run` makes it
//! too). When it can't be made, every test here fails saying how to make
//! it, unless `MYSQL_LOCK_SKIP_INTEROP=1` is set.

use mysql::prelude::Queryable;
use mysql_lock::Lock;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The mixed-case database of the issue that found the bug.
const MIXED_DB: &str = "IfxApp";

/// How long django-mysql waits for a lock that must be refused.
const PY_TIMEOUT: &str = "0.1";

/// The longest a worker's answer may take (its start included).
const ANSWER_LIMIT: Duration = Duration::from_secs(20);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// Whether the interop tests are skipped on purpose (said on stderr).
fn skipped() -> bool {
    let skip = std::env::var("MYSQL_LOCK_SKIP_INTEROP").is_ok_and(|v| v == "1");
    if skip {
        testkit::report("django interop: SKIPPED (MYSQL_LOCK_SKIP_INTEROP=1)");
    }
    skip
}

const SETUP: &str = "`tests/interop/setup-venv.sh` makes target/interop-venv with Django, \
                     django-mysql 4.19 and PyMySQL from PyPI; it needs python3 with its venv \
                     module (on Debian `apt-get install python3-venv`); or set \
                     MYSQL_LOCK_SKIP_INTEROP=1 to skip the django-mysql interop tests";

/// The virtual environment's Python, made by `setup-venv.sh` on first use
/// (once per test process; it does nothing when the environment is up to
/// date), so that `cargo test --workspace` needs no step before it.
fn venv_python() -> PathBuf {
    static READY: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    let ready = READY.get_or_init(|| {
        let venv = std::env::var_os("MYSQL_LOCK_INTEROP_VENV")
            .map_or_else(|| repo_root().join("target/interop-venv"), PathBuf::from);
        let started = std::time::Instant::now();
        let output = Command::new(repo_root().join("tests/interop/setup-venv.sh"))
            .env("MYSQL_LOCK_INTEROP_VENV", &venv)
            .output()
            .map_err(|err| format!("could not run setup-venv.sh: {err}"))?;
        if !output.status.success() {
            return Err(format!(
                "setup-venv.sh failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        testkit::report(&format!(
            "django interop: {} ({:.1?})",
            String::from_utf8_lossy(&output.stdout).trim(),
            started.elapsed()
        ));
        Ok(venv.join("bin/python"))
    });
    match ready {
        Ok(python) => python.clone(),
        Err(why) => {
            panic!("the django-mysql interop test has no Python environment: {why}; {SETUP}")
        }
    }
}

/// A django-mysql worker process, asked one line at a time.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    answers: mpsc::Receiver<String>,
}

/// The outcome of a django-mysql `Lock.acquire()`.
#[derive(Debug, PartialEq)]
enum Acquired {
    /// Held on the worker's connection with this `CONNECTION_ID()`.
    Held(u64),
    /// `django_mysql.exceptions.TimeoutError`.
    Timeout,
}

impl Worker {
    /// Starts a worker whose Django `DATABASES` has `aliases` (alias,
    /// database name) on the test server.
    fn start(aliases: &[(&str, &str)]) -> Self {
        let python = venv_python();
        let script = repo_root().join("tests/interop/django_worker.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(testkit::url())
            .args(aliases.iter().map(|(alias, db)| format!("{alias}={db}")))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("could not start {}: {err}; {SETUP}", python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut worker = Self {
            child,
            stdin,
            answers,
        };
        let ready = worker.answer().unwrap_or_else(|why| {
            panic!(
                "the django-mysql worker did not start ({why}; its errors are above); \
                 if a module is missing, {SETUP}"
            )
        });
        let fields: Vec<&str> = ready.split('\t').collect();
        assert_eq!(fields[0], "ready", "worker said {ready:?}");
        testkit::report(&format!(
            "django interop: django-mysql {}, {}, Django {}",
            fields[1], fields[2], fields[3]
        ));
        worker
    }

    fn answer(&mut self) -> Result<String, String> {
        self.answers
            .recv_timeout(ANSWER_LIMIT)
            .map_err(|err| match err {
                mpsc::RecvTimeoutError::Timeout => format!("no answer within {ANSWER_LIMIT:?}"),
                mpsc::RecvTimeoutError::Disconnected => "it exited".into(),
            })
    }

    /// Sends one request; returns the answer's fields.
    fn ask(&mut self, request: &[&str]) -> Vec<String> {
        writeln!(self.stdin, "{}", request.join("\t")).expect("write to the worker");
        self.stdin.flush().expect("flush to the worker");
        let line = self
            .answer()
            .unwrap_or_else(|why| panic!("worker, asked {request:?}: {why}"));
        assert!(
            !line.starts_with("error"),
            "worker, asked {request:?}: {line}"
        );
        line.split('\t').map(str::to_owned).collect()
    }

    /// django-mysql's `Lock(name, acquire_timeout=0.1, using=alias).acquire()`;
    /// also returns the name django-mysql sent.
    fn acquire(&mut self, alias: &str, name: &str) -> (Acquired, String) {
        let fields = self.ask(&["acquire", alias, name, PY_TIMEOUT]);
        match fields[0].as_str() {
            "held" => (
                Acquired::Held(fields[1].parse().expect("a connection id")),
                fields[2].clone(),
            ),
            "timeout" => (Acquired::Timeout, fields[1].clone()),
            other => panic!("unexpected answer {other:?}"),
        }
    }

    fn release(&mut self, alias: &str, name: &str) {
        assert_eq!(self.ask(&["release", alias, name]), ["released"]);
    }

    /// django-mysql's `Lock(name, using=alias).holding_connection_id()`, and
    /// the name it sent.
    fn holder(&mut self, alias: &str, name: &str) -> (Option<u64>, String) {
        let fields = self.ask(&["holder", alias, name]);
        assert_eq!(fields[0], "holder");
        let id = (fields[1] != "none").then(|| fields[1].parse().expect("a connection id"));
        (id, fields[2].clone())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test server's URL with another database (and extra query parameters).
fn url_with_database(db: &str, extra_query: &str) -> String {
    let url = testkit::url();
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (server, _db) = base.rsplit_once('/').expect("a URL with a path");
    let query: Vec<&str> = [query, extra_query]
        .into_iter()
        .filter(|q| !q.is_empty())
        .collect();
    if query.is_empty() {
        format!("{server}/{db}")
    } else {
        format!("{server}/{db}?{}", query.join("&"))
    }
}

/// Registers `alias` for database `db` (created if needed) with the URL
/// query `extra_query` added.
fn register(alias: &str, db: &str, extra_query: &str) {
    // A bound parameter can't name a database: `db` is a constant of this
    // file, quoted as an identifier.
    assert!(db.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    testkit::admin()
        .query_drop(format!("CREATE DATABASE IF NOT EXISTS `{db}`"))
        .expect("create the database");
    mysql_lock::register(alias, &url_with_database(db, extra_query)).expect("register");
}

/// The core of every case: `lock` (Rust) and django-mysql's
/// `Lock(name, using=py_alias)` send the same name, exclude each other both
/// ways, and agree on who holds it.
fn excludes_both_ways(worker: &mut Worker, py_alias: &str, lock: &Lock, name: &str) {
    let (free, sent) = worker.holder(py_alias, name);
    assert_eq!(free, None, "{name:?} starts free");
    assert_eq!(
        lock.server_name().unwrap(),
        sent,
        "the library and django-mysql send the same name"
    );

    // Rust holds: django-mysql times out, and both see Rust's connection.
    let guard = lock.acquire().expect("Rust takes the free lock");
    let rust_id = guard.connection_id();
    assert_eq!(
        worker.acquire(py_alias, name).0,
        Acquired::Timeout,
        "django-mysql must not get {sent:?} while Rust holds it"
    );
    assert_eq!(worker.holder(py_alias, name).0, Some(rust_id));
    assert_eq!(lock.holding_connection_id().unwrap(), Some(rust_id));
    guard.release().unwrap();

    // django-mysql holds: Rust's try_acquire is None, both see its connection.
    let Acquired::Held(py_id) = worker.acquire(py_alias, name).0 else {
        panic!("django-mysql could not take {sent:?} after Rust released it");
    };
    assert!(
        lock.try_acquire().unwrap().is_none(),
        "Rust must not get {sent:?} while django-mysql holds it"
    );
    assert_eq!(lock.holding_connection_id().unwrap(), Some(py_id));
    assert_eq!(worker.holder(py_alias, name).0, Some(py_id));
    assert_eq!(testkit::holder(&sent), Some(py_id));
    worker.release(py_alias, name);

    let again = lock.try_acquire().unwrap().expect("free again for Rust");
    again.release().unwrap();
}

#[test]
fn plain_lower_case_names_exclude_both_ways() {
    if skipped() {
        return;
    }
    let started = Instant::now();
    testkit::setup();
    let db = mysql::Opts::from_url(testkit::url())
        .unwrap()
        .get_db_name()
        .expect("the test URL names a database")
        .to_owned();
    let mut worker = Worker::start(&[("default", &db)]);
    let name = testkit::unique("interop-plain");
    let lock = Lock::new(name.as_str());
    assert_eq!(lock.server_name().unwrap(), format!("{db}.{name}"));
    excludes_both_ways(&mut worker, "default", &lock, &name);
    testkit::report(&format!(
        "django interop, plain names: {:?}",
        started.elapsed()
    ));
}

#[test]
fn a_mixed_case_database_excludes_both_ways() {
    if skipped() {
        return;
    }
    let started = Instant::now();
    register("interop-mixed-db", MIXED_DB, "");
    let mut worker = Worker::start(&[("mixed", MIXED_DB)]);
    let name = testkit::unique("ifx-job");
    let lock = Lock::new(name.as_str()).using("interop-mixed-db");
    assert_eq!(lock.server_name().unwrap(), format!("{MIXED_DB}.{name}"));
    excludes_both_ways(&mut worker, "mixed", &lock, &name);
    testkit::report(&format!(
        "django interop, mixed-case database: {:?}",
        started.elapsed()
    ));
}

#[test]
fn exact_names_exclude_both_ways() {
    if skipped() {
        return;
    }
    let started = Instant::now();
    register("interop-exact", MIXED_DB, "lock_names=exact");
    register("interop-portable", MIXED_DB, "");
    let mut worker = Worker::start(&[("mixed", MIXED_DB)]);
    // Upper case and `#`: the portable scheme encodes such a name, so it
    // never meets django-mysql's...
    let name = format!("Ifx-Job#{}", testkit::unique("Batch"));
    let portable = Lock::new(name.as_str()).using("interop-portable");
    let (_, python_sent) = worker.holder("mixed", &name);
    assert_ne!(portable.server_name().unwrap(), python_sent);
    // ...and an alias with exact names sends it as django-mysql does.
    let lock = Lock::new(name.as_str()).using("interop-exact");
    assert_eq!(lock.server_name().unwrap(), format!("{MIXED_DB}.{name}"));
    excludes_both_ways(&mut worker, "mixed", &lock, &name);
    // A name over 64 bytes too (MariaDB allows 192).
    let long = format!("{}-{}", "Long".repeat(20), testkit::unique("X"));
    let lock = Lock::new(long.as_str()).using("interop-exact");
    excludes_both_ways(&mut worker, "mixed", &lock, &long);
    testkit::report(&format!(
        "django interop, exact names: {:?}",
        started.elapsed()
    ));
}
