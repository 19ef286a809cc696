//! How close the library comes to the raw protocol: `cargo bench -p
//! mysql-lock-tests --bench locks` (add `-- --quick` for a short run).
//!
//! Round trips on these machines take either about 20 µs or about 150 µs
//! depending on where the server's thread runs, which changes between
//! connections and runs. So every figure is a ratio between variants
//! measured in interleaved rounds of the same run, each round on fresh
//! connections for every variant, and the table reports the median over
//! rounds.
//!
//! `-- --async` adds the async figures (`Lock::acquire_async` on tokio
//! against a raw `mysql_async` loop: one task on each runtime flavour, 8
//! contending tasks and 4 processes, 10,000 tasks with a name each) and
//! `-- --async-only` runs only those; both combine with `--quick` and
//! `--uncontended-only`.

use mysql::prelude::Queryable;
use mysql_lock::{mysql_lock, Lock};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

/// The attribute's cost: an annotated function doing nothing...
#[mysql_lock(name = "bench-annotated", using = "bench")]
fn annotated() -> Result<(), mysql_lock::Error> {
    Ok(())
}

/// ...the same with a name formatted from its argument on each call (one
/// `format!` and `Lock::with_name`)...
#[mysql_lock(name = "bench-annotated-{id}", using = "bench")]
fn templated(id: u32) -> Result<(), mysql_lock::Error> {
    let _ = id;
    Ok(())
}

/// ...and the same by hand with `Lock`: take, run, release and report a
/// lost lock.
fn by_hand() -> Result<(), mysql_lock::Error> {
    static LOCK: LazyLock<Lock> = LazyLock::new(|| Lock::new("bench-annotated").using(ALIAS));
    let guard = LOCK.acquire()?;
    let result = Ok(());
    guard.release()?;
    result
}

/// The floor: one connection held for the whole run, sending `GET_LOCK`
/// and `RELEASE_LOCK` directly.
struct Raw {
    conn: mysql::Conn,
    get: mysql::Statement,
    release: mysql::Statement,
}

impl Raw {
    fn new() -> Self {
        let mut conn = mysql::Conn::new(mysql::Opts::from_url(&tcp_url()).unwrap()).unwrap();
        let get = conn.prep("SELECT GET_LOCK(?, ?)").unwrap();
        let release = conn.prep("SELECT RELEASE_LOCK(?)").unwrap();
        Self { conn, get, release }
    }

    /// Pins this connection's server thread to CPU 0 when `pin`.
    fn pinned(self, pin: bool) -> Self {
        if pin {
            pin_server_connection(u64::from(self.conn.connection_id()), 0);
        }
        self
    }

    fn get(&mut self, name: &str) {
        let got: Option<i64> = self.conn.exec_first(&self.get, (name, 60.0)).unwrap();
        assert_eq!(got, Some(1));
    }

    fn release(&mut self, name: &str) {
        let released: Option<i64> = self.conn.exec_first(&self.release, (name,)).unwrap();
        assert_eq!(released, Some(1));
    }

    /// Prepared statements (binary protocol), statement handles kept.
    fn cycle_prepared(&mut self, name: &str) {
        self.get(name);
        self.release(name);
    }

    /// Text protocol with a constant query (no name ever formatted in).
    fn cycle_text(&mut self) {
        let got: Option<i64> = self
            .conn
            .query_first("SELECT GET_LOCK('bench-raw-text', 60)")
            .unwrap();
        assert_eq!(got, Some(1));
        let released: Option<i64> = self
            .conn
            .query_first("SELECT RELEASE_LOCK('bench-raw-text')")
            .unwrap();
        assert_eq!(released, Some(1));
    }
}

/// Pins the calling thread to CPU `core`.
fn pin_current_thread(core: usize) -> bool {
    let Ok(link) = std::fs::read_link("/proc/thread-self") else {
        return false;
    };
    let tid = link.file_name().unwrap().to_string_lossy().into_owned();
    taskset(core, &tid)
}

/// The environment variable that lets the bench pin the threads of a server
/// it did not start (one already running at the configured URL): set to 1,
/// it changes that server's CPU affinity while the bench runs.
const PIN_SERVER_VAR: &str = "MYSQL_LOCK_BENCH_PIN_SERVER";

/// Why the bench may move the server's threads between CPUs, or why not.
/// A server the bench started itself (nothing answered at the configured
/// URL, so testkit started a private one) is ours to pin; any other server
/// may be shared or in production, and is pinned only when asked with
/// [`PIN_SERVER_VAR`].
fn server_pinning() -> Result<&'static str, String> {
    let configured = std::env::var("MYSQL_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| testkit::DEFAULT_URL.to_owned());
    if testkit::url() != configured {
        Ok("the bench started this server itself")
    } else if std::env::var(PIN_SERVER_VAR).is_ok_and(|v| v == "1") {
        Ok("asked with MYSQL_LOCK_BENCH_PIN_SERVER=1")
    } else {
        Err(format!(
            "the server at {} was not started by the bench, and its threads are pinned only \
             when asked: {PIN_SERVER_VAR}=1 pins each benchmarked connection's server thread \
             to CPU 0 while the bench runs, changing that server's CPU affinity (each \
             thread's own is restored when the single-thread figures are done)",
            testkit::redact(&configured)
        ))
    }
}

/// Server threads the bench pinned, with the affinity list each had before,
/// to give back in [`restore_server_threads`].
static PINNED_SERVER_THREADS: std::sync::Mutex<Vec<(u64, String)>> =
    std::sync::Mutex::new(Vec::new());

/// Pins the server thread that serves connection `id` to CPU `core`, after
/// recording its affinity. Only a thread of the very server the bench talks
/// to, running on this machine: its process must be the one named by the
/// server's `@@pid_file` (so a remote server's thread id can never move a
/// local process). Only call once [`server_pinning`] allowed it.
fn pin_server_connection(id: u64, core: usize) -> bool {
    let mut admin = testkit::admin();
    let tid: Option<u64> = admin
        .exec_first(
            "SELECT TID FROM information_schema.PROCESSLIST WHERE ID = ?",
            (id,),
        )
        .ok()
        .flatten();
    let pid_file: Option<String> = admin.query_first("SELECT @@pid_file").ok().flatten();
    let server_pid = pid_file
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|pid| pid.trim().parse::<u64>().ok());
    let (Some(tid), Some(server_pid)) = (tid, server_pid) else {
        return false;
    };
    let in_server = std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Tgid:"))
                .and_then(|tgid| tgid.trim().parse::<u64>().ok())
        })
        == Some(server_pid);
    if !in_server {
        return false;
    }
    let Some(original) = affinity(tid) else {
        return false;
    };
    {
        let mut pinned = PINNED_SERVER_THREADS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !pinned.iter().any(|(known, _)| *known == tid) {
            pinned.push((tid, original));
        }
    }
    taskset(core, &tid.to_string())
}

