//! [`HeldLock`]: a lock this process holds. The one type for it: a guard
//! carries one, [`current`](crate::current) returns one, and a lock
//! session keeps one for each lock it holds.

use crate::server::ConnId;
use crate::Error;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A lock held by this process: its names, the server connection holding
/// it, since when, and whether it is known to be lost. Cheap to clone (one
/// reference count); every clone sees the same lost flag.
///
/// A [`LockGuard`](crate::LockGuard) dereferences to its `HeldLock`;
/// [`current`](crate::current) returns the innermost one of the thread.
///
/// ```no_run
/// let guard = mysql_lock::Lock::new("job").acquire()?;
/// let held = mysql_lock::current().expect("holding a lock");
/// assert_eq!(held.name(), "job");
/// assert_eq!(held.server_name(), guard.server_name());
/// assert_eq!(held.connection_id(), guard.connection_id());
/// # Ok::<(), mysql_lock::Error>(())
/// ```
#[derive(Clone)]
pub struct HeldLock {
    inner: Arc<Inner>,
}

struct Inner {
    name: Arc<str>,
    server_name: Arc<str>,
    alias: Arc<str>,
    conn: ConnId,
    since: Instant,
    /// The process generation that took it (see `fork.rs`): in a child
    /// after a `fork()`, the parent's locks are not held (and `is_lost` says
    /// so at once).
    generation: u64,
    /// Kept at least this long after `since`.
    min_hold: Duration,
    /// Set by the background check, or by a failed release of a sibling
    /// lock on the same connection; never cleared.
    lost: AtomicBool,
    /// Released by its guard before its minimum hold time: kept until then
    /// by the background thread, and busy for everyone, this thread too.
    lingering: AtomicBool,
}

impl HeldLock {
    pub(crate) fn new(
        name: Arc<str>,
        server_name: Arc<str>,
        alias: Arc<str>,
        conn: ConnId,
        min_hold: Duration,
    ) -> Self {
        HeldLock {
            inner: Arc::new(Inner {
                name,
                server_name,
                alias,
                conn,
                since: Instant::now(),
                generation: crate::fork::generation(),
                min_hold,
                lost: AtomicBool::new(false),
                lingering: AtomicBool::new(false),
            }),
        }
    }

    /// The name as given to [`Lock::new`](crate::Lock::new).
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("job").acquire()?;
    /// assert_eq!(guard.name(), "job");
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The name as sent to the server (see
    /// [`Lock::server_name`](crate::Lock::server_name)).
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("job").acquire()?;
    /// assert_eq!(guard.server_name(), "test.job");
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn server_name(&self) -> &str {
        &self.inner.server_name
    }

    /// The alias the lock was taken through.
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("job").acquire()?;
    /// assert_eq!(guard.alias(), mysql_lock::DEFAULT_ALIAS);
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn alias(&self) -> &str {
        &self.inner.alias
    }

    /// The `CONNECTION_ID()` of the server session that holds the lock:
    /// `KILL` it, or look it up in `SHOW PROCESSLIST`.
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("job").acquire()?;
    /// println!("KILL {} would free it", guard.connection_id());
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn connection_id(&self) -> u64 {
        self.inner.conn.server
    }

    /// How long the lock has been held.
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("job").acquire()?;
    /// assert!(guard.held_for() < std::time::Duration::from_secs(1));
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn held_for(&self) -> Duration {
        self.inner.since.elapsed()
    }

    /// Whether the lock is known to be lost: its connection died or was
    /// killed, or the server no longer counts it as this connection's. Set
    /// by the background [check](crate::set_check_interval), so it can lag
    /// by up to one check interval (plus the check's own round trip);
    /// [`LockGuard::verify`](crate::LockGuard::verify) asks the server now.
    /// A lost lock stays lost; its release reports [`Error::LockLost`].
    /// Reading it never waits for anything. In a child process after a
    /// `fork()`, the parent's locks are lost at once: the child never held
    /// them.
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("job").acquire()?;
    /// for chunk in 0..100 {
    ///     if guard.is_lost() {
    ///         break; // another worker may be running the job now
    ///     }
    ///     // ... process chunk ...
    /// }
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn is_lost(&self) -> bool {
        self.inner.lost.load(Ordering::Acquire)
            || self.inner.generation != crate::fork::generation()
    }

    /// When a release before then must wait for the minimum hold time.
    pub(crate) fn keep_until(&self) -> Option<Instant> {
        if self.inner.min_hold.is_zero() {
            return None;
        }
        let until = self.inner.since.checked_add(self.inner.min_hold)?;
        (until > Instant::now()).then_some(until)
    }

    pub(crate) fn is_lingering(&self) -> bool {
        self.inner.lingering.load(Ordering::Acquire)
    }

    pub(crate) fn mark_lingering(&self) {
        self.inner.lingering.store(true, Ordering::Release);
    }

    pub(crate) fn mark_lost(&self) {
        self.inner.lost.store(true, Ordering::Release);
    }

    pub(crate) fn conn(&self) -> ConnId {
        self.inner.conn
    }

    pub(crate) fn server_name_arc(&self) -> &Arc<str> {
        &self.inner.server_name
    }

    pub(crate) fn lost_error(&self) -> Error {
        Error::LockLost {
            name: self.server_name().to_owned(),
        }
    }
}

impl fmt::Debug for HeldLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldLock")
            .field("name", &Error::display_name(self.name()))
            .field("server_name", &self.server_name())
            .field("alias", &self.alias())
            .field("connection_id", &self.connection_id())
            .field("held_for", &self.held_for())
            .field("lost", &self.is_lost())
            .finish()
    }
}
