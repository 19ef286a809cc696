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
use mysql_lock_examples::event;
use mysql_lock_examples::{database_url, describe, gather, now_ns, server_answers};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
        &worker.to_string(),
        "start",
        &format!(
            "holds `{}` on connection {} after waiting {:.3} s",
            held.server_name(),
            held.connection_id(),
            asked_at.elapsed().as_secs_f64()
        ),
    );
    std::thread::sleep(Duration::from_millis(400)); // the "report"
    event(
        &worker.to_string(),
        "end",
        "finished the report, releasing the lock",
    );
    Ok(Report { rows: 100 + worker })
}

fn worker(number: u32, patient: bool) -> std::process::ExitCode {
    let asked_at = Instant::now();
    let id = &number.to_string();
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
        nightly_report(number, asked_at)
    } else {
        nightly_report_or_skip(number, asked_at)
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

/// Starts the workers, gathers their timeline, prints it in time order,
/// and checks it.
fn launch() -> std::process::ExitCode {
    let url = database_url();
    if !server_answers(&url, "cargo run --bin demo") {
        return std::process::ExitCode::FAILURE;
    }
    println!(
        "mysql-lock demo: 4 workers compete for the job `nightly-report` on {}",
        describe(&url)
    );
    println!(
        "workers 1-3 wait for the lock (timeout 5 s); worker 4 skips if it is taken (timeout 0)\n"
    );
    let started = now_ns();
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
    gather(children, started)
}
