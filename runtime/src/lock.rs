//! `Lock`, the handle users build, and `LockGuard`, what holding looks like.

use crate::held::HeldLock;
use crate::pool::Pool;
use crate::session::{self, Session};
use crate::{linger, names, registry, trace, Error, DEFAULT_ALIAS};
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A named lock on a MySQL or MariaDB server: the same name excludes across
/// threads, processes and machines that use the same server.
///
/// Build it with [`Lock::new`] and the builder methods; it does not touch
/// the server until used. A `Lock` is cheap to clone (a few reference
/// counts) and can be shared by threads; the alias and the name are resolved
/// once and cached.
///
/// Locks belong to the thread that takes them (see the
/// [crate docs](crate#lock-sessions)): another thread, even one started by
/// the holder (a scoped thread, a rayon task), is another holder and waits.
/// A thread that starts a helper and waits for it while holding the lock the
/// helper takes waits for itself; the helper's [`Error::Timeout`] then says
/// that the holder is in this process. After a `fork()`, the child holds
/// none of its parent's locks: guards it inherited are inert, and its first
/// lock opens its own connection.
///
/// ```no_run
/// use mysql_lock::Lock;
/// use std::time::Duration;
///
/// mysql_lock::register("default", "mysql://root@127.0.0.1:3306/test")?;
/// let lock = Lock::new("nightly-report").timeout(Duration::from_secs(2));
/// let guard = lock.acquire()?; // Err(Error::Timeout { .. }) after 2 s
/// // ... only one holder at a time runs here ...
/// guard.release()?; // or just drop it
/// # Ok::<(), mysql_lock::Error>(())
/// ```
#[derive(Clone)]
pub struct Lock {
    name: Arc<str>,
    alias: Arc<str>,
    timeout: Duration,
    min_hold: Duration,
    /// The alias's pool, found on first use; shared with the locks made
    /// from this one by [`with_name`](Lock::with_name).
    pool: Arc<OnceLock<Arc<Pool>>>,
    /// The name as sent to the server, computed on first use.
    server_name: Arc<OnceLock<Arc<str>>>,
}

impl Lock {
    /// The default timeout of [`acquire`](Lock::acquire): 10 seconds, as
    /// django-mysql's `acquire_timeout`.
    ///
    /// ```
    /// assert_eq!(mysql_lock::Lock::DEFAULT_TIMEOUT.as_secs(), 10);
    /// ```
    pub const DEFAULT_TIMEOUT: Duration = mysql_lock_core::DEFAULT_TIMEOUT;

    /// A timeout that never runs out: pass it to [`timeout`](Lock::timeout)
    /// (or call [`wait_forever`](Lock::wait_forever)). Any timeout of 10^8
    /// seconds or more counts as unlimited. MariaDB has no "wait forever"
    /// value (it answers a negative timeout with NULL), so it is sent to
    /// both servers as 10^8 seconds, about 3 years.
    ///
    /// ```
    /// use mysql_lock::Lock;
    /// let lock = Lock::new("job").timeout(Lock::FOREVER);
    /// assert_eq!(lock.configured_timeout(), Lock::FOREVER);
    /// ```
    pub const FOREVER: Duration = Duration::MAX;

