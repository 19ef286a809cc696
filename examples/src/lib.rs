//! What the demos share: the server they use, the timeline their worker
//! processes print, and the launcher that gathers it, prints it in time
//! order and checks that no two workers ever ran the job at once.
//!
//! Each worker prints `EVENT <unix ns> <worker> <kind> <text>` lines; the
//! kinds `start` and `end` bound a run of the job, `skip` is a worker that
//! did not run it.
//!
//! ```no_run
//! mysql_lock_examples::event("1", "ask", "wants the lock");
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Child, ExitCode};
use std::time::{SystemTime, UNIX_EPOCH};

/// The URL when `DATABASE_URL` is not set: a local server, as a fresh
/// Debian/Ubuntu `mariadb-server` (or the CI setup) offers it.
pub const FALLBACK_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// `DATABASE_URL`, or [`FALLBACK_URL`].
///
/// ```
/// assert!(mysql_lock_examples::database_url().starts_with("mysql://"));
/// ```
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| FALLBACK_URL.to_owned())
}

/// Nanoseconds since the Unix epoch: the timeline's clock, shared by the
/// processes of one machine.
///
/// ```
/// assert!(mysql_lock_examples::now_ns() > 0);
/// ```
pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_nanos()
}

/// Prints one timeline event of `worker` (a number, or `2.3` for task 3
/// of worker 2).
///
/// ```no_run
/// mysql_lock_examples::event("2.3", "start", "holds the lock");
/// ```
pub fn event(worker: &str, kind: &str, text: &str) {
    println!("EVENT {} {worker} {kind} {text}", now_ns());
}

/// `user@host:port/database`: never the password.
///
/// ```
/// let shown = mysql_lock_examples::describe("mysql://app:secret@db:3306/jobs");
/// assert_eq!(shown, "app@db:3306/jobs");
/// ```
pub fn describe(url: &str) -> String {
    match mysql_lock::mysql::Opts::from_url(url) {
        Ok(opts) => format!(
            "{}@{}:{}/{}",
            opts.get_user().unwrap_or(""),
            opts.get_ip_or_hostname(),
            opts.get_tcp_port(),
            opts.get_db_name().unwrap_or("")
        ),
        Err(err) => format!("an invalid URL ({err})"),
    }
}

/// Registers `url` as the default alias and checks that the server
/// answers; on failure prints what to do (for `command`, the demo's
/// `cargo run` line) and returns false.
///
/// ```no_run
/// let url = mysql_lock_examples::database_url();
/// assert!(mysql_lock_examples::server_answers(&url, "cargo run --bin demo"));
/// ```
pub fn server_answers(url: &str, command: &str) -> bool {
    let reachable = mysql_lock::register(mysql_lock::DEFAULT_ALIAS, url)
        .and_then(|()| mysql_lock::Lock::new("nightly-report").is_held());
    match reachable {
        Ok(_) => true,
        Err(err) => {
            eprintln!(
                "mysql-lock demo: no usable server at {} ({err}).\n\
                 Point DATABASE_URL at a MySQL or MariaDB server, for example \
                 DATABASE_URL=mysql://user:password@host:3306/db {command}; \
                 on Debian/Ubuntu, `apt-get install mariadb-server` gives a local one \
                 (and .ci/run sets it up for root over TCP).",
                describe(url)
            );
            false
        }
    }
}

/// Gathers the timeline of `children` (started at `started`, from
/// [`now_ns`]), prints it in time order, then a summary, and checks it:
/// success when every worker exited well, at least one ran the job and no
/// two runs overlapped.
///
/// ```no_run
/// let exe = std::env::current_exe().unwrap();
/// let started = mysql_lock_examples::now_ns();
/// let child = std::process::Command::new(exe)
///     .arg("worker")
///     .stdout(std::process::Stdio::piped())
///     .spawn()
///     .unwrap();
/// let _ = mysql_lock_examples::gather(vec![child], started);
/// ```
pub fn gather(children: Vec<Child>, started: u128) -> ExitCode {
    let (tx, rx) = std::sync::mpsc::channel();
    let readers: Vec<_> = children
        .into_iter()
        .map(|mut child| {
            let stdout = child.stdout.take().expect("a worker's stdout is piped");
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
                child.wait().map(|s| s.success()).unwrap_or(false)
            })
        })
        .collect();
    drop(tx);
    // Each worker's lines arrive through its own pipe: gather them all and
    // print them in the order they happened, by their timestamps.
    let mut events: Vec<(u128, String, String, String)> = Vec::new();
    for line in rx {
        let mut parts = line.splitn(5, ' ');
        let (Some("EVENT"), Some(at), Some(id), Some(kind), Some(text)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            println!("{line}");
            continue;
        };
        let Ok(at) = at.parse() else {
            println!("{line}");
            continue;
        };
        events.push((at, id.to_owned(), kind.to_owned(), text.to_owned()));
    }
    events.sort_by_key(|event| event.0);
    let mut runs: Vec<(u128, u128)> = Vec::new();
    let mut open: std::collections::HashMap<String, u128> = Default::default();
    let (mut ran, mut skipped) = (0, 0);
    for (at, id, kind, text) in events {
        println!(
            "[{:>6.3} s] worker {id}: {text}",
            at.saturating_sub(started) as f64 / 1e9
        );
        match kind.as_str() {
            "start" => {
                open.insert(id, at);
            }
            "end" => {
                runs.push((open.remove(&id).unwrap_or(at), at));
                ran += 1;
            }
            "skip" => skipped += 1,
            _ => {}
        }
    }
    let all_ok = readers.into_iter().all(|r| r.join().unwrap_or(false));
    runs.sort_by_key(|run| run.0);
    let overlap = runs.windows(2).any(|w| w[1].0 < w[0].1);
    println!(
        "\n{ran} workers ran the job one after another, {skipped} skipped; {}",
        if overlap {
            "OVERLAP: two workers ran the job at once!"
        } else {
            "no two ever ran it at the same time."
        }
    );
    if all_ok && !overlap && ran >= 1 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs a demo binary `exe` against `url` (its `DATABASE_URL`) and returns
/// what it printed; panics, showing its output, when it failed. For the
/// demos' tests.
///
/// ```no_run
/// let stdout = mysql_lock_examples::run_demo("target/debug/demo", "mysql://root@127.0.0.1/test");
/// assert!(stdout.contains("no two ever ran it at the same time"));
/// ```
pub fn run_demo(exe: &str, url: &str) -> String {
    let output = std::process::Command::new(exe)
        .env("DATABASE_URL", url)
        .output()
        .unwrap_or_else(|err| panic!("run {exe}: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The timestamps (seconds) of the timeline lines `[ 0.123 s] ...` that
/// [`gather`] prints, in the order printed.
///
/// ```
/// let stamps = mysql_lock_examples::timeline_stamps("[ 0.100 s] worker 1: a\n[ 0.250 s] worker 2: b\n");
/// assert_eq!(stamps, [0.1, 0.25]);
/// ```
pub fn timeline_stamps(stdout: &str) -> Vec<f64> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix('['))
        .filter_map(|rest| rest.split(" s]").next())
        .filter_map(|stamp| stamp.trim().parse().ok())
        .collect()
}
