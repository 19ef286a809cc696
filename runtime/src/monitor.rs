//! The background ownership check of held locks.
//!
//! A lock lost without anyone noticing lets two workers run the same job at
//! once. While a lock session holds locks, a background thread asks the
//! server every [check interval](crate::set_check_interval) whether the
//! session's connection still owns them (`IS_USED_LOCK(name)` against the
//! connection id; a ping would not notice a lock freed another way), and
//! marks them lost otherwise. The same traffic keeps an idle holder's
//! connection from being closed by the server's `wait_timeout`.
//!
//! Each alias has its own thread, so a server that stops answering delays
//! the checks of no other alias; within an alias, a check waits at most the
//! statement timeout (and, when it went unanswered, two more to kill the
//! abandoned session). The thread sleeps until the next check is due, so a
//! lost lock is noticed at most one interval (plus a round trip) after its
//! last successful check.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

/// The default [check interval](crate::set_check_interval): 5 seconds, far
/// under any sane `wait_timeout` (28,800 s by default).
///
/// ```
/// assert_eq!(mysql_lock::DEFAULT_CHECK_INTERVAL.as_secs(), 5);
/// ```
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(5);

static INTERVAL_MICROS: AtomicU64 = AtomicU64::new(5_000_000);

/// Every monitor thread, with its process generation (see `fork.rs`), to
/// wake them when the interval changes.
static THREADS: Mutex<Vec<(u64, thread::Thread)>> = Mutex::new(Vec::new());

/// Sets how often the ownership of held locks is confirmed with the server
/// (for every alias). Shorter notices a lost lock sooner and costs one round
/// trip per lock session (a thread holding locks) per interval; the default
/// is [`DEFAULT_CHECK_INTERVAL`]. Intervals under 10 ms are raised to 10 ms.
///
/// ```
/// use std::time::Duration;
/// mysql_lock::set_check_interval(Duration::from_secs(1));
/// assert_eq!(mysql_lock::check_interval(), Duration::from_secs(1));
/// mysql_lock::set_check_interval(mysql_lock::DEFAULT_CHECK_INTERVAL);
/// ```
pub fn set_check_interval(interval: Duration) {
    let micros = interval.max(Duration::from_millis(10)).as_micros();
    INTERVAL_MICROS.store(u64::try_from(micros).unwrap_or(u64::MAX), Ordering::Relaxed);
    // Sleeping monitors would apply the new interval only after their
    // current nap: wake them.
    let generation = crate::fork::generation();
    for (owner, thread) in THREADS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
    {
        if *owner == generation {
            thread.unpark();
        }
    }
}

/// The current [check interval](set_check_interval).
///
/// ```
/// assert!(mysql_lock::check_interval() >= std::time::Duration::from_millis(10));
/// ```
pub fn check_interval() -> Duration {
    Duration::from_micros(INTERVAL_MICROS.load(Ordering::Relaxed))
}

/// What the monitor watches: a lock session, seen only through what the
/// monitor asks of it (so that this module knows nothing of sessions).
pub(crate) trait Watched: Send + Sync {
    /// Confirms the ownership of its locks when a check is due; returns
    /// when it is next due, or `None` when it holds nothing.
    fn check_if_due(&self, interval: Duration) -> Option<Instant>;

    /// Which thread holds `server_name` on the connection `connection_id`,
    /// and for how long, when this session does.
    fn holds(&self, server_name: &str, connection_id: u64) -> Option<String>;
}

/// The lock sessions of one alias, and the thread that checks them.
pub(crate) struct Monitor {
    alias: String,
    sessions: Mutex<Vec<Weak<dyn Watched>>>,
    /// The running thread and the process generation it runs in: a child
    /// process after a `fork()` has no thread, and starts its own.
    thread: Mutex<Option<(u64, thread::Thread)>>,
    /// The generation plus one whose thread runs (0: none yet): the fast
    /// path of [`Monitor::ensure_running`], taken on every checkout.
    running_in: AtomicU64,
}

impl Monitor {
    pub(crate) fn new(alias: &str) -> Self {
        Monitor {
            alias: alias.to_owned(),
            sessions: Mutex::new(Vec::new()),
            thread: Mutex::new(None),
            running_in: AtomicU64::new(0),
        }
    }

    /// Adds a new session (a thread using this alias) to the watch list.
    pub(crate) fn watch(self: &Arc<Self>, session: Weak<dyn Watched>) {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(session);
        self.ensure_running();
    }

    /// Starts the thread unless it runs in this process. Called when a
    /// session starts holding locks.
    pub(crate) fn ensure_running(self: &Arc<Self>) {
        let generation = crate::fork::generation();
        if self.running_in.load(Ordering::Acquire) == generation + 1 {
            return;
        }
        let mut running = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        if running
            .as_ref()
            .is_some_and(|(owner, _)| *owner == generation)
        {
            return;
        }
        let monitor = Arc::clone(self);
        // If the thread can't start, locks still work; only the background
        // check is missing, and a release still reports a loss.
        if let Ok(handle) = thread::Builder::new()
            .name(format!("mysql-lock-monitor-{}", self.alias))
            .spawn(move || monitor.run())
        {
            let thread = handle.thread().clone();
            let mut threads = THREADS.lock().unwrap_or_else(PoisonError::into_inner);
            // A parent's threads don't exist in a child process.
            threads.retain(|(owner, _)| *owner == generation);
            threads.push((generation, thread.clone()));
            *running = Some((generation, thread));
            self.running_in.store(generation + 1, Ordering::Release);
        }
    }

    /// The live sessions of this alias.
    pub(crate) fn sessions(&self) -> Vec<Arc<dyn Watched>> {
        let mut list = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        list.retain(|weak| weak.strong_count() > 0);
        list.iter().filter_map(Weak::upgrade).collect()
    }

    fn run(&self) {
        loop {
            let interval = check_interval();
            let now = Instant::now();
            // A panic in one check (a tracing subscriber's, say) must not
            // end the thread: no later check of this alias would happen.
            let next = self
                .sessions()
                .iter()
                .filter_map(|session| {
                    panic::catch_unwind(AssertUnwindSafe(|| session.check_if_due(interval)))
                        .unwrap_or(Some(now + interval))
                })
                .min()
                .unwrap_or(now + interval);
            thread::park_timeout(next.saturating_duration_since(Instant::now()));
        }
    }
}