    /// A lock named `name` on the [`DEFAULT_ALIAS`] database, with the
    /// [default timeout](Lock::DEFAULT_TIMEOUT).
    ///
    /// The name is checked on first use: empty names, names with a NUL byte
    /// and names over [`MAX_NAME_BYTES`](crate::MAX_NAME_BYTES) are
    /// [`Error::InvalidName`]. How it is sent to the server (database prefix,
    /// encoding) is described in the [crate docs](crate#lock-names).
    ///
    /// ```
    /// let lock = mysql_lock::Lock::new("job");
    /// assert_eq!(lock.name(), "job");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: Arc::from(name.into()),
            alias: Arc::from(DEFAULT_ALIAS),
            timeout: Self::DEFAULT_TIMEOUT,
            min_hold: Duration::ZERO,
            pool: Arc::default(),
            server_name: Arc::default(),
        }
    }

    /// How long [`acquire`](Lock::acquire) waits for the lock (and for a
    /// free pooled connection). Fractions of a second are honoured on
    /// MariaDB; MySQL waits whole seconds, so it is rounded up there.
    /// [`Duration::ZERO`] makes one attempt without waiting;
    /// [`Lock::FOREVER`] waits without limit.
    ///
    /// Whatever the server does, [`acquire`](Lock::acquire) returns within
    /// the timeout plus one second (the answer margin, which also lets even
    /// a zero timeout open a connection), plus at most two statement
    /// timeouts when the server stopped answering (see the
    /// [crate docs](crate#faults)): a server that stops answering is
    /// [`Error::Unanswered`], never a hung thread. Opening a connection is
    /// also bounded by the connect timeout (`tcp_connect_timeout_ms`,
    /// default 10 s), which is all that bounds an unlimited wait's connect.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = mysql_lock::Lock::new("job").timeout(Duration::from_millis(500));
    /// assert_eq!(lock.configured_timeout(), Duration::from_millis(500));
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Keeps the lock at least `min_hold` from its acquisition, even when it
    /// is released sooner (ShedLock's `lockAtLeastFor`): a job scheduled on
    /// several machines, whose clocks differ by less than `min_hold`, then
    /// runs once per period. The release returns at once; a background
    /// thread releases the lock when the time is up (a process that exits
    /// meanwhile frees it too: the server ends its sessions). Until then the
    /// lock is busy for everyone, the thread that took it too
    /// ([`Error::Timeout`] at once, `None` from
    /// [`try_acquire`](Lock::try_acquire)), and the thread's lock session
    /// keeps its connection.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let lock = mysql_lock::Lock::new("hourly-sync").min_hold(Duration::from_secs(60));
    /// if let Some(guard) = lock.try_acquire()? {
    ///     // ... a few seconds of work ...
    ///     guard.release()?; // returns at once; the lock is held a minute in all
    /// }
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    #[must_use]
    pub fn min_hold(mut self, min_hold: Duration) -> Self {
        self.min_hold = min_hold;
        self
    }

    /// The minimum hold time set with [`min_hold`](Lock::min_hold) (zero by
    /// default).
    ///
    /// ```
    /// let lock = mysql_lock::Lock::new("job");
    /// assert!(lock.configured_min_hold().is_zero());
    /// ```
    pub fn configured_min_hold(&self) -> Duration {
        self.min_hold
    }

    /// Waits without limit: the same as `.timeout(Lock::FOREVER)`.
    ///
    /// ```
    /// let lock = mysql_lock::Lock::new("job").wait_forever();
    /// assert_eq!(lock.configured_timeout(), mysql_lock::Lock::FOREVER);
    /// ```
    #[must_use]
    pub fn wait_forever(self) -> Self {
        self.timeout(Self::FOREVER)
    }

    /// Uses the database registered under `alias` (see
    /// [`register`](crate::register)) instead of [`DEFAULT_ALIAS`].
    ///
    /// ```
    /// let lock = mysql_lock::Lock::new("job").using("reports");
    /// assert_eq!(lock.alias(), "reports");
    /// ```
    #[must_use]
    pub fn using(mut self, alias: &str) -> Self {
        if *self.alias != *alias {
            self.alias = Arc::from(alias);
            self.pool = Arc::default();
            self.server_name = Arc::default();
        }
        self
    }

    /// The name as given to [`Lock::new`].
    ///
    /// ```
    /// assert_eq!(mysql_lock::Lock::new("Job").name(), "Job");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The alias this lock uses.
    ///
    /// ```
    /// assert_eq!(mysql_lock::Lock::new("job").alias(), mysql_lock::DEFAULT_ALIAS);
    /// ```
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// The timeout set with [`timeout`](Lock::timeout), or the default.
    ///
    /// ```
    /// let lock = mysql_lock::Lock::new("job");
    /// assert_eq!(lock.configured_timeout(), mysql_lock::Lock::DEFAULT_TIMEOUT);
    /// ```
    pub fn configured_timeout(&self) -> Duration {
        self.timeout
    }

    /// The name exactly as sent to the server: `<database>.<name>` when the
    /// alias names a database, encoded when the servers would disagree about
    /// it (see the [crate docs](crate#lock-names)). Needs no connection.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAlias`], [`Error::InvalidName`].
    ///
    /// ```
    /// mysql_lock::register("docs-name", "mysql://root@127.0.0.1:3306/test")?;
    /// let lock = mysql_lock::Lock::new("job").using("docs-name");
    /// assert_eq!(lock.server_name()?, "test.job");
    /// let mixed_case = mysql_lock::Lock::new("Job").using("docs-name");
    /// assert_eq!(mixed_case.server_name()?, "test.job#62a8020568ac428b");
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn server_name(&self) -> Result<&str, Error> {
        Ok(self.resolve()?.1)
    }

    /// The alias's pool and the server name, each found once.
    fn resolve(&self) -> Result<(&Arc<Pool>, &Arc<str>), Error> {
        let pool = match self.pool.get() {
            Some(pool) => pool,
            None => {
                let pool = registry::pool(&self.alias)?;
                self.pool.get_or_init(|| pool)
            }
        };
        let server_name = match self.server_name.get() {
            Some(name) => name,
            None => {
                let name = names::server_name(pool.database(), &self.name, pool.name_scheme())?;
                self.server_name.get_or_init(|| Arc::from(name))
            }
        };
        Ok((pool, server_name))
    }

    /// The alias's pool and the server name, shared (for the async API,
    /// whose futures own what they use).
    #[cfg(feature = "async")]
    pub(crate) fn resolve_shared(&self) -> Result<(Arc<Pool>, Arc<str>), Error> {
        let (pool, server_name) = self.resolve()?;
        Ok((Arc::clone(pool), Arc::clone(server_name)))
    }

    /// The name and the alias, shared.
    #[cfg(feature = "async")]
    pub(crate) fn name_and_alias(&self) -> (Arc<str>, Arc<str>) {
        (Arc::clone(&self.name), Arc::clone(&self.alias))
    }

    /// A lock like this one (alias, timeout, minimum hold time) with
    /// another name: for names built at run time, such as one per entity.
    /// It shares this lock's look-up of the alias, so making one costs the
    /// name's allocation and nothing else.
    ///
    /// ```
    /// use std::time::Duration;
    /// let invoices = mysql_lock::Lock::new("invoice").timeout(Duration::from_secs(2));
    /// let one = invoices.with_name(format!("invoice:{}", 42));
    /// assert_eq!(one.name(), "invoice:42");
    /// assert_eq!(one.configured_timeout(), Duration::from_secs(2));
    /// ```
    #[must_use]
    pub fn with_name(&self, name: impl Into<String>) -> Lock {
        Lock {
            name: Arc::from(name.into()),
            alias: Arc::clone(&self.alias),
            timeout: self.timeout,
            min_hold: self.min_hold,
            pool: Arc::clone(&self.pool),
            server_name: Arc::default(),
        }
    }

    /// Takes the lock, waiting up to the [timeout](Lock::timeout). The lock
    /// is held until the guard is released or dropped.
    ///
    /// # Errors
    ///
    /// - [`Error::Timeout`]: another session held it for the whole timeout.
    /// - [`Error::Reentrant`]: this thread already holds it (at once, no query).
    /// - [`Error::Deadlock`]: this thread holds a lock the holder is waiting for.
    /// - [`Error::Interrupted`]: the wait was killed on the server.
    /// - [`Error::UnknownAlias`], [`Error::InvalidName`], [`Error::PoolExhausted`],
    ///   [`Error::Connect`], [`Error::Mysql`].
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("job").acquire()?;
    /// println!("holding on connection {}", guard.connection_id());
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    #[must_use = "the lock is released as soon as the guard is dropped"]
    pub fn acquire(&self) -> Result<LockGuard, Error> {
        self.acquire_within(self.timeout, true)
    }

    /// Makes one attempt without waiting: `Ok(None)` when another session
    /// holds the lock.
    ///
    /// # Errors
    ///
    /// As [`acquire`](Lock::acquire), but never [`Error::Timeout`].
    ///
    /// ```no_run
    /// match mysql_lock::Lock::new("job").try_acquire()? {
    ///     Some(_guard) => println!("running the job"),
    ///     None => println!("another worker is running it; skipping"),
    /// }
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    #[must_use = "the lock is released as soon as the guard is dropped"]
    pub fn try_acquire(&self) -> Result<Option<LockGuard>, Error> {
        self.acquire_unless_busy(Duration::ZERO)
    }

    /// Waits up to `timeout`; `Ok(None)` when the lock stayed busy (for
    /// `if_busy = "skip"`).
    pub(crate) fn acquire_unless_busy(
        &self,
        timeout: Duration,
    ) -> Result<Option<LockGuard>, Error> {
        // A busy lock is an answer here, not an error: no question about
        // its holder.
        match self.acquire_within(timeout, false) {
            Ok(guard) => Ok(Some(guard)),
            Err(Error::Timeout { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn acquire_within(&self, timeout: Duration, describe_holder: bool) -> Result<LockGuard, Error> {
        let (pool, server_name) = self.resolve()?;
        let session = session::current(pool);
        let waiting = trace::waiting(server_name, &self.alias);
        let held = off_the_workers(!timeout.is_zero(), || {
            session.acquire(
                &self.name,
                server_name,
                &self.alias,
                timeout,
                self.min_hold,
                describe_holder,
            )
        })
        .inspect_err(|error| {
            trace::failed(waiting.started, server_name, &self.alias, error);
        })?;
        trace::acquired(waiting.started, &held);
        Ok(LockGuard {
            session: Some(session),
            held,
        })
    }

    /// Whether any session holds the lock now (`IS_USED_LOCK` is not NULL).
    /// The answer may be stale as soon as it is returned: use it for
    /// monitoring, never to decide whether to run exclusive work.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAlias`], [`Error::InvalidName`], [`Error::PoolExhausted`],
    /// [`Error::Connect`], [`Error::Mysql`].
    ///
    /// ```no_run
    /// if mysql_lock::Lock::new("job").is_held()? {
    ///     println!("a worker is running the job");
    /// }
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn is_held(&self) -> Result<bool, Error> {
        Ok(self.holding_connection_id()?.is_some())
    }

    /// The `CONNECTION_ID()` of the session holding the lock, or `None` when
    /// it is free. Compare with [`HeldLock::connection_id`](crate::HeldLock::connection_id), or look the
    /// session up in `SHOW PROCESSLIST`.
    ///
    /// # Errors
    ///
    /// As [`is_held`](Lock::is_held).
    ///
    /// ```no_run
    /// let lock = mysql_lock::Lock::new("job");
    /// let guard = lock.acquire()?;
    /// assert_eq!(lock.holding_connection_id()?, Some(guard.connection_id()));
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn holding_connection_id(&self) -> Result<Option<u64>, Error> {
        let (pool, server_name) = self.resolve()?;
        session::current(pool).holder(server_name, self.timeout)
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("name", &Error::display_name(&self.name))
            .field("alias", &self.alias)
            .field("timeout", &self.timeout)
            .field("min_hold", &self.min_hold)
            .finish()
    }
}

/// Proof that the lock is held. Dropping it releases the lock; call
/// [`release`](LockGuard::release) to learn whether the release went well.
/// It dereferences to the [`HeldLock`] it holds: [`name`](HeldLock::name),
/// [`connection_id`](HeldLock::connection_id),
/// [`is_lost`](HeldLock::is_lost), ...
///
/// A guard may be sent to and dropped on another thread. Its lock still
/// belongs to the session (the connection) of the thread that took it, so
/// that thread keeps getting [`Error::Reentrant`] for the name until the
/// guard is gone, and a release on the other thread waits while the owning
/// thread is inside `GET_LOCK` for another lock on that connection (one
/// connection runs one statement at a time).
///
/// `std::mem::forget` on a guard keeps the lock, and its connection out of
/// the pool, until the process exits (or the connection is closed by the
/// server's `wait_timeout`, which the background check prevents): the
/// server frees it then.
///
/// ```no_run
/// let guard = mysql_lock::Lock::new("job").acquire()?;
/// assert_eq!(guard.name(), "job");
/// assert_eq!(guard.server_name(), "test.job");
/// guard.release()?;
/// # Ok::<(), mysql_lock::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard {
    /// `None` once released.
    session: Option<Arc<Session>>,
    held: HeldLock,
}

impl LockGuard {
    /// Asks the server now (one round trip) whether this guard's connection
    /// still holds the lock; do it before an action that must not run twice.
    ///
    /// # Errors
    ///
    /// [`Error::LockLost`] when it doesn't (the guard then stays lost); the
    /// connection is closed, as the background check would. Another error
    /// of the query (it was killed, say) is [`Error::Mysql`] and claims
    /// nothing about the lock.
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("payout").acquire()?;
    /// // ... prepare ...
    /// guard.verify()?; // still ours: safe to commit the payout
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn verify(&self) -> Result<(), Error> {
        match &self.session {
            Some(session) => session.verify(&self.held),
            None => Err(self.held.lost_error()),
        }
    }

    /// Releases the lock (one round trip).
    ///
    /// # Errors
    ///
    /// [`Error::LockLost`] when the lock was no longer held by this guard's
    /// connection: work done under it may have overlapped with another
    /// holder. The connection is then closed, never reused.
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("job").acquire()?;
    /// if let Err(err) = guard.release() {
    ///     eprintln!("the job may have run twice: {err}");
    /// }
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn release(mut self) -> Result<(), Error> {
        self.release_now()
    }

    fn release_now(&mut self) -> Result<(), Error> {
        match self.session.take() {
            Some(session) => {
                if let Some(until) = self.held.keep_until().filter(|_| !self.held.is_lost()) {
                    // Its minimum hold time is not up: kept until then.
                    self.held.mark_lingering();
                    linger::release_at(until, session, self.held.clone());
                    return Ok(());
                }
                let result = session.release(&self.held);
                trace::released(&self.held, &result);
                result
            }
            None => Ok(()),
        }
    }
}

impl Deref for LockGuard {
    type Target = HeldLock;

    fn deref(&self) -> &HeldLock {
        &self.held
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Nobody to tell: a caller who cares calls release().
        let _ = self.release_now();
    }
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LockGuard").field(&self.held).finish()
    }
}

/// The innermost lock the current thread holds, for code that has no guard
/// at hand: the body of a [`#[mysql_lock]`](crate::mysql_lock) function, or
/// a helper it calls. `None` when the thread holds no lock. Never waits for
/// the network.
///
/// ```no_run
/// use mysql_lock::mysql_lock;
///
/// #[mysql_lock(name = "import")]
/// fn import() -> Result<(), mysql_lock::Error> {
///     for batch in 0..10 {
///         if mysql_lock::current().is_some_and(|held| held.is_lost()) {
///             return Err(mysql_lock::Error::LockLost { name: "import".into() });
///         }
///         // ... import batch ...
///     }
///     Ok(())
/// }
/// ```
pub fn current() -> Option<HeldLock> {
    session::innermost()
}

/// Runs a sync acquire that may wait (`wait`). Called on a worker thread of
/// a multi-thread tokio runtime (feature `async`), the wait runs in
/// `tokio::task::block_in_place`: the worker's other tasks move to another
/// thread instead of stalling behind the lock. Elsewhere (a plain thread,
/// `spawn_blocking`, a current-thread runtime, where nothing can take the
/// thread's tasks over) it runs as it is.
///
/// No warning is given on a current-thread runtime: tokio does not tell its
/// own thread from a `spawn_blocking` thread, where a sync lock is right,
/// so a warning would fire for correct code too. The crate docs say what
/// to do there (`spawn_blocking`, or the async API).
#[inline]
fn off_the_workers<T>(wait: bool, acquire: impl FnOnce() -> T) -> T {
    #[cfg(feature = "async")]
    if wait
        && tokio::task::try_id().is_some()
        && tokio::runtime::Handle::try_current().is_ok_and(|handle| {
            handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        })
    {
        return tokio::task::block_in_place(acquire);
    }
    let _ = wait;
    acquire()
}
