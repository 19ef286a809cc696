//! With the feature `tracing`, the library reports waits, acquisitions,
//! timeouts (with the holder), releases and losses (the background check's
//! too) to the installed subscriber. A small recording subscriber stands in
//! for a real one; it is the process's global default (the background check
//! runs on its own thread), so this is the only test of its binary.

use mysql::prelude::Queryable;
use mysql_lock::{Error, Lock};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Every event as `LEVEL message field=value ...`, and every span's name.
#[derive(Clone, Default)]
struct Recorder {
    lines: Arc<Mutex<Vec<String>>>,
    next_span: Arc<AtomicU64>,
}

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("mysql_lock")
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = format!("SPAN {}", span.metadata().name());
        span.record(&mut Line(&mut line));
        self.lines.lock().unwrap().push(line);
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().level().to_string();
        event.record(&mut Line(&mut line));
        self.lines.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

impl Recorder {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.lines.lock().unwrap())
    }

    fn wait_for(&self, needle: &str) -> Vec<String> {
        let started = Instant::now();
        let mut seen = Vec::new();
        while started.elapsed() < Duration::from_secs(3) {
            seen.extend(self.take());
            if seen.iter().any(|line| line.contains(needle)) {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no event with {needle:?} within 3 s: {seen:#?}");
    }
}

#[test]
fn waits_acquisitions_timeouts_releases_and_losses_are_reported() {
    let recorder = Recorder::default();
    tracing::subscriber::set_global_default(recorder.clone()).unwrap();
    testkit::setup();
    mysql_lock::set_check_interval(Duration::from_millis(100));
    let lock = Lock::new(testkit::unique("traced"));
    let server_name = lock.server_name().unwrap().to_owned();

    let guard = lock.acquire().unwrap();
    let id = guard.connection_id();
    let lines = recorder.take();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("SPAN mysql_lock::acquire") && l.contains(&server_name)),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("DEBUG message=lock acquired")
                && l.contains(&format!("connection_id={id}"))
                && l.contains("waited=")),
        "{lines:#?}"
    );

    // A timeout names the holder.
    let waited = std::thread::spawn({
        let lock = lock.clone().timeout(Duration::from_millis(100));
        move || lock.acquire().map(drop)
    })
    .join()
    .unwrap();
    assert!(matches!(waited, Err(Error::Timeout { .. })), "{waited:?}");
    let lines = recorder.take();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("INFO message=lock not acquired in time")
                && l.contains(&format!("holder=connection {id}"))),
        "{lines:#?}"
    );

    guard.release().unwrap();
    let lines = recorder.take();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("DEBUG message=lock released") && l.contains("held_for=")),
        "{lines:#?}"
    );

    // A loss found by the background check, then reported by the release.
    let guard = lock.acquire().unwrap();
    recorder.take();
    testkit::admin()
        .query_drop(format!("KILL CONNECTION {}", guard.connection_id()))
        .unwrap();
    let lines = recorder.wait_for("the background check found");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("WARN") && l.contains("lock lost") && l.contains(&server_name)),
        "{lines:#?}"
    );
    assert!(guard.release().is_err());
    let lines = recorder.take();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("WARN message=lock lost while held")),
        "{lines:#?}"
    );

    // Async locks tell the same.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let guard = runtime.block_on(lock.acquire_async()).unwrap();
    let id = guard.connection_id();
    let lines = recorder.take();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("SPAN mysql_lock::acquire") && l.contains(&server_name)),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("DEBUG message=lock acquired")
                && l.contains(&format!("connection_id={id}"))),
        "{lines:#?}"
    );
    runtime.block_on(guard.release()).unwrap();
    let lines = recorder.take();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("DEBUG message=lock released")),
        "{lines:#?}"
    );
    let guard = runtime.block_on(lock.acquire_async()).unwrap();
    recorder.take();
    testkit::admin()
        .query_drop(format!("KILL CONNECTION {}", guard.connection_id()))
        .unwrap();
    let lines = recorder.wait_for("the background check found");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("WARN") && l.contains("lock lost") && l.contains(&server_name)),
        "{lines:#?}"
    );
    assert!(runtime.block_on(guard.release()).is_err());
    mysql_lock::set_check_interval(mysql_lock::DEFAULT_CHECK_INTERVAL);
}
