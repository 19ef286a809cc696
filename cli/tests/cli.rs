//! The `mysql-lock` binary, run as a subprocess against the live server
//! (and, for `list`, a private server with the `metadata_lock_info`
//! plugin): it holds the lock while the command runs, passes exit codes
//! through, exits 75 when busy, forwards signals, holds `--min-hold`,
//! reports a lost lock, shows holders as written, and excludes (and is
//! excluded by) an annotated function.

use mysql_lock::Lock;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mysql-lock");

/// The command with the test server's URL in its environment (as a cron
/// job would have it), nothing else of ours.
fn cli(url: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("DATABASE_URL", url)
        .env_remove("MYSQL_URL")
        .stdin(Stdio::null());
    command
}

fn run(url: &str, args: &[&str]) -> Output {
    cli(url).args(args).output().expect("run mysql-lock")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits until `lock` is held by someone; returns the holder's id.
fn wait_held(lock: &Lock) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(id) = lock.holding_connection_id().unwrap() {
            return id;
        }
        assert!(Instant::now() < deadline, "{} was never taken", lock.name());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Starts `run` with a shell script that prints `ready` once it runs;
/// returns when it has.
fn spawn_ready(
    url: &str,
    args: &[&str],
    script: &str,
) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = cli(url)
        .args(args)
        .args(["--", "sh", "-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    (child, out)
}

#[test]
fn run_holds_the_lock_while_the_command_runs() {
    let url = testkit::setup();
    let name = testkit::unique("cli-holds");
    let lock = Lock::new(name.as_str());
    let child = cli(url)
        .args(["run", "--name", &name, "--", "sleep", "0.4"])
        .spawn()
        .unwrap();
    let holder = wait_held(&lock);
    assert!(lock.try_acquire().unwrap().is_none(), "held by {holder}");
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(0));
    assert_eq!(lock.holding_connection_id().unwrap(), None);
}

#[test]
fn exit_codes_pass_through() {
    let url = testkit::setup();
    let name = testkit::unique("cli-codes");
    for (script, code) in [("exit 0", 0), ("exit 42", 42), ("kill -9 $$", 137)] {
        let out = run(url, &["run", "--name", &name, "--", "sh", "-c", script]);
        assert_eq!(out.status.code(), Some(code), "{script}: {out:?}");
    }
    let out = run(url, &["run", "--name", &name, "--", "/nonexistent/command"]);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    assert!(text(&out.stderr).contains("could not run /nonexistent/command"));
    // Usage errors: clap's 2; the command is required after `--`.
    assert_eq!(run(url, &["run", "--name", &name]).status.code(), Some(2));
    let out = run(
        url,
        &[
            "run",
            "--name",
            &name,
            "--skip-if-busy",
            "--timeout",
            "1",
            "--",
            "true",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // No URL at all.
    let out = Command::new(BIN)
        .env_remove("DATABASE_URL")
        .args(["run", "--name", &name, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stderr).contains("DATABASE_URL"));
}

#[test]
fn busy_skip_and_timeout_exit_75() {
    let url = testkit::setup();
    let name = testkit::unique("cli-busy");
    let guard = Lock::new(name.as_str()).acquire().unwrap();

    let started = Instant::now();
    let out = run(
        url,
        &[
            "run",
            "--name",
            &name,
            "--skip-if-busy",
            "--",
            "echo",
            "ran",
        ],
    );
    assert_eq!(out.status.code(), Some(75), "{out:?}");
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "quiet: {out:?}"
    );
    testkit::report(&format!(
        "run --skip-if-busy on a held lock: {:?}",
        started.elapsed()
    ));

    let started = Instant::now();
    let out = run(
        url,
        &[
            "run",
            "--name",
            &name,
            "--timeout",
            "0.3",
            "--",
            "echo",
            "ran",
        ],
    );
    let waited = started.elapsed();
    assert_eq!(out.status.code(), Some(75), "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("timed out after 300ms"),
        "{out:?}"
    );
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "{waited:?}"
    );

    drop(guard);
    let out = run(
        url,
        &[
            "run",
            "--name",
            &name,
            "--skip-if-busy",
            "--",
            "echo",
            "ran",
        ],
    );
    assert_eq!(
        (out.status.code(), text(&out.stdout).trim()),
        (Some(0), "ran")
    );
}

#[test]
fn signals_are_forwarded_to_the_command() {
    let url = testkit::setup();
    let name = testkit::unique("cli-signal");
    for (signal, number) in [("TERM", 15), ("HUP", 1), ("INT", 2)] {
        let script = format!(
            "trap 'echo got-{signal}; exit 7' {signal}; echo ready; \
             while :; do sleep 0.02; done"
        );
        let (child, mut out) = spawn_ready(url, &["run", "--name", &name], &script);
        let killed = Command::new("kill")
            .args([format!("-{number}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait_with_output().unwrap().status;
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), format!("got-{signal}"));
        assert_eq!(status.code(), Some(7), "SIG{signal}");
    }
    // A command that dies from the forwarded signal: 128 + N.
    let (child, _out) = spawn_ready(url, &["run", "--name", &name], "echo ready; exec sleep 10");
    Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert_eq!(
        child.wait_with_output().unwrap().status.code(),
        Some(128 + 15)
    );
    assert_eq!(
        Lock::new(name.as_str()).holding_connection_id().unwrap(),
        None
    );
}

#[test]
fn min_hold_keeps_the_lock() {
    let url = testkit::setup();
    let name = testkit::unique("cli-min-hold");
    let lock = Lock::new(name.as_str());
    let started = Instant::now();
    let child = cli(url)
        .args(["run", "--name", &name, "--min-hold", "0.6", "--", "true"])
        .spawn()
        .unwrap();
    wait_held(&lock);
    std::thread::sleep(Duration::from_millis(300));
    assert!(lock.is_held().unwrap(), "released before --min-hold");
    let status = child.wait_with_output().unwrap().status;
    let took = started.elapsed();
    assert_eq!(status.code(), Some(0));
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(!lock.is_held().unwrap());

    // A SIGTERM ends the wait at once.
    let child = cli(url)
        .args(["run", "--name", &name, "--min-hold", "30", "--", "true"])
        .spawn()
        .unwrap();
    wait_held(&lock);
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_lost_lock_is_reported_and_the_command_stopped() {
    let url = testkit::setup();
    let name = testkit::unique("cli-lost");
    let script = "trap 'echo stopped; exit 0' TERM; echo ready; while :; do sleep 0.02; done";
    let (child, mut out) = spawn_ready(
        url,
        &[
            "run",
            "--name",
            &name,
            "--check-interval",
            "0.05",
            "--on-lost",
            "term",
        ],
        script,
    );
    // An operator frees it.
    let killed = run(url, &["release", &name, "--kill"]);
    assert_eq!(killed.status.code(), Some(0), "{killed:?}");
    assert!(
        text(&killed.stdout).contains("it is free now"),
        "{killed:?}"
    );
    let started = Instant::now();
    let done = child.wait_with_output().unwrap();
    testkit::report(&format!(
        "lost lock to command stopped: {:?}",
        started.elapsed()
    ));
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "stopped");
    // The command exited 0, but its lock was lost: 76.
    assert_eq!(done.status.code(), Some(76), "{done:?}");
    let stderr = text(&done.stderr);
    assert!(
        stderr.contains("was lost") && stderr.contains("SIGTERM"),
        "{stderr}"
    );
}

#[test]
fn a_lock_lost_during_min_hold_ends_the_wait() {
    let url = testkit::setup();
    let name = testkit::unique("cli-lost-min-hold");
    let lock = Lock::new(name.as_str());
    let child = cli(url)
        .args([
            "run",
            "--name",
            &name,
            "--min-hold",
            "30",
            "--check-interval",
            "0.05",
        ])
        .args(["--", "true"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_held(&lock);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        run(url, &["release", &name, "--kill"]).status.code(),
        Some(0)
    );
    let started = Instant::now();
    let done = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(done.status.code(), Some(76), "{done:?}");
    let stderr = text(&done.stderr);
    assert!(stderr.contains("lost after the command ended"), "{stderr}");
}

#[test]
fn release_refuses_without_kill() {
    let url = testkit::setup();
    let name = testkit::unique("cli-release");
    let lock = Lock::new(name.as_str());
    let out = run(url, &["release", &name, "--kill"]);
    assert_eq!(out.status.code(), Some(1), "free: {out:?}");

    let guard = lock.acquire().unwrap();
    let out = run(url, &["release", &name]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--kill") && stderr.contains(&guard.connection_id().to_string()),
        "{stderr}"
    );
    assert_eq!(
        lock.holding_connection_id().unwrap(),
        Some(guard.connection_id())
    );

    let out = run(url, &["release", &name, "--kill"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("killed connection {}", guard.connection_id())),
        "{stdout}"
    );
    // Asked on another connection: this thread's session connection is
    // the one that was killed.
    assert_eq!(testkit::holder(lock.server_name().unwrap()), None);
    assert!(matches!(
        guard.release(),
        Err(mysql_lock::Error::LockLost { .. })
    ));
}

#[test]
fn holder_shows_the_name_as_written_and_the_guards_connection() {
    let url = testkit::setup();
    let name = testkit::unique("Cli Holder");
    let lock = Lock::new(name.as_str());
    let out = run(url, &["holder", &name]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        text(&run(url, &["holder", &name, "--json"]).stdout),
        "null\n"
    );

    let guard = lock.acquire().unwrap();
    let id = guard.connection_id();
    let out = run(url, &["holder", &name, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let json = text(&out.stdout);
    // An encoded name (upper case, spaces): the same server name as the
    // library's.
    let server_name = lock.server_name().unwrap();
    assert!(
        json.contains(&format!("\"server_name\":\"{server_name}\"")),
        "{json}"
    );
    assert!(json.contains(&format!("\"connection_id\":{id},")), "{json}");
    assert!(json.contains("\"encoded\":true"), "{json}");
    let table = text(&run(url, &["holder", &name]).stdout);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains(&id.to_string()), "{table}");
}

#[test]
fn list_shows_locks_as_written() {
    let server =
        testkit::PrivateServer::start_with_args(&["--plugin-load-add=metadata_lock_info"]).unwrap();
    let url = server.url();
    mysql_lock::register("cli-private", &url).unwrap();
    let lock = Lock::new("nightly-report").using("cli-private");
    let guard = lock.acquire().unwrap();
    let other = Lock::new("other-job").using("cli-private");
    let other_guard = other.acquire().unwrap();
    let id = guard.connection_id();

    let out = run(&url, &["list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let json = text(&out.stdout);
    assert!(json.starts_with("[\n") && json.ends_with("]\n"), "{json}");
    let line = json
        .lines()
        .find(|line| line.contains("\"name\":\"nightly-report\""))
        .unwrap_or_else(|| panic!("{json}"));
    assert!(line.contains(&format!("\"connection_id\":{id},")), "{line}");
    assert!(
        line.contains("\"server_name\":\"test.nightly-report\""),
        "{line}"
    );
    assert!(line.contains("\"user\":\"root\""), "{line}");
    assert!(line.contains("\"held_for_ms\":"), "{line}");

    let out = run(&url, &["list", "--prefix", "nightly"]);
    let table = text(&out.stdout);
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(
        table.lines().nth(1).unwrap().starts_with("nightly-report "),
        "{table}"
    );
    assert!(table.contains(&format!(" {id} ")), "{table}");
    assert_eq!(
        run(&url, &["list", "--prefix", "none", "--json"]).stdout,
        b"[]\n"
    );
    // `holder` asks IS_USED_LOCK, and the plugin since when.
    let out = run(&url, &["holder", "nightly-report", "--json"]);
    let json = text(&out.stdout);
    assert!(json.contains(&format!("\"connection_id\":{id},")), "{json}");
    assert!(json.contains("\"source\":\"IS_USED_LOCK\""), "{json}");
    assert!(!json.contains("\"held_for_ms\":null"), "{json}");
    drop(other_guard);

    // The shared server, unless it offers a list, says what to enable.
    let out = run(testkit::url(), &["list"]);
    if out.status.code() != Some(0) {
        assert_eq!(out.status.code(), Some(69), "{out:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("metadata_lock_info") || stderr.contains("setup_instruments"),
            "{stderr}"
        );
        assert!(!stderr.contains("cannot register"), "{stderr}");
    }
}

/// The command and an annotated function use one encoding: each excludes
/// the other.
#[mysql_lock::mysql_lock(name = "cli-annotated-Exclusion", timeout = 0)]
fn annotated(url: &str) -> Result<Option<i32>, mysql_lock::Error> {
    // Runs while holding the lock: the command can't have it.
    let out = run(
        url,
        &[
            "run",
            "--name",
            "cli-annotated-Exclusion",
            "--skip-if-busy",
            "--",
            "true",
        ],
    );
    Ok(out.status.code())
}

#[test]
fn the_command_and_an_annotated_function_exclude_each_other() {
    let url = testkit::setup();
    assert_eq!(annotated(url).unwrap(), Some(75));

    let lock = Lock::new("cli-annotated-Exclusion");
    let child = cli(url)
        .args([
            "run",
            "--name",
            "cli-annotated-Exclusion",
            "--",
            "sleep",
            "0.5",
        ])
        .spawn()
        .unwrap();
    wait_held(&lock);
    let err = annotated(url).unwrap_err();
    assert!(matches!(err, mysql_lock::Error::Timeout { .. }), "{err:?}");
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(0));
}

/// The password never shows: not in `--help` (the URL's variable is read
/// by hand, not shown as a default), not in a connection error.
#[test]
fn the_password_never_shows() {
    let secret = "s3cr3t-pw";
    let url = format!("mysql://root:{secret}@127.0.0.1:1/test?tcp_connect_timeout_ms=500");
    let help = run(&url, &["run", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    testkit::assert_no_secret("--help", &text(&help.stdout), secret);
    for args in [
        &["run", "--name", "x", "--", "true"][..],
        &["list"],
        &["holder", "x"],
        &["release", "x", "--kill"],
    ] {
        let out = run(&url, args);
        assert_eq!(out.status.code(), Some(69), "{args:?}: {out:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("could not connect"), "{stderr}");
        testkit::assert_no_secret("stderr", &stderr, secret);
        let out = cli("mysql://unused@127.0.0.1/x")
            .arg("--url")
            .arg(&url)
            .args(args)
            .output()
            .unwrap();
        testkit::assert_no_secret("stderr", &text(&out.stderr), secret);
    }
}
