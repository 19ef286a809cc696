//! The worker demo: `cargo run --bin demo`.
//!
//! Starts several worker processes (copies of this binary) at once. Each
//! runs the same exclusive job, `nightly_report`, guarded by
//! `#[mysql_lock]`: at any moment only one of them runs it, the others wait
//! for the lock, and the impatient worker (timeout 0) skips instead of
//! waiting. The output shows who holds the lock and who waited how long,
//! and the launcher checks from the workers' timeline that no two ever ran
//! the job at once.
//!
//! The server is the one in `DATABASE_URL`, where the library itself looks
//! for its default alias, else `mysql://root@127.0.0.1:3306/test`. Each
//! worker is what a real one would be: it registers nothing and lets the
//! library read `DATABASE_URL`. A single worker can be run by hand:
//! `DATABASE_URL=mysql://... cargo run --bin demo -- worker 1 wait`.

use mysql_lock::mysql_lock;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What the job produces.
struct Report {
    rows: u32,
}

/// The worker's error type: lock errors convert into it.
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Lock(#[from] mysql_lock::Error),
}

/// The exclusive job, for patient workers: waits up to 5 s for the lock.
#[mysql_lock(name = "nightly-report", timeout = 5)]
fn nightly_report(worker: u32, asked_at: Instant) -> Result<Report, JobError> {
    run_job(worker, asked_at)
}

/// The same job for an impatient worker: one attempt, no wait.
#[mysql_lock(name = "nightly-report", timeout = 0)]
fn nightly_report_or_skip(worker: u32, asked_at: Instant) -> Result<Report, JobError> {
    run_job(worker, asked_at)
}

/// The body both share: runs while the lock is held.
fn run_job(worker: u32, asked_at: Instant) -> Result<Report, JobError> {
    let held = mysql_lock::current().expect("the attribute holds the lock here");
    event(
        worker,
        "start",
        &format!(
            "holds `{}` on connection {} after waiting {:.3} s",
            held.server_name(),
            held.connection_id(),
            asked_at.elapsed().as_secs_f64()
        ),
    );
    std::thread::sleep(Duration::from_millis(400)); // the "report"
    event(worker, "end", "finished the report, releasing the lock");
    Ok(Report { rows: 100 + worker })
}

/// Prints one timeline event: `EVENT <unix ns> <worker> <kind> <text>`.
fn event(worker: u32, kind: &str, text: &str) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    println!("EVENT {now} {worker} {kind} {text}");
}

fn worker(id: u32, patient: bool) -> std::process::ExitCode {
    let asked_at = Instant::now();
    event(
        id,
        "ask",
        if patient {
            "wants the lock (will wait up to 5 s)"
        } else {
            "wants the lock (will not wait)"
        },
    );
    let result = if patient {
        nightly_report(id, asked_at)
    } else {
        nightly_report_or_skip(id, asked_at)
    };
    match result {
        Ok(report) => {
            event(id, "done", &format!("report with {} rows", report.rows));
            std::process::ExitCode::SUCCESS
        }
        Err(JobError::Lock(mysql_lock::Error::Timeout { .. })) => {
            let holder = mysql_lock::Lock::new("nightly-report")
                .holding_connection_id()
                .ok()
                .flatten();
            let by = holder.map_or(String::new(), |id| format!(" (held by connection {id})"));
            event(
                id,
                "skip",
                &format!("skipped: another worker is running the job{by}"),
            );
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            event(id, "error", &err.to_string());
            std::process::ExitCode::FAILURE
        }
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("worker") {
        let id = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
        let patient = args.get(2).map(String::as_str) != Some("skip");
        return worker(id, patient);
    }
    launch()
}

/// The URL when `DATABASE_URL` is not set: a local server, as a fresh
/// Debian/Ubuntu `mariadb-server` (or the CI setup) offers it.
const FALLBACK_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// `user@host:port/database`: never the password.
fn describe(url: &str) -> String {
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

/// Starts the workers, gathers their timeline, prints it in time order,
/// and checks it.
fn launch() -> std::process::ExitCode {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| FALLBACK_URL.to_owned());
    let reachable = mysql_lock::register(mysql_lock::DEFAULT_ALIAS, &url)
        .and_then(|()| mysql_lock::Lock::new("nightly-report").is_held());
    if let Err(err) = reachable {
        eprintln!(
            "mysql-lock demo: no usable server at {} ({err}).\n\
             Point DATABASE_URL at a MySQL or MariaDB server, for example \
             DATABASE_URL=mysql://user:password@host:3306/db cargo run --bin demo; \
             on Debian/Ubuntu, `apt-get install mariadb-server` gives a local one \
             (and .ci/run sets it up for root over TCP).",
            describe(&url)
        );
        return std::process::ExitCode::FAILURE;
    }
    println!(
        "mysql-lock demo: 4 workers compete for the job `nightly-report` on {}",
        describe(&url)
    );
    println!(
        "workers 1-3 wait for the lock (timeout 5 s); worker 4 skips if it is taken (timeout 0)\n"
    );
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let exe = std::env::current_exe().expect("the demo's own path");
    let children: Vec<_> = (1..=4u32)
        .map(|id| {
            if id == 4 {
                // Let somebody take the lock first, so the skip is visible.
                std::thread::sleep(Duration::from_millis(150));
            }
            Command::new(&exe)
                .args([
                    "worker",
                    &id.to_string(),
                    if id == 4 { "skip" } else { "wait" },
                ])
                .env("DATABASE_URL", &url)
                .stdout(Stdio::piped())
                .spawn()
                .expect("start a worker")
        })
        .collect();
    let (tx, rx) = std::sync::mpsc::channel();
    let readers: Vec<_> = children
        .into_iter()
        .map(|mut child| {
            let stdout = child.stdout.take().unwrap();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    tx.send(line).unwrap();
                }
                child.wait().map(|s| s.success()).unwrap_or(false)
            })
        })
        .collect();
    drop(tx);
    // Each worker's lines arrive through its own pipe: gather them all and
    // print them in the order they happened, by their timestamps.
    let mut events: Vec<(u128, u32, String, String)> = Vec::new();
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
        let (Ok(at), Ok(id)) = (at.parse(), id.parse()) else {
            println!("{line}");
            continue;
        };
        events.push((at, id, kind.to_owned(), text.to_owned()));
    }
    events.sort_by_key(|event| event.0);
    let mut runs: Vec<(u32, u128, u128)> = Vec::new();
    let mut open: std::collections::HashMap<u32, u128> = Default::default();
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
                runs.push((id, open.remove(&id).unwrap_or(at), at));
                ran += 1;
            }
            "skip" => skipped += 1,
            _ => {}
        }
    }
    let all_ok = readers.into_iter().all(|r| r.join().unwrap_or(false));
    runs.sort_by_key(|r| r.1);
    let overlap = runs.windows(2).any(|w| w[1].1 < w[0].2);
    println!(
        "\n{ran} workers ran the job one after another, {skipped} skipped; {}",
        if overlap {
            "OVERLAP: two workers ran the job at once!"
        } else {
            "no two ever ran it at the same time."
        }
    );
    if all_ok && !overlap && ran >= 1 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