/// A thread's CPU affinity list, as `taskset -pc` prints it (`0,1`).
fn affinity(tid: u64) -> Option<String> {
    let out = std::process::Command::new("taskset")
        .args(["-pc", &tid.to_string()])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let list = text.trim().rsplit_once(": ")?.1.to_owned();
    (out.status.success() && !list.is_empty()).then_some(list)
}

/// Lets the calling thread run on every CPU again.
fn pin_current_thread_all() {
    if let Ok(link) = std::fs::read_link("/proc/thread-self") {
        let tid = link.file_name().unwrap().to_string_lossy().into_owned();
        let _ = std::process::Command::new("taskset")
            .args(["-pc", "0-1023", &tid])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

fn taskset(core: usize, tid: &str) -> bool {
    std::process::Command::new("taskset")
        .args(["-pc", &core.to_string(), tid])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Gives every server thread the bench pinned the affinity it had before
/// (threads that have ended since are skipped); returns how many.
fn restore_server_threads() -> usize {
    let pinned = std::mem::take(
        &mut *PINNED_SERVER_THREADS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    pinned
        .iter()
        .filter(|(tid, original)| {
            std::process::Command::new("taskset")
                .args(["-pc", original, &tid.to_string()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .count()
}

/// Restores the server's threads when dropped, so that a panicking bench
/// leaves them as it found them too.
struct RestoreServerThreads;

impl Drop for RestoreServerThreads {
    fn drop(&mut self) {
        restore_server_threads();
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Settings {
    quick: bool,
    /// Client thread and server threads pinned to CPU 0 (single-thread
    /// figures only), to take the round trip's placement out of the ratio.
    pin: bool,
    rounds: usize,
    cycles: usize,
    contended_rounds: usize,
}

/// Runs `variants` in interleaved rounds; returns per-variant median rates
/// (cycles/s) and the median over rounds of each variant's ratio to the
/// fastest of the first `floors` variants in the same round. `cpu` is the
/// clock of the client CPU column: [`thread_cpu`] when the calling thread
/// does all the work, [`process_cpu`] when runtime workers share it.
fn interleaved(
    settings: &Settings,
    floors: usize,
    cpu_clock: fn() -> Duration,
    variants: &mut [(&str, &mut dyn FnMut(usize))],
) -> Vec<Row> {
    let mut rates = vec![Vec::new(); variants.len()];
    let mut ratios = vec![Vec::new(); variants.len()];
    let mut cpu = vec![Vec::new(); variants.len()];
    for round in 0..settings.rounds {
        let mut round_rates = vec![0.0; variants.len()];
        // Alternate the order so that no variant always runs first.
        let order: Vec<usize> = if round % 2 == 0 {
            (0..variants.len()).collect()
        } else {
            (0..variants.len()).rev().collect()
        };
        for i in order {
            let (_, run) = &mut variants[i];
            run(10); // warm-up: fresh connections, prepared statements
            let started = Instant::now();
            let cpu_before = cpu_clock();
            run(settings.cycles);
            cpu[i].push(micros(cpu_clock() - cpu_before) / settings.cycles as f64);
            round_rates[i] = settings.cycles as f64 / started.elapsed().as_secs_f64();
        }
        let floor = round_rates[..floors].iter().cloned().fold(0.0, f64::max);
        for i in 0..variants.len() {
            rates[i].push(round_rates[i]);
            ratios[i].push(round_rates[i] / floor);
        }
    }
    variants
        .iter()
        .enumerate()
        .map(|(i, (name, _))| Row {
            name: name.to_string(),
            rate: median(&mut rates[i]),
            ratio: median(&mut ratios[i]),
            cpu_micros: median(&mut cpu[i]),
        })
        .collect()
}

/// One line of an [`interleaved`] table.
struct Row {
    name: String,
    /// Cycles per second, median over rounds.
    rate: f64,
    /// Rate ÷ the floor's rate in the same round, median over rounds.
    ratio: f64,
    /// The client thread's CPU time per cycle, median over rounds.
    cpu_micros: f64,
}

/// CPU time used by the calling thread so far.
fn thread_cpu() -> Duration {
    cpu_time(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time used by all threads of this process so far (the async
/// figures on a multi-thread runtime, whose workers do the I/O).
#[cfg_attr(not(feature = "async"), allow(dead_code))]
fn process_cpu() -> Duration {
    cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn cpu_time(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime({clock})");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The alias the library variants use: the test server over TCP, as the
/// raw variants.
const ALIAS: &str = "bench";

/// Opens the library's connection for this thread and pins its server
/// thread to CPU 0 when `pin` (one thread reuses the same pooled connection).
fn pin_library_connection(lock: &Lock, pin: bool) {
    let guard = lock.acquire().unwrap();
    if pin {
        pin_server_connection(guard.connection_id(), 0);
    }
    guard.release().unwrap();
}

fn fresh_library_connections() {
    mysql_lock::close_idle_connections(ALIAS).unwrap();
}

/// The server URL, over loopback TCP (the driver would otherwise switch a
/// loopback URL to the Unix socket).
fn tcp_url() -> String {
    let url = testkit::url();
    if url.contains("prefer_socket") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&prefer_socket=false")
    } else {
        format!("{url}?prefer_socket=false")
    }
}

fn uncontended(settings: &Settings) {
    println!("\n## Uncontended acquire + release (one thread)\n");
    let name = testkit::unique("bench-uncontended");
    // The default timeout (10 s), as the annotated functions; one variant
    // with a longer one, whose receive bound the release can't keep.
    let lock = Lock::new(name.as_str()).using(ALIAS);
    let long = lock.clone().timeout(Duration::from_secs(60));
    let server_name = lock.server_name().unwrap().to_owned();
    let annotated_lock = Lock::new("bench-annotated").using(ALIAS);
    let mut raw_prepared = None::<Raw>;
    let mut raw_text = None::<Raw>;
    let results = interleaved(
        settings,
        2,
        thread_cpu,
        &mut [
            ("raw, prepared (the floor)", &mut |n| {
                if n == 10 {
                    raw_prepared = Some(Raw::new().pinned(settings.pin));
                }
                let raw = raw_prepared.as_mut().unwrap();
                for _ in 0..n {
                    raw.cycle_prepared(&server_name);
                }
            }),
            ("raw, text protocol", &mut |n| {
                if n == 10 {
                    raw_text = Some(Raw::new().pinned(settings.pin));
                }
                let raw = raw_text.as_mut().unwrap();
                for _ in 0..n {
                    raw.cycle_text();
                }
            }),
            (
                "Lock::acquire + release",
                &mut library_variant(&lock, settings.pin, || {
                    lock.acquire().unwrap().release().unwrap()
                }),
            ),
            (
                "Lock with a 60 s timeout",
                &mut library_variant(&long, settings.pin, || {
                    long.acquire().unwrap().release().unwrap()
                }),
            ),
            (
                "Lock, with a tracing subscriber",
                &mut library_variant(&lock, settings.pin, || {
                    tracing::subscriber::with_default(FieldsSubscriber, || {
                        lock.acquire().unwrap().release().unwrap()
                    })
                }),
            ),
            (
                "Lock::with_name(format!(..)) per call",
                &mut library_variant(&lock, settings.pin, || {
                    let one = lock.with_name(format!("{name}-{}", 7));
                    one.acquire().unwrap().release().unwrap()
                }),
            ),
            (
                "#[mysql_lock] function",
                &mut library_variant(&annotated_lock, settings.pin, || annotated().unwrap()),
            ),
            (
                "the same by hand with Lock",
                &mut library_variant(&annotated_lock, settings.pin, || by_hand().unwrap()),
            ),
            (
                "#[mysql_lock(name = \"..-{id}\")] function",
                &mut library_variant(&annotated_lock, settings.pin, || templated(7).unwrap()),
            ),
        ],
    );
    table(&results, "client CPU µs per cycle");
    let ratio = |name: &str| {
        results
            .iter()
            .find(|r| r.name == name)
            .map_or(f64::NAN, |r| r.ratio)
    };
    println!(
        "\nthe attribute's run-time cost: #[mysql_lock] ÷ by hand = {:.3}",
        ratio("#[mysql_lock] function") / ratio("the same by hand with Lock")
    );
    println!(
        "a name formatted from the arguments: #[mysql_lock(name = \"..-{{id}}\")] ÷ \
         #[mysql_lock] = {:.3}",
        ratio("#[mysql_lock(name = \"..-{id}\")] function") / ratio("#[mysql_lock] function")
    );
}

/// A `tracing` subscriber that enables everything and visits every field of
/// every event and span, as a real one would before writing: the cost of
/// the library's tracing when it is on, without the cost of any output.
struct FieldsSubscriber;

struct Sink(usize);

impl tracing::field::Visit for Sink {
    fn record_debug(&mut self, _: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write as _;
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.0 += text.len();
    }
}

impl tracing::Subscriber for FieldsSubscriber {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut Sink(0));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        event.record(&mut Sink(0));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A library variant of [`interleaved`]: its warm-up opens (and pins) a
/// fresh connection through `lock`, then `cycle` runs `n` times.
fn library_variant<'a>(
    lock: &'a Lock,
    pin: bool,
    mut cycle: impl FnMut() + 'a,
) -> impl FnMut(usize) + 'a {
    move |n| {
        if n == 10 {
            fresh_library_connections();
            pin_library_connection(lock, pin);
        }
        for _ in 0..n {
            cycle();
        }
    }
}

fn table(results: &[Row], cpu_column: &str) {
    println!("| variant | per second (median) | × the floor (median of rounds) | {cpu_column} |");
    println!("| --- | ---: | ---: | ---: |");
    for row in results {
        println!(
            "| {} | {:.0} | {:.3} | {:.2} |",
            row.name, row.rate, row.ratio, row.cpu_micros
        );
    }
}

/// Records hand-offs: the time from a holder's release to the next
/// holder's acquire, when the next holder is another worker.
struct Handoff {
    last_release: std::sync::Mutex<(usize, Option<Instant>)>,
}

impl Handoff {
    fn new() -> Self {
        Self {
            last_release: std::sync::Mutex::new((usize::MAX, None)),
        }
    }

    /// Called right after acquiring; returns the hand-off time, if any.
    fn acquired(&self, me: usize) -> Option<Duration> {
        match *self.last_release.lock().unwrap() {
            (who, Some(at)) if who != me => Some(at.elapsed()),
            _ => None,
        }
    }

    /// Called right before releasing.
    fn releasing(&self, me: usize) {
        *self.last_release.lock().unwrap() = (me, Some(Instant::now()));
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Raw,
    Library,
}

/// `threads` workers take one name for `duration`; returns acquisitions
/// per second and the hand-off samples.
fn run_threads(mode: Mode, threads: usize, name: &str, duration: Duration) -> (f64, Vec<Duration>) {
    let handoff = std::sync::Arc::new(Handoff::new());
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|me| {
            let (handoff, barrier, name) = (handoff.clone(), barrier.clone(), name.to_owned());
            std::thread::spawn(move || {
                let lock = Lock::new(name.as_str())
                    .using(ALIAS)
                    .timeout(Duration::from_secs(60));
                let server_name = lock.server_name().unwrap().to_owned();
                let mut raw = (mode == Mode::Raw).then(Raw::new);
                if mode == Mode::Library {
                    lock.acquire().unwrap().release().unwrap(); // open a connection
                }
                let mut samples = Vec::new();
                let mut count = 0u64;
                barrier.wait();
                let started = Instant::now();
                while started.elapsed() < duration {
                    match &mut raw {
                        Some(raw) => {
                            raw.get(&server_name);
                            samples.extend(handoff.acquired(me));
                            handoff.releasing(me);
                            raw.release(&server_name);
                        }
                        None => {
                            let guard = lock.acquire().unwrap();
                            samples.extend(handoff.acquired(me));
                            handoff.releasing(me);
                            guard.release().unwrap();
                        }
                    }
                    count += 1;
                }
                (count, started.elapsed(), samples)
            })
        })
        .collect();
    let mut total = 0;
    let mut longest = Duration::ZERO;
    let mut samples = Vec::new();
    for worker in workers {
        let (count, elapsed, worker_samples) = worker.join().unwrap();
        total += count;
        longest = longest.max(elapsed);
        samples.extend(worker_samples);
    }
    (total as f64 / longest.as_secs_f64(), samples)
}

fn contended(settings: &Settings) {
    println!("\n## Contended: one name, several workers\n");
    println!("| workers | raw acquisitions/s | library acquisitions/s | × raw (median of rounds) | × raw, range | hand-off p50 / p99, raw | hand-off p50 / p99, library |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let duration = Duration::from_millis(if settings.quick { 300 } else { 600 });
    for threads in [2, 4, 8] {
        let name = testkit::unique("bench-contended");
        let (mut raw_rates, mut lib_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut raw_samples, mut lib_samples) = (Vec::new(), Vec::new());
        for round in 0..settings.contended_rounds {
            fresh_library_connections();
            let order = if round % 2 == 0 {
                [Mode::Raw, Mode::Library]
            } else {
                [Mode::Library, Mode::Raw]
            };
            let mut rates = [0.0; 2];
            for mode in order {
                let (rate, samples) = run_threads(mode, threads, &name, duration);
                if mode == Mode::Raw {
                    rates[0] = rate;
                    raw_samples.extend(samples);
                } else {
                    rates[1] = rate;
                    lib_samples.extend(samples);
                }
            }
            raw_rates.push(rates[0]);
            lib_rates.push(rates[1]);
            ratios.push(rates[1] / rates[0]);
        }
        raw_samples.sort();
        lib_samples.sort();
        let fmt = |s: &[Duration]| {
            if s.is_empty() {
                "n/a".to_owned()
            } else {
                format!(
                    "{:.0} / {:.0} µs",
                    micros(percentile(s, 0.5)),
                    micros(percentile(s, 0.99))
                )
            }
        };
        println!(
            "| {threads} threads | {:.0} | {:.0} | {:.3} | {} | {} | {} |",
            median(&mut raw_rates),
            median(&mut lib_rates),
            median(&mut ratios),
            range(&ratios),
            fmt(&raw_samples),
            fmt(&lib_samples),
        );
    }
    for processes in [2, 4] {
        let name = testkit::unique("bench-processes");
        let (mut raw_rates, mut lib_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..settings.contended_rounds {
            let order = if round % 2 == 0 {
                ["raw", "library"]
            } else {
                ["library", "raw"]
            };
            let mut rates = [0.0; 2];
            for mode in order {
                let rate = run_processes(mode, processes, &name, duration);
                rates[usize::from(mode == "library")] = rate;
            }
            raw_rates.push(rates[0]);
            lib_rates.push(rates[1]);
            ratios.push(rates[1] / rates[0]);
        }
        println!(
            "| {processes} processes | {:.0} | {:.0} | {:.3} | {} | | |",
            median(&mut raw_rates),
            median(&mut lib_rates),
            median(&mut ratios),
            range(&ratios),
        );
    }
}

/// `min–max` of ratios.
fn range(values: &[f64]) -> String {
    let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = values.iter().cloned().fold(0.0, f64::max);
    format!("{min:.2}–{max:.2}")
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// `processes` copies of this binary take one name for `duration`.
fn run_processes(mode: &str, processes: usize, name: &str, duration: Duration) -> f64 {
    let start_at = std::time::SystemTime::now() + Duration::from_millis(700);
    let start_at = start_at
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let children: Vec<_> = (0..processes)
        .map(|_| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--child",
                    mode,
                    name,
                    &duration.as_millis().to_string(),
                    &start_at.to_string(),
                ])
                .env("MYSQL_URL", testkit::url())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut total = 0.0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        total += String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<f64>()
            .unwrap();
    }
    total
}

/// The child side of [`run_processes`]: prints its acquisitions per second.
fn child(args: &[String]) {
    let (mode, name) = (args[0].as_str(), args[1].as_str());
    if mode.starts_with("async-") {
        #[cfg(feature = "async")]
        return async_bench::child(args);
        #[cfg(not(feature = "async"))]
        panic!("{mode}: this bench was built without the feature `async`");
    }
    let duration = Duration::from_millis(args[2].parse().unwrap());
    let start_at: u128 = args[3].parse().unwrap();
    let lock = Lock::new(name)
        .using(ALIAS)
        .timeout(Duration::from_secs(60));
    let server_name = lock.server_name().unwrap().to_owned();
    let mut raw = (mode == "raw").then(Raw::new);
    if raw.is_none() {
        lock.acquire().unwrap().release().unwrap();
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    if start_at > now {
        std::thread::sleep(Duration::from_nanos((start_at - now) as u64));
    }
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < duration {
        match &mut raw {
            Some(raw) => raw.cycle_prepared(&server_name),
            None => lock.acquire().unwrap().release().unwrap(),
        }
        count += 1;
    }
    println!("{}", count as f64 / started.elapsed().as_secs_f64());
}

fn many_names(settings: &Settings) {
    println!("\n## Many names held at once by one thread (acquire all, then release all)\n");
    println!("| locks held | raw µs per lock | library µs per lock | × raw (median of rounds) | raw, spread over 100 connections, µs per lock |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    let sizes: &[usize] = if settings.quick {
        &[1, 100, 2000]
    } else {
        &[1, 100, 10_000]
    };
    for &n in sizes {
        let base = testkit::unique("bench-many");
        let locks: Vec<Lock> = (0..n)
            .map(|i| {
                Lock::new(format!("{base}-{i}"))
                    .using(ALIAS)
                    .timeout(Duration::from_secs(60))
            })
            .collect();
        let names: Vec<String> = locks
            .iter()
            .map(|l| l.server_name().unwrap().to_owned())
            .collect();
        let repeat = (2000 / n).max(1);
        let rounds = if n >= 2000 { 3 } else { settings.rounds };
        let (mut raw_cost, mut lib_cost, mut ratios, mut spread_cost) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let mut raw = Raw::new().pinned(settings.pin);
            raw.cycle_prepared(&names[0]);
            let started = Instant::now();
            for _ in 0..repeat {
                for name in &names {
                    raw.get(name);
                }
                for name in &names {
                    raw.release(name);
                }
            }
            let raw_us = micros(started.elapsed()) / (n * repeat) as f64;

            fresh_library_connections();
            pin_library_connection(&locks[0], settings.pin);
            let started = Instant::now();
            for _ in 0..repeat {
                let guards: Vec<_> = locks.iter().map(|l| l.acquire().unwrap()).collect();
                for guard in guards {
                    guard.release().unwrap();
                }
            }
            let lib_us = micros(started.elapsed()) / (n * repeat) as f64;

            if n >= 100 {
                let mut conns: Vec<Raw> =
                    (0..100).map(|_| Raw::new().pinned(settings.pin)).collect();
                let started = Instant::now();
                for (i, name) in names.iter().enumerate() {
                    conns[i % 100].get(name);
                }
                for (i, name) in names.iter().enumerate() {
                    conns[i % 100].release(name);
                }
                spread_cost.push(micros(started.elapsed()) / n as f64);
            }
            raw_cost.push(raw_us);
            lib_cost.push(lib_us);
            ratios.push(raw_us / lib_us);
        }
        let spread = if spread_cost.is_empty() {
            "n/a".to_owned()
        } else {
            format!("{:.1}", median(&mut spread_cost))
        };
        println!(
            "| {n} | {:.1} | {:.1} | {:.3} | {spread} |",
            median(&mut raw_cost),
            median(&mut lib_cost),
            median(&mut ratios),
        );
    }
}

/// Build time of a crate with 500 annotated functions against the same
/// crate without the attribute (incremental builds of the crate itself,
/// dependencies already built; median of 3 alternating builds each).
fn compile_cost() {
    const FUNCTIONS: usize = 500;
    println!("\n## Build time of {FUNCTIONS} annotated functions\n");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned();
    let dir = root.join("target").join("bench-compile");
    let _ = std::fs::remove_dir_all(dir.join("plain"));
    let _ = std::fs::remove_dir_all(dir.join("annotated"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"plain\", \"annotated\"]\n",
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    for (krate, attribute) in [
        ("plain", ""),
        (
            "annotated",
            "#[mysql_lock::mysql_lock(name = \"job-{i}\", timeout = 2)]\n",
        ),
    ] {
        let src = dir.join(krate).join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            dir.join(krate).join("Cargo.toml"),
            format!(
                "[package]\nname = \"{krate}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\nmysql-lock = {{ path = {:?} }}\n",
                root.join("runtime")
            ),
        )
        .unwrap();
        let mut code = String::from("#![allow(dead_code)]\n");
        for i in 0..FUNCTIONS {
            code.push_str(&attribute.replace("{i}", &i.to_string()));
            code.push_str(&format!(
                "pub fn job_{i}(x: u64) -> Result<u64, mysql_lock::Error> {{ Ok(x + {i}) }}\n"
            ));
        }
        std::fs::write(src.join("lib.rs"), code).unwrap();
    }
    let build = |krate: &str| {
        let lib = dir.join(krate).join("src").join("lib.rs");
        let code = std::fs::read_to_string(&lib).unwrap();
        std::fs::write(&lib, code).unwrap(); // touch
        let started = Instant::now();
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--offline", "--quiet", "-p", krate])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", dir.join("target"))
            .status()
            .unwrap();
        assert!(status.success(), "building {krate}");
        started.elapsed().as_secs_f64()
    };
    build("plain"); // dependencies
    build("annotated");
    let (mut plain, mut annotated) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        plain.push(build("plain"));
        annotated.push(build("annotated"));
    }
    let (plain, annotated) = (median(&mut plain), median(&mut annotated));
    println!("| crate | build time (debug, incremental, median of 3) |");
    println!("| --- | ---: |");
    println!("| {FUNCTIONS} plain functions | {plain:.2} s |");
    println!("| {FUNCTIONS} annotated functions | {annotated:.2} s |");
    println!(
        "\nthe attribute adds {:.2} s for {FUNCTIONS} functions ({:.1} ms each)",
        annotated - plain,
        (annotated - plain) * 1000.0 / FUNCTIONS as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        mysql_lock::register(ALIAS, &tcp_url()).unwrap();
        return child(&args[1..]);
    }
    let quick = std::env::args().any(|a| a == "--quick");
    testkit::setup();
    mysql_lock::register(ALIAS, &tcp_url()).unwrap();
    let settings = if quick {
        Settings {
            quick,
            pin: false,
            rounds: 5,
            cycles: 300,
            contended_rounds: 3,
        }
    } else {
        Settings {
            quick,
            pin: false,
            rounds: 15,
            cycles: 2000,
            contended_rounds: 5,
        }
    };
    println!(
        "# mysql-lock benchmark ({} rounds of {} cycles)",
        settings.rounds, settings.cycles
    );
    let unpinned = std::env::args().any(|a| a == "--no-pin");
    let _restore = RestoreServerThreads;
    let pinning = if unpinned {
        Err("--no-pin".to_owned())
    } else {
        server_pinning()
    };
    let pin = match &pinning {
        Ok(_) if pin_current_thread(0) => {
            let probe = Raw::new();
            let pinned = pin_server_connection(u64::from(probe.conn.connection_id()), 0);
            if !pinned {
                pin_current_thread_all();
            }
            pinned
        }
        _ => false,
    };
    let settings = Settings { pin, ..settings };
    match (&pinning, pin) {
        (Ok(why), true) => println!(
            "single-thread figures: client thread and each connection's server thread \
             pinned to CPU 0 ({why}; --no-pin to disable)"
        ),
        (Ok(_), false) => println!(
            "single-thread figures: not pinned (the server is not local, or taskset failed): \
             expect noisy ratios"
        ),
        (Err(why), _) => println!("single-thread figures: not pinned ({why}): expect noisy ratios"),
    }
    // `--async` adds the async figures (feature `async`, on by default in
    // this crate) to the sync ones; `--async-only` runs only those.
    let async_only = std::env::args().any(|a| a == "--async-only");
    let run_sync = !async_only;
    let run_async = async_only || std::env::args().any(|a| a == "--async");
    let uncontended_only = std::env::args().any(|a| a == "--uncontended-only");
    if run_async && cfg!(not(feature = "async")) {
        println!("\n(async figures skipped: this bench was built without the feature `async`)");
    }
    if run_sync {
        uncontended(&settings);
    }
    #[cfg(feature = "async")]
    if run_async {
        // Pinned as the sync single-thread figures: one thread does it all.
        async_bench::uncontended(&settings, async_bench::Flavor::CurrentThread);
    }
    if run_sync && !uncontended_only {
        many_names(&settings);
    }
    if pin {
        // Contended figures need both CPUs, and so does a multi-thread
        // runtime (its workers would inherit this thread's CPU 0).
        let restored = restore_server_threads();
        println!("\n(server threads given their CPU affinity back: {restored})");
        pin_current_thread_all();
    }
    #[cfg(feature = "async")]
    if run_async {
        async_bench::uncontended(
            &Settings {
                pin: false,
                ..settings
            },
            async_bench::Flavor::MultiThread,
        );
    }
    if uncontended_only {
        return;
    }
    if run_sync {
        contended(&settings);
    }
    #[cfg(feature = "async")]
    if run_async {
        async_bench::contended(&settings);
        async_bench::many_tasks(&settings);
    }
    if run_sync && (!settings.quick || std::env::args().any(|a| a == "--compile")) {
        compile_cost();
    }
}

/// The async figures (`--async`, `--async-only`): the same questions for
/// `Lock::acquire_async` on tokio, against a raw `mysql_async` floor.
#[cfg(feature = "async")]
mod async_bench {
    use super::*;
    use mysql_async::prelude::Queryable as _;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// The attribute on an `async fn`.
    #[mysql_lock(name = "bench-annotated-async", using = "bench")]
    async fn annotated_async() -> Result<(), mysql_lock::Error> {
        Ok(())
    }

    /// ...and the same by hand with `Lock`: take, run, release and report
    /// a lost lock (what the attribute's expansion does through
    /// `__private::acquire_async` and `run_async`).
    async fn by_hand_async() -> Result<(), mysql_lock::Error> {
        static LOCK: LazyLock<Lock> =
            LazyLock::new(|| Lock::new("bench-annotated-async").using(ALIAS));
        let guard = LOCK.acquire_async().await?;
        let result = Ok(());
        guard.release().await?;
        result
    }

    /// The driver's options for the server the bench uses, over TCP, as
    /// the library's async pool builds them from the alias's URL.
    fn opts() -> mysql_async::Opts {
        let opts = mysql::Opts::from_url(&tcp_url()).unwrap();
        mysql_async::OptsBuilder::default()
            .ip_or_hostname(opts.get_ip_or_hostname().into_owned())
            .tcp_port(opts.get_tcp_port())
            .user(opts.get_user())
            .pass(opts.get_pass())
            .db_name(opts.get_db_name())
            .prefer_socket(false)
            .into()
    }

    /// The floor: one `mysql_async` connection held for the whole run,
    /// sending prepared `GET_LOCK` and `RELEASE_LOCK` itself.
    struct RawAsync {
        conn: mysql_async::Conn,
        get: mysql_async::Statement,
        release: mysql_async::Statement,
    }

    impl RawAsync {
        async fn new() -> Self {
            let mut conn = mysql_async::Conn::new(opts()).await.unwrap();
            let get = conn.prep("SELECT GET_LOCK(?, ?)").await.unwrap();
            let release = conn.prep("SELECT RELEASE_LOCK(?)").await.unwrap();
            Self { conn, get, release }
        }

        /// Pins this connection's server thread to CPU 0 when `pin`.
        fn pinned(self, pin: bool) -> Self {
            if pin {
                pin_server_connection(u64::from(self.conn.id()), 0);
            }
            self
        }

        async fn get(&mut self, name: &str) {
            let got: Option<i64> = self.conn.exec_first(&self.get, (name, 60.0)).await.unwrap();
            assert_eq!(got, Some(1));
        }

        async fn release(&mut self, name: &str) {
            let released: Option<i64> = self.conn.exec_first(&self.release, (name,)).await.unwrap();
            assert_eq!(released, Some(1));
        }

        async fn cycle(&mut self, name: &str) {
            self.get(name).await;
            self.release(name).await;
        }
    }

    #[derive(Clone, Copy, PartialEq)]
    pub(super) enum Flavor {
        /// `new_current_thread`: the calling thread runs the tasks and the
        /// I/O driver.
        CurrentThread,
        /// `new_multi_thread` with a worker per CPU; the benchmarked
        /// code runs in a spawned task, as in a server.
        MultiThread,
    }

    fn runtime(flavor: Flavor) -> tokio::runtime::Runtime {
        match flavor {
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Flavor::MultiThread => tokio::runtime::Builder::new_multi_thread(),
        }
        .enable_all()
        .build()
        .unwrap()
    }

    /// Runs `future` as a program's task would run: on the current-thread
    /// runtime on this thread; on the multi-thread one, spawned on a worker.
    fn run_on<F>(rt: &tokio::runtime::Runtime, flavor: Flavor, future: F) -> F::Output
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match flavor {
            Flavor::CurrentThread => rt.block_on(future),
            Flavor::MultiThread => rt.block_on(rt.spawn(future)).unwrap(),
        }
    }

    /// One cycle of a library variant.
    #[derive(Clone, Copy)]
    enum Cycle {
        Acquire,
        TryAcquire,
        ByHand,
        Annotated,
    }

    async fn cycle(kind: Cycle, lock: &Lock) {
        match kind {
            Cycle::Acquire => lock.acquire_async().await.unwrap().release().await.unwrap(),
            Cycle::TryAcquire => lock
                .try_acquire_async()
                .await
                .unwrap()
                .expect("nobody else holds it")
                .release()
                .await
                .unwrap(),
            Cycle::ByHand => by_hand_async().await.unwrap(),
            Cycle::Annotated => annotated_async().await.unwrap(),
        }
    }

    /// A library variant of [`interleaved`]: its warm-up starts from fresh
    /// connections (one is opened, and pinned, through `lock`), then `n`
    /// cycles of `kind` run on `rt`.
    fn library_variant<'a>(
        rt: &'a tokio::runtime::Runtime,
        flavor: Flavor,
        lock: &'a Lock,
        pin: bool,
        kind: Cycle,
    ) -> impl FnMut(usize) + 'a {
        move |n| {
            if n == 10 {
                rt.block_on(async {
                    // On the runtime, so that the driver says goodbye.
                    fresh_library_connections();
                    let guard = lock.acquire_async().await.unwrap();
                    if pin {
                        pin_server_connection(guard.connection_id(), 0);
                    }
                    guard.release().await.unwrap();
                });
            }
            let lock = lock.clone();
            run_on(rt, flavor, async move {
                for _ in 0..n {
                    cycle(kind, &lock).await;
                }
            });
        }
    }

    /// A named variant of [`interleaved`], boxed: the table's rows depend on
    /// the features.
    type Variant<'a> = (&'a str, Box<dyn FnMut(usize) + 'a>);

    /// Uncontended acquire + release by one task, on a runtime of `flavor`.
    pub(super) fn uncontended(settings: &Settings, flavor: Flavor) {
        let rt = runtime(flavor);
        let (title, cpu_clock, cpu_column): (_, fn() -> Duration, _) = match flavor {
            Flavor::CurrentThread => (
                "current-thread runtime".to_owned(),
                thread_cpu,
                "client CPU µs per cycle",
            ),
            Flavor::MultiThread => (
                format!(
                    "multi-thread runtime, {} workers, the task spawned on one",
                    rt.metrics().num_workers()
                ),
                process_cpu,
                "client CPU µs per cycle (all threads)",
            ),
        };
        println!("\n## Async, uncontended acquire + release (one task, {title})\n");
        let name = testkit::unique("bench-async-uncontended");
        let lock = Lock::new(name.as_str()).using(ALIAS);
        let server_name: Arc<str> = lock.server_name().unwrap().into();
        let annotated_lock = Lock::new("bench-annotated-async").using(ALIAS);
        let pin = settings.pin && flavor == Flavor::CurrentThread;
        let mut raw = None::<RawAsync>;
        let mut variants: Vec<Variant<'_>> = vec![
            (
                "raw mysql_async, prepared (the floor)",
                Box::new(|n| {
                    if n == 10 {
                        raw = Some(rt.block_on(RawAsync::new()).pinned(pin));
                    }
                    let mut conn = raw.take().unwrap();
                    let name = Arc::clone(&server_name);
                    raw = Some(run_on(&rt, flavor, async move {
                        for _ in 0..n {
                            conn.cycle(&name).await;
                        }
                        conn
                    }));
                }),
            ),
            (
                "Lock::acquire_async + release",
                Box::new(library_variant(&rt, flavor, &lock, pin, Cycle::Acquire)),
            ),
            (
                "Lock::try_acquire_async + release",
                Box::new(library_variant(&rt, flavor, &lock, pin, Cycle::TryAcquire)),
            ),
        ];
        variants.push((
            "#[mysql_lock] async fn",
            Box::new(library_variant(
                &rt,
                flavor,
                &annotated_lock,
                pin,
                Cycle::Annotated,
            )),
        ));
        variants.push((
            "the same by hand with Lock",
            Box::new(library_variant(
                &rt,
                flavor,
                &annotated_lock,
                pin,
                Cycle::ByHand,
            )),
        ));
        let mut refs: Vec<(&str, &mut dyn FnMut(usize))> = variants
            .iter_mut()
            .map(|(name, run)| (*name, &mut **run as &mut dyn FnMut(usize)))
            .collect();
        let results = interleaved(settings, 1, cpu_clock, &mut refs);
        drop(refs);
        drop(variants);
        if let Some(raw) = raw.take() {
            // Closed with COM_QUIT, on its runtime.
            rt.block_on(raw.conn.disconnect()).unwrap();
        }
        table(&results, cpu_column);
        let ratio = |name: &str| {
            results
                .iter()
                .find(|r| r.name == name)
                .map_or(f64::NAN, |r| r.ratio)
        };
        println!(
            "\nthe attribute's run-time cost: #[mysql_lock] async fn ÷ by hand = {:.3}",
            ratio("#[mysql_lock] async fn") / ratio("the same by hand with Lock")
        );
        // The runtime's connections are closed on it.
        rt.block_on(async { fresh_library_connections() });
    }

    /// `tasks` tasks take one name for `duration` on `rt`; returns
    /// acquisitions per second and the hand-off samples.
    fn run_tasks(
        rt: &tokio::runtime::Runtime,
        mode: Mode,
        tasks: usize,
        name: &str,
        duration: Duration,
    ) -> (f64, Vec<Duration>) {
        let handoff = Arc::new(Handoff::new());
        let barrier = Arc::new(tokio::sync::Barrier::new(tasks));
        let workers: Vec<_> = (0..tasks)
            .map(|me| {
                let (handoff, barrier) = (Arc::clone(&handoff), Arc::clone(&barrier));
                let lock = Lock::new(name)
                    .using(ALIAS)
                    .timeout(Duration::from_secs(60));
                rt.spawn(async move {
                    let server_name = lock.server_name().unwrap().to_owned();
                    let mut raw = match mode {
                        Mode::Raw => Some(RawAsync::new().await),
                        Mode::Library => None,
                    };
                    if mode == Mode::Library {
                        // Opens a connection (or takes an idle one).
                        lock.acquire_async().await.unwrap().release().await.unwrap();
                    }
                    let mut samples = Vec::new();
                    let mut count = 0u64;
                    barrier.wait().await;
                    let started = Instant::now();
                    while started.elapsed() < duration {
                        match &mut raw {
                            Some(raw) => {
                                raw.get(&server_name).await;
                                samples.extend(handoff.acquired(me));
                                handoff.releasing(me);
                                raw.release(&server_name).await;
                            }
                            None => {
                                let guard = lock.acquire_async().await.unwrap();
                                samples.extend(handoff.acquired(me));
                                handoff.releasing(me);
                                guard.release().await.unwrap();
                            }
                        }
                        count += 1;
                    }
                    (count, started.elapsed(), samples)
                })
            })
            .collect();
        let mut total = 0;
        let mut longest = Duration::ZERO;
        let mut samples = Vec::new();
        for worker in workers {
            let (count, elapsed, worker_samples) = rt.block_on(worker).unwrap();
            total += count;
            longest = longest.max(elapsed);
            samples.extend(worker_samples);
        }
        (total as f64 / longest.as_secs_f64(), samples)
    }

    /// One name taken in turn by 8 tasks of a multi-thread runtime, and by
    /// 4 processes (one task each on a current-thread runtime). Waiters
    /// block in `GET_LOCK` (60 s) and the server wakes them: no polling.
    pub(super) fn contended(settings: &Settings) {
        let rt = runtime(Flavor::MultiThread);
        println!(
            "\n## Async, contended: one name, several tasks (multi-thread runtime, {} workers) \
             or processes\n",
            rt.metrics().num_workers()
        );
        println!("| workers | raw acquisitions/s | library acquisitions/s | × raw (median of rounds) | × raw, range | hand-off p50 / p99, raw | hand-off p50 / p99, library |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        let duration = Duration::from_millis(if settings.quick { 300 } else { 600 });
        let tasks = 8;
        let name = testkit::unique("bench-async-contended");
        let (mut raw_rates, mut lib_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut raw_samples, mut lib_samples) = (Vec::new(), Vec::new());
        for round in 0..settings.contended_rounds {
            rt.block_on(async { fresh_library_connections() });
            let order = if round % 2 == 0 {
                [Mode::Raw, Mode::Library]
            } else {
                [Mode::Library, Mode::Raw]
            };
            let mut rates = [0.0; 2];
            for mode in order {
                let (rate, samples) = run_tasks(&rt, mode, tasks, &name, duration);
                if mode == Mode::Raw {
                    rates[0] = rate;
                    raw_samples.extend(samples);
                } else {
                    rates[1] = rate;
                    lib_samples.extend(samples);
                }
            }
            raw_rates.push(rates[0]);
            lib_rates.push(rates[1]);
            ratios.push(rates[1] / rates[0]);
        }
        rt.block_on(async { fresh_library_connections() });
        raw_samples.sort();
        lib_samples.sort();
        let fmt = |s: &[Duration]| {
            if s.is_empty() {
                "n/a".to_owned()
            } else {
                format!(
                    "{:.0} / {:.0} µs",
                    micros(percentile(s, 0.5)),
                    micros(percentile(s, 0.99))
                )
            }
        };
        println!(
            "| {tasks} tasks | {:.0} | {:.0} | {:.3} | {} | {} | {} |",
            median(&mut raw_rates),
            median(&mut lib_rates),
            median(&mut ratios),
            range(&ratios),
            fmt(&raw_samples),
            fmt(&lib_samples),
        );
        let processes = 4;
        let name = testkit::unique("bench-async-processes");
        let (mut raw_rates, mut lib_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..settings.contended_rounds {
            let order = if round % 2 == 0 {
                ["async-raw", "async-library"]
            } else {
                ["async-library", "async-raw"]
            };
            let mut rates = [0.0; 2];
            for mode in order {
                let rate = run_processes(mode, processes, &name, duration);
                rates[usize::from(mode == "async-library")] = rate;
            }
            raw_rates.push(rates[0]);
            lib_rates.push(rates[1]);
            ratios.push(rates[1] / rates[0]);
        }
        println!(
            "| {processes} processes | {:.0} | {:.0} | {:.3} | {} | | |",
            median(&mut raw_rates),
            median(&mut lib_rates),
            median(&mut ratios),
            range(&ratios),
        );
    }

    /// The child side of [`run_processes`] for `async-raw` and
    /// `async-library`: one task on a current-thread runtime; prints its
    /// acquisitions per second.
    pub(super) fn child(args: &[String]) {
        let (mode, name) = (args[0].as_str(), args[1].as_str());
        let duration = Duration::from_millis(args[2].parse().unwrap());
        let start_at: u128 = args[3].parse().unwrap();
        let lock = Lock::new(name)
            .using(ALIAS)
            .timeout(Duration::from_secs(60));
        let server_name = lock.server_name().unwrap().to_owned();
        let rt = runtime(Flavor::CurrentThread);
        rt.block_on(async {
            let mut raw = match mode {
                "async-raw" => Some(RawAsync::new().await),
                "async-library" => {
                    lock.acquire_async().await.unwrap().release().await.unwrap();
                    None
                }
                other => panic!("unknown child mode {other}"),
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            if start_at > now {
                tokio::time::sleep(Duration::from_nanos((start_at - now) as u64)).await;
            }
            let started = Instant::now();
            let mut count = 0u64;
            while started.elapsed() < duration {
                match &mut raw {
                    Some(raw) => raw.cycle(&server_name).await,
                    None => lock.acquire_async().await.unwrap().release().await.unwrap(),
                }
                count += 1;
            }
            println!("{}", count as f64 / started.elapsed().as_secs_f64());
        });
    }

    /// The local ports of this process's established TCP connections to
    /// the server's `port`: read from `/proc/self/net/tcp{,6}` (every
    /// socket of the network namespace) and kept when the socket's inode
    /// is one of this process's file descriptors. Linux only; empty
    /// elsewhere.
    fn our_server_sockets(port: u16) -> Vec<u16> {
        let inodes: std::collections::HashSet<u64> = std::fs::read_dir("/proc/self/fd")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .filter_map(|link| {
                link.to_str()?
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse()
                    .ok()
            })
            .collect();
        let hex_port = |address: &str| {
            address
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
        };
        let mut ports = Vec::new();
        for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
                if fields.len() < 10 || fields[3] != "01" || hex_port(fields[2]) != Some(port) {
                    continue;
                }
                if fields[9].parse().is_ok_and(|inode| inodes.contains(&inode)) {
                    ports.extend(hex_port(fields[1]));
                }
            }
        }
        ports
    }

    /// The server's sessions whose client is one of this process's
    /// sockets (`PROCESSLIST.HOST` is `address:port`): the server's side
    /// of [`our_server_sockets`], without `performance_schema` (off on
    /// MariaDB by default, so the connection attributes `inspect.rs`
    /// reads are not there to count by).
    fn our_server_sessions(admin: &mut mysql::Conn, port: u16) -> usize {
        let ours: std::collections::HashSet<u16> = our_server_sockets(port).into_iter().collect();
        let hosts: Vec<String> = admin
            .query("SELECT HOST FROM information_schema.PROCESSLIST")
            .unwrap();
        hosts
            .iter()
            .filter_map(|host| host.rsplit_once(':')?.1.parse::<u16>().ok())
            .filter(|port| ours.contains(port))
            .count()
    }

    fn threads_connected(admin: &mut mysql::Conn) -> u64 {
        let row: Option<(String, u64)> = admin
            .query_first("SHOW GLOBAL STATUS LIKE 'Threads_connected'")
            .unwrap();
        row.unwrap().1
    }

    /// Samples [`our_server_sockets`] every 5 ms until stopped; returns
    /// the most seen at once.
    struct PeakSockets {
        stop: Arc<AtomicBool>,
        thread: std::thread::JoinHandle<usize>,
    }

    impl PeakSockets {
        fn start(port: u16) -> Self {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            let thread = std::thread::spawn(move || {
                let mut peak = 0;
                while !flag.load(Ordering::Relaxed) {
                    peak = peak.max(our_server_sockets(port).len());
                    std::thread::sleep(Duration::from_millis(5));
                }
                peak.max(our_server_sockets(port).len())
            });
            Self { stop, thread }
        }

        fn stop(self) -> usize {
            self.stop.store(true, Ordering::Relaxed);
            self.thread.join().unwrap()
        }
    }

    /// 10,000 tasks spawned at once on a multi-thread runtime, each taking
    /// a name of its own (`bench-many-…-{i}`) once, through an alias of
    /// its own with the default pool: every task waits for one of the
    /// pool's `pool_max` connections. Against a raw floor of `pool_max`
    /// tasks with a `mysql_async` connection each, taking their share of
    /// the names in turn. Both start without connections (the time
    /// includes opening them). Checks that the connections this process
    /// has open to the server never exceed the baseline plus `pool_max`.
    pub(super) fn many_tasks(settings: &Settings) {
        const TASKS: usize = 10_000;
        let alias = format!("bench-many-tasks-{}", std::process::id());
        mysql_lock::register(&alias, &tcp_url()).unwrap();
        let max = mysql_lock::pool_status(&alias).unwrap().max_size;
        let port = mysql::Opts::from_url(&tcp_url()).unwrap().get_tcp_port();
        let rt = runtime(Flavor::MultiThread);
        println!(
            "\n## Async, {TASKS} tasks at once, each taking a name of its own once \
             (multi-thread runtime, {} workers, pool_max {max})\n",
            rt.metrics().num_workers()
        );
        let rounds = if settings.quick { 2 } else { 3 };
        let mut admin = testkit::admin();
        let baseline = our_server_sockets(port).len();
        let (mut raw_us, mut lib_us, mut lib_total, mut ratios) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut peak, mut sessions_after, mut threads) = (0, 0, (0, 0));
        for round in 0..rounds {
            let base = testkit::unique("bench-many");
            let locks: Vec<Lock> = (0..TASKS)
                .map(|i| {
                    Lock::new(format!("{base}-{i}"))
                        .using(&alias)
                        .timeout(Duration::from_secs(60))
                })
                .collect();
            let names: Arc<Vec<String>> = Arc::new(
                locks
                    .iter()
                    .map(|l| l.server_name().unwrap().to_owned())
                    .collect(),
            );
            let raw = || {
                let started = Instant::now();
                let workers: Vec<_> = (0..max)
                    .map(|k| {
                        let names = Arc::clone(&names);
                        rt.spawn(async move {
                            let mut raw = RawAsync::new().await;
                            for name in names.iter().skip(k).step_by(max) {
                                raw.cycle(name).await;
                            }
                        })
                    })
                    .collect();
                for worker in workers {
                    rt.block_on(worker).unwrap();
                }
                started.elapsed()
            };
            let library = |locks: Vec<Lock>| {
                let started = Instant::now();
                let tasks: Vec<_> = locks
                    .into_iter()
                    .map(|lock| {
                        rt.spawn(async move {
                            lock.acquire_async().await.unwrap().release().await.unwrap();
                        })
                    })
                    .collect();
                for task in tasks {
                    rt.block_on(task).unwrap();
                }
                started.elapsed()
            };
            // Alternate which goes first.
            let mut raw_time = Duration::ZERO;
            if round % 2 == 0 {
                raw_time = raw();
                settle(port, baseline);
            }
            // The library's run, watched.
            let sockets_before = our_server_sockets(port).len();
            let threads_before = threads_connected(&mut admin);
            let watch = PeakSockets::start(port);
            let lib_time = library(locks);
            let seen = watch.stop().saturating_sub(sockets_before);
            let idle_sessions =
                our_server_sessions(&mut admin, port).saturating_sub(sockets_before);
            let threads_after = threads_connected(&mut admin);
            assert!(
                seen <= max,
                "{seen} connections open at once by {TASKS} tasks: more than pool_max ({max})"
            );
            assert!(
                idle_sessions <= max,
                "{idle_sessions} sessions left: more than {max}"
            );
            rt.block_on(async { mysql_lock::close_idle_connections(&alias).unwrap() });
            settle(port, baseline);
            if round % 2 == 1 {
                raw_time = raw();
                settle(port, baseline);
            }
            peak = peak.max(seen);
            sessions_after = sessions_after.max(idle_sessions);
            threads = (threads_before, threads_after);
            raw_us.push(micros(raw_time) / TASKS as f64);
            lib_us.push(micros(lib_time) / TASKS as f64);
            lib_total.push(lib_time.as_secs_f64());
            ratios.push(raw_time.as_secs_f64() / lib_time.as_secs_f64());
        }
        println!("| tasks | library total | library µs per lock | raw µs per lock ({max} connections) | × raw (median of rounds) | peak connections open (pool_max {max}) | sessions after, idle in the pool | Threads_connected before → after (whole server) |");
        println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        println!(
            "| {TASKS} | {:.2} s | {:.1} | {:.1} | {:.3} | {peak} | {sessions_after} | {} → {} |",
            median(&mut lib_total),
            median(&mut lib_us),
            median(&mut raw_us),
            median(&mut ratios),
            threads.0,
            threads.1,
        );
    }

    /// Waits (up to 2 s) until this process has no more than `baseline`
    /// connections to the server open: those a run closed on its runtime
    /// may still be saying goodbye.
    fn settle(port: u16, baseline: usize) {
        let started = Instant::now();
        while our_server_sockets(port).len() > baseline
            && started.elapsed() < Duration::from_secs(2)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
