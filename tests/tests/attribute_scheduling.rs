//! `#[mysql_lock]` for per-entity locks and scheduled jobs, against the
//! live server: names formatted from the arguments (different values run
//! in parallel, equal ones exclude each other, an invalid name is an
//! error, never a panic), `if_busy = "skip"` (`Ok(None)` when another
//! thread or process has the lock), and `min_hold` across processes.

use mysql_lock::{mysql_lock, Error, Lock};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Threads inside [`meet`] at the same time, and a signal for each entry.
struct Meeting {
    inside: Mutex<usize>,
    entered: Condvar,
}

impl Meeting {
    const fn new() -> Self {
        Meeting {
            inside: Mutex::new(0),
            entered: Condvar::new(),
        }
    }

    /// Enters, and waits up to `patience` for `count` threads to be inside
    /// at once; whether they were.
    fn meet(&self, count: usize, patience: Duration) -> bool {
        let mut inside = self.inside.lock().unwrap();
        *inside += 1;
        self.entered.notify_all();
        let (inside, _) = self
            .entered
            .wait_timeout_while(inside, patience, |inside| *inside < count)
            .unwrap();
        *inside >= count
    }
}

static MEETING: Meeting = Meeting::new();

/// Locks `<stem>:<id>`: two calls with different ids both get inside.
#[mysql_lock(name = "{stem}:{id}", timeout = 5)]
fn meet_per_id(stem: &str, id: u32) -> Result<bool, Error> {
    Ok(MEETING.meet(2, Duration::from_secs(3)))
}

#[test]
fn different_values_run_in_parallel() {
    testkit::setup();
    let stem = testkit::unique("sched-parallel");
    let started = Instant::now();
    let met = thread::scope(|scope| {
        let one = scope.spawn(|| meet_per_id(&stem, 1));
        let two = scope.spawn(|| meet_per_id(&stem, 2));
        [one.join().unwrap().unwrap(), two.join().unwrap().unwrap()]
    });
    // Each waited for the other inside its lock: both held at once.
    assert_eq!(met, [true, true], "after {:?}", started.elapsed());
}

static INSIDE: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];
static OVERLAPS: AtomicUsize = AtomicUsize::new(0);

#[mysql_lock(name = "{stem}/{slot}", timeout = 30)]
fn exclusive_per_slot(stem: &str, slot: usize) -> Result<(), Error> {
    if INSIDE[slot].swap(true, Ordering::SeqCst) {
        OVERLAPS.fetch_add(1, Ordering::SeqCst);
    }
    thread::sleep(Duration::from_micros(300));
    INSIDE[slot].store(false, Ordering::SeqCst);
    Ok(())
}

#[test]
fn equal_values_exclude_each_other() {
    testkit::setup();
    let stem = testkit::unique("sched-equal");
    thread::scope(|scope| {
        for worker in 0..6 {
            let stem = &stem;
            scope.spawn(move || {
                for _ in 0..20 {
                    exclusive_per_slot(stem, worker % 2).unwrap();
                }
            });
        }
    });
    assert_eq!(OVERLAPS.load(Ordering::SeqCst), 0);
    // The name is the formatted one: held by hand, it excludes the call
    // with the same value only.
    let guard = Lock::new(format!("{stem}/1")).acquire().unwrap();
    let (same, other) = thread::scope(|scope| {
        let same = scope.spawn(|| timed_out_for(&stem, 1));
        let other = scope.spawn(|| timed_out_for(&stem, 0));
        (same.join().unwrap(), other.join().unwrap())
    });
    guard.release().unwrap();
    let Err(Error::Timeout { name, .. }) = same else {
        panic!("{same:?}");
    };
    assert_eq!(name, format!("test.{stem}/1"));
    other.unwrap();
}

#[mysql_lock(name = "{stem}/{slot}", timeout = 0.2)]
fn timed_out_for(stem: &str, slot: usize) -> Result<(), Error> {
    Ok(())
}

static BODY_RAN: AtomicUsize = AtomicUsize::new(0);

#[mysql_lock(name = "{key}")]
fn by_key(key: &str) -> Result<(), Error> {
    BODY_RAN.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

#[test]
fn an_invalid_formatted_name_is_an_error_not_a_panic() {
    testkit::setup();
    let too_long = "x".repeat(mysql_lock::MAX_NAME_BYTES + 1);
    for key in ["", "a\0b", too_long.as_str()] {
        let err = by_key(key).unwrap_err();
        assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");
    }
    assert_eq!(BODY_RAN.load(Ordering::SeqCst), 0);
    by_key(&testkit::unique("sched-valid")).unwrap();
    assert_eq!(BODY_RAN.load(Ordering::SeqCst), 1);
}

static SYNC_RAN: AtomicUsize = AtomicUsize::new(0);

/// A job that skips when another worker runs it.
#[mysql_lock(name = "{name}", if_busy = "skip")]
fn sync(name: &str) -> Result<Option<usize>, Error> {
    Ok(Some(SYNC_RAN.fetch_add(1, Ordering::SeqCst) + 1))
}

/// The same, waiting up to 3 s before skipping.
#[mysql_lock(name = "{name}", if_busy = "skip", timeout = 3)]
fn patient_sync(name: &str) -> Result<Option<&'static str>, Error> {
    Ok(Some("ran"))
}

