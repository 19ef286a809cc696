//! The async worker demo: `cargo run -p mysql-lock-async-demo`.
//!
//! Starts two worker processes (copies of this binary). Each is what a
//! tokio worker binary is: a multi-thread runtime running several tasks
//! at once. Three tasks in each process call the exclusive job
//! `nightly_report`, an `async fn` under `#[mysql_lock]`: at any moment one
//! task in the whole fleet runs it, whatever process or thread it is on;
//! the others wait without blocking their runtime (a ticker task keeps
//! ticking meanwhile). A fourth task, in process 2, uses
//! `if_busy = "skip"` and skips while the job runs. The launcher prints the
//! timeline in time order and checks that no two runs ever overlapped.
//!
//! The server is the one in `DATABASE_URL`, else
//! `mysql://root@127.0.0.1:3306/test`.

use mysql_lock::mysql_lock;
use mysql_lock_examples::{database_url, describe, event, gather, now_ns, server_answers};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
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

/// The exclusive job: waits up to 10 s for the lock, without blocking the
/// runtime's threads.
#[mysql_lock(name = "nightly-report", timeout = 10)]
async fn nightly_report(who: String, asked_at: Instant) -> Result<Report, JobError> {
    run_job(&who, asked_at).await
}

/// The same job for a task that skips it while another runs it.
#[mysql_lock(name = "nightly-report", if_busy = "skip")]
async fn nightly_report_if_free(who: String) -> Result<Option<Report>, JobError> {
    run_job(&who, Instant::now()).await.map(Some)
}

/// The body both share: runs while the lock is held.
async fn run_job(who: &str, asked_at: Instant) -> Result<Report, JobError> {
    let holder = mysql_lock::Lock::new("nightly-report")
        .holding_connection_id_async()
        .await?
        .map_or_else(String::new, |id| format!(" on connection {id}"));
    event(
        who,
        "start",
        &format!(
            "holds `nightly-report`{holder} after waiting {:.3} s",
            asked_at.elapsed().as_secs_f64()
        ),
    );
    tokio::time::sleep(Duration::from_millis(250)).await; // the "report"
    event(who, "end", "finished the report, releasing the lock");
    Ok(Report { rows: 100 })
}

/// One worker process: three tasks that wait for the job (and, in worker
/// 2, one that skips it), and a ticker that shows the runtime stays free.
async fn worker(number: u32) -> ExitCode {
    let ticks = Arc::new(AtomicU32::new(0));
    let ticker = tokio::spawn({
        let ticks = Arc::clone(&ticks);
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let mut tasks = Vec::new();
    for task in 1..=3 {
        let who = format!("{number}.{task}");
        event(&who, "ask", "task wants the lock (will wait up to 10 s)");
        tasks.push(tokio::spawn(nightly_report(who, Instant::now())));
    }
    let mut ok = true;
    if number == 2 {
        // Once some task holds the job, so that the skip shows.
        let job = mysql_lock::Lock::new("nightly-report");
        for _ in 0..100 {
            if job.is_held_async().await.unwrap_or(false) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let who = format!("{number}.4");
        event(&who, "ask", "task wants the lock (skips if it is taken)");
        match nightly_report_if_free(who.clone()).await {
            Ok(Some(_)) => event(&who, "done", "the job was free: ran it"),
            Ok(None) => event(&who, "skip", "skipped: another task is running the job"),
            Err(err) => {
                event(&who, "error", &err.to_string());
                ok = false;
            }
        }
    }
    for (task, handle) in (1..).zip(tasks) {
        let who = format!("{number}.{task}");
        match handle.await {
            Ok(Ok(report)) => event(&who, "done", &format!("report with {} rows", report.rows)),
            Ok(Err(err)) => {
                event(&who, "error", &err.to_string());
                ok = false;
            }
            Err(err) => {
                event(&who, "error", &format!("the task failed: {err}"));
                ok = false;
            }
        }
    }
    ticker.abort();
    event(
        &number.to_string(),
        "ticks",
        &format!(
            "its runtime's ticker ticked {} times while its tasks waited: nothing blocked it",
            ticks.load(Ordering::Relaxed)
        ),
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("worker") {
        let number = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        return runtime.block_on(worker(number));
    }
    launch()
}

/// Starts the worker processes, then prints and checks their timeline.
fn launch() -> ExitCode {
    let url = database_url();
    if !server_answers(&url, "cargo run -p mysql-lock-async-demo") {
        return ExitCode::FAILURE;
    }
    println!(
        "mysql-lock async demo: 2 tokio worker processes, 3 tasks each, compete for the job \
         `nightly-report` on {}",
        describe(&url)
    );
    println!("task 2.4 skips if the job is taken (if_busy = \"skip\")\n");
    let started = now_ns();
    let exe = std::env::current_exe().expect("the demo's own path");
    let children = (1..=2u32)
        .map(|number| {
            Command::new(&exe)
                .args(["worker", &number.to_string()])
                .env("DATABASE_URL", &url)
                .stdout(Stdio::piped())
                .spawn()
                .expect("start a worker")
        })
        .collect();
    gather(children, started)
}
