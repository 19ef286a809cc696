//! `Lock`, the handle users build, and `LockGuard`, what holding looks like.

use crate::pool::Pool;
use crate::session::{self, Session};
use crate::{names, registry, Error, DEFAULT_ALIAS};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A named lock on a MySQL or MariaDB server: the same name excludes across
/// threads, processes and machines that use the same server.
///
/// Build it with [`Lock::new`] and the builder methods; it does not touch
/// the server until used. A `Lock` is cheap to clone (three reference
/// counts) and can be shared by threads; the alias and the name are resolved
/// once and cached.
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
    resolved: Arc<OnceLock<Resolved>>,
}

/// What a lock's alias and name come to, computed on first use.
struct Resolved {
    pool: Arc<Pool>,
    server_name: Arc<str>,
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
    /// seconds or more counts as unlimited. On MariaDB, which has no "wait
    /// forever" value, it is sent as 10^8 seconds (about 3 years); on MySQL
    /// as -1.
    ///
    /// ```
    /// use mysql_lock::Lock;
    /// let lock = Lock::new("job").timeout(Lock::FOREVER);
    /// assert_eq!(lock.get_timeout(), Lock::FOREVER);
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
    /// assert_eq!(lock.logical_name(), "job");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: Arc::from(name.into()),
            alias: Arc::from(DEFAULT_ALIAS),
            timeout: Self::DEFAULT_TIMEOUT,
            resolved: Arc::default(),
        }
    }

    /// How long [`acquire`](Lock::acquire) waits for the lock (and for a
    /// free pooled connection). Fractions of a second are honoured on
    /// MariaDB; MySQL waits whole seconds, so it is rounded up there.
    /// [`Duration::ZERO`] makes one attempt without waiting;
    /// [`Lock::FOREVER`] waits without limit. Opening a new connection, when
    /// the pool has none idle, is bounded by the connect timeout
    /// (`tcp_connect_timeout_ms`, default 10 s) instead: even a zero timeout
    /// must be able to connect.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = mysql_lock::Lock::new("job").timeout(Duration::from_millis(500));
    /// assert_eq!(lock.get_timeout(), Duration::from_millis(500));
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Waits without limit: the same as `.timeout(Lock::FOREVER)`.
    ///
    /// ```
    /// let lock = mysql_lock::Lock::new("job").wait_forever();
    /// assert_eq!(lock.get_timeout(), mysql_lock::Lock::FOREVER);
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
            self.resolved = Arc::default();
        }
        self
    }

    /// The name as given to [`Lock::new`].
    ///
    /// ```
    /// assert_eq!(mysql_lock::Lock::new("Job").logical_name(), "Job");
    /// ```
    pub fn logical_name(&self) -> &str {
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

    /// The timeout set with [`timeout`](Lock::timeout).
    ///
    /// ```
    /// assert_eq!(mysql_lock::Lock::new("job").get_timeout(), mysql_lock::Lock::DEFAULT_TIMEOUT);
    /// ```
    pub fn get_timeout(&self) -> Duration {
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
    /// assert_eq!(lock.name()?, "test.job");
    /// assert_eq!(mysql_lock::Lock::new("Job").using("docs-name").name()?, "test.job#62a8020568ac428b");
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn name(&self) -> Result<&str, Error> {
        Ok(&self.resolve()?.server_name)
    }

    fn resolve(&self) -> Result<&Resolved, Error> {
        if let Some(resolved) = self.resolved.get() {
            return Ok(resolved);
        }
        let pool = registry::pool(&self.alias)?;
        let server_name = names::server_name(pool.database(), &self.name)?;
        Ok(self.resolved.get_or_init(|| Resolved {
            pool,
            server_name: Arc::from(server_name),
        }))
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
        self.acquire_within(self.timeout)
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
        match self.acquire_within(Duration::ZERO) {
            Ok(guard) => Ok(Some(guard)),
            Err(Error::Timeout { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn acquire_within(&self, timeout: Duration) -> Result<LockGuard, Error> {
        let resolved = self.resolve()?;
        let session = session::current(&resolved.pool);
        let ticket = session.acquire(&resolved.server_name, timeout)?;
        Ok(LockGuard {
            session: Some(session),
            name: Arc::clone(&resolved.server_name),
            connection_id: ticket.conn_id,
            lost: ticket.lost,
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
    /// it is free. Compare with [`LockGuard::connection_id`], or look the
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
        let resolved = self.resolve()?;
        session::current(&resolved.pool).holder(&resolved.server_name, self.timeout)
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("name", &Error::display_name(&self.name))
            .field("alias", &self.alias)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Proof that the lock is held. Dropping it releases the lock; call
/// [`release`](LockGuard::release) to learn whether the release went well.
///
/// A guard may be sent to and dropped on another thread. Its lock still
/// belongs to the session (the connection) of the thread that took it, so
/// that thread keeps getting [`Error::Reentrant`] for the name until the
/// guard is gone, and a release on the other thread waits while the owning
/// thread is inside `GET_LOCK` for another lock on that connection (one
/// connection runs one statement at a time).
///
/// ```no_run
/// let guard = mysql_lock::Lock::new("job").acquire()?;
/// assert_eq!(guard.name(), "test.job");
/// guard.release()?;
/// # Ok::<(), mysql_lock::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard {
    /// `None` once released.
    session: Option<Arc<Session>>,
    name: Arc<str>,
    connection_id: u64,
    /// Set by the background check, or by a failed release of a sibling
    /// lock on the same connection.
    lost: Arc<AtomicBool>,
}

impl LockGuard {
    /// Whether the lock is known to be lost: its connection died or was
    /// killed, or the server no longer counts it as this connection's. Set
    /// by the background [check](crate::set_check_interval), so it can lag
    /// by up to one check interval; [`verify`](LockGuard::verify) asks the
    /// server now. A lost lock stays lost; its release reports
    /// [`Error::LockLost`].
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
        self.lost.load(Ordering::Acquire)
    }

    /// Asks the server now (one round trip) whether this guard's connection
    /// still holds the lock; do it before an action that must not run twice.
    ///
    /// # Errors
    ///
    /// [`Error::LockLost`] when it doesn't (the guard then stays lost).
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("payout").acquire()?;
    /// // ... prepare ...
    /// guard.verify()?; // still ours: safe to commit the payout
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn verify(&self) -> Result<(), Error> {
        match &self.session {
            Some(session) => session.verify(&self.name, self.connection_id),
            None => Err(Error::LockLost {
                name: self.name.to_string(),
            }),
        }
    }

    /// The `CONNECTION_ID()` of the server session that holds the lock.
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("job").acquire()?;
    /// println!("KILL {} would free it", guard.connection_id());
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn connection_id(&self) -> u64 {
        self.connection_id
    }

    /// The name as sent to the server.
    ///
    /// ```no_run
    /// let guard = mysql_lock::Lock::new("job").acquire()?;
    /// assert!(guard.name().ends_with("job"));
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
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
            Some(session) => session.release(&self.name, self.connection_id),
            None => Ok(()),
        }
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
        f.debug_struct("LockGuard")
            .field("name", &Error::display_name(&self.name))
            .field("connection_id", &self.connection_id)
            .field("lost", &self.is_lost())
            .finish()
    }
}

/// The innermost lock the current thread holds, for code that has no guard
/// at hand: the body of a [`#[mysql_lock]`](crate::mysql_lock) function, or
/// a helper it calls. `None` when the thread holds no lock.
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
    session::innermost().map(|(name, connection_id, lost)| HeldLock {
        name,
        connection_id,
        lost,
    })
}

/// A lock the current thread holds, as returned by [`current`].
///
/// ```no_run
/// let guard = mysql_lock::Lock::new("job").acquire()?;
/// let held = mysql_lock::current().expect("holding a lock");
/// assert_eq!(held.name(), guard.name());
/// assert_eq!(held.connection_id(), guard.connection_id());
/// # Ok::<(), mysql_lock::Error>(())
/// ```
#[derive(Clone)]
pub struct HeldLock {
    name: Arc<str>,
    connection_id: u64,
    lost: Arc<AtomicBool>,
}

impl HeldLock {
    /// The name as sent to the server.
    ///
    /// ```no_run
    /// # let _guard = mysql_lock::Lock::new("job").acquire()?;
    /// println!("{}", mysql_lock::current().unwrap().name());
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The holding connection's `CONNECTION_ID()`.
    ///
    /// ```no_run
    /// # let _guard = mysql_lock::Lock::new("job").acquire()?;
    /// println!("{}", mysql_lock::current().unwrap().connection_id());
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn connection_id(&self) -> u64 {
        self.connection_id
    }

    /// Whether the lock is known to be lost; see [`LockGuard::is_lost`].
    ///
    /// ```no_run
    /// # let _guard = mysql_lock::Lock::new("job").acquire()?;
    /// assert!(!mysql_lock::current().unwrap().is_lost());
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Acquire)
    }
}

impl fmt::Debug for HeldLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldLock")
            .field("name", &Error::display_name(&self.name))
            .field("connection_id", &self.connection_id)
            .field("lost", &self.is_lost())
            .finish()
    }
}
