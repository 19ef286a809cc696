//! The background ownership check of held locks.
//!
//! A lock lost without anyone noticing lets two workers run the same job at
//! once. While a session holds locks, a background thread asks the server
//! every [check interval](crate::set_check_interval) whether the session's
//! connection still owns each of them (`IS_USED_LOCK(name)` against the
//! connection id; a ping would not notice a lock freed another way), and
//! marks the ones it doesn't as lost. The same traffic keeps an idle
//! holder's connection from being closed by the server's `wait_timeout`.
//!
//! The thread starts with the first session and sleeps between rounds; a
//! session that holds nothing costs it nothing but a glance.

use crate::session::Session;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::thread;
use std::time::Duration;

/// The default [check interval](crate::set_check_interval): 5 seconds, far
/// under any sane `wait_timeout` (28,800 s by default).
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(5);

static INTERVAL_MICROS: AtomicU64 = AtomicU64::new(5_000_000);

static SESSIONS: Mutex<Vec<Weak<Session>>> = Mutex::new(Vec::new());

/// The monitor thread, once started.
static MONITOR: OnceLock<thread::Thread> = OnceLock::new();

/// Sets how often the ownership of held locks is confirmed with the server
/// (for every alias). Shorter notices a lost lock sooner and costs one round
/// trip per held lock per interval; the default is
/// [`DEFAULT_CHECK_INTERVAL`]. Intervals under 10 ms are raised to 10 ms.
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
    // A sleeping monitor would apply the new interval only after its
    // current nap: wake it.
    if let Some(monitor) = MONITOR.get() {
        monitor.unpark();
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

/// Adds a new session to the watch list, starting the thread if needed.
/// Called once per session (a thread and an alias), not per lock.
pub(crate) fn watch(session: &Arc<Session>) {
    SESSIONS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Arc::downgrade(session));
    MONITOR.get_or_init(|| {
        // If the thread can't start, locks still work; only the background
        // check is missing, and guards' release still reports a loss.
        thread::Builder::new()
            .name("mysql-lock-monitor".into())
            .spawn(run)
            .map(|handle| handle.thread().clone())
            .unwrap_or_else(|_| thread::current())
    });
}

fn run() {
    loop {
        let interval = check_interval();
        // Wake several times per interval so that a session is checked at
        // most a quarter interval late.
        thread::park_timeout((interval / 4).min(Duration::from_secs(1)));
        let sessions: Vec<Arc<Session>> = {
            let mut list = SESSIONS.lock().unwrap_or_else(PoisonError::into_inner);
            list.retain(|weak| weak.strong_count() > 0);
            list.iter().filter_map(Weak::upgrade).collect()
        };
        for session in sessions {
            session.check_if_due(interval);
        }
    }
}