#[test]
fn skip_returns_none_when_busy_and_some_otherwise() {
    testkit::setup();
    let name = testkit::unique("sched-skip");
    assert_eq!(sync(&name).unwrap(), Some(1));

    // Held by another thread: skipped at once, the body does not run.
    let guard = Lock::new(name.as_str()).acquire().unwrap();
    let (skipped, took) = thread::spawn({
        let name = name.clone();
        move || {
            let started = Instant::now();
            (sync(&name), started.elapsed())
        }
    })
    .join()
    .unwrap();
    assert_eq!(skipped.unwrap(), None);
    assert!(took < Duration::from_millis(500), "{took:?}");
    assert_eq!(SYNC_RAN.load(Ordering::SeqCst), 1);

    // Other lock errors stay errors: this thread holds it.
    let err = sync(&name).unwrap_err();
    assert!(matches!(err, Error::Reentrant { .. }), "{err:?}");
    let err = sync("").unwrap_err();
    assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");

    // With a timeout, it waits that long before skipping.
    let waiter = thread::spawn({
        let name = name.clone();
        move || patient_sync(&name)
    });
    thread::sleep(Duration::from_millis(300));
    guard.release().unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), Some("ran"));
    assert_eq!(sync(&name).unwrap(), Some(2));

    // Held by another process: skipped.
    let (mut child, _) =
        testkit::hold_in_another_process(env!("CARGO_BIN_EXE_lock-helper"), &name, 1.0);
    assert_eq!(sync(&name).unwrap(), None);
    assert!(child.wait().unwrap().success());
    assert_eq!(sync(&name).unwrap(), Some(3));
}

/// Starts `lock-helper scheduled`, which runs the job (skip, min_hold
/// 1.5 s) once, then stays `stay_ms`; returns it and its first line.
fn scheduled_elsewhere(name: &str, stay_ms: u64) -> (std::process::Child, String, Instant) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lock-helper"))
        .args(["scheduled", testkit::url(), name, &stay_ms.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_owned(), Instant::now())
}

/// This process's copy of the job the helper runs.
#[mysql_lock(name = "{name}", if_busy = "skip", min_hold = 1.5)]
fn scheduled(name: &str) -> Result<Option<()>, Error> {
    Ok(Some(()))
}

#[test]
fn min_hold_keeps_a_finished_job_from_running_again_elsewhere() {
    testkit::setup();
    let name = testkit::unique("sched-min-hold");
    let (mut child, line, returned_at) = scheduled_elsewhere(&name, 2500);
    // The job ran there, and its call returned at once.
    let took: u64 = line
        .strip_prefix("ran ")
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("unexpected: {line:?}"));
    assert!(took < 100, "the call took {took} ms after its body");
    // A machine whose clock is a little behind gets there later: skipped,
    // although the job is done.
    assert_eq!(scheduled(&name).unwrap(), None);
    thread::sleep(Duration::from_millis(600));
    assert_eq!(scheduled(&name).unwrap(), None);
    // Released by the helper's background thread at 1.5 s, while it lives.
    let guard = Lock::new(name.as_str())
        .timeout(Duration::from_secs(5))
        .acquire()
        .expect("released when the minimum hold time is up");
    let after = returned_at.elapsed();
    guard.release().unwrap();
    testkit::report(&format!(
        "min_hold 1.5 s through the attribute: the call returned {took} ms after its body; \
         the lock came free {after:?} later"
    ));
    assert!(
        after >= Duration::from_millis(1200) && after < Duration::from_millis(2400),
        "{after:?}"
    );
    assert_eq!(scheduled(&name).unwrap(), Some(()));
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_process_that_exits_during_min_hold_frees_the_lock() {
    testkit::setup();
    let name = testkit::unique("sched-min-hold-exit");
    let (mut child, line, _) = scheduled_elsewhere(&name, 200);
    assert!(line.starts_with("ran "), "{line}");
    assert!(child.wait().unwrap().success());
    testkit::assert_freed_at_once(&name);
}

#[test]
fn min_hold_makes_the_same_thread_skip_too() {
    testkit::setup();
    let name = testkit::unique("sched-min-hold-self");
    assert_eq!(scheduled(&name).unwrap(), Some(()));
    // Still kept by this process's background thread: busy for everyone.
    assert_eq!(scheduled(&name).unwrap(), None);
    assert!(testkit::holder(&format!("test.{name}")).is_some());
}

/// The cost of a name formatted on each call, without the server: a
/// million `with_name(format!(..))` against a million clones of the lock.
#[test]
fn formatting_cost() {
    const CALLS: u32 = 1_000_000;
    let base = Lock::new("invoice:{id}").timeout(Duration::from_secs(2));
    let started = Instant::now();
    for id in 0..CALLS {
        std::hint::black_box(base.clone());
        std::hint::black_box(id);
    }
    let cloned = started.elapsed();
    let started = Instant::now();
    for id in 0..CALLS {
        std::hint::black_box(base.with_name(format!("invoice:{id}")));
    }
    let formatted = started.elapsed();
    let per_call = |total: Duration| total.as_nanos() as f64 / f64::from(CALLS);
    testkit::report(&format!(
        "name templates: with_name(format!(..)) {:.0} ns per call, a clone of the lock {:.0} ns \
         ({} build; a lock cycle is two round trips, 40-300 µs)",
        per_call(formatted),
        per_call(cloned),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    ));
}
