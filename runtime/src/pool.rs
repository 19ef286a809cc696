//! The connection pool of one alias.
//!
//! The `mysql` crate's own pool pings every connection it hands out and
//! resets every connection it takes back: four round trips per lock cycle
//! instead of two, and the reset frees user locks. This pool does neither.
//! It never needs to: a connection comes back only after its last lock was
//! released with `RELEASE_LOCK` returning 1 (anything else closes it), and a
//! connection that died while idle is noticed on its next statement, which
//! is then retried on another connection (safe: a dead session holds no
//! lock).
//!
//! After a `fork()`, the child finds its parent's connections here: it
//! never uses or closes them (a close would end the parent's sessions and
//! free its locks), but forgets them and opens its own.

use crate::monitor::Monitor;
use crate::names::NameScheme;
use crate::server::{ConnId, Instance, Kill, ServerConn, ANSWER_MARGIN};
use crate::Error;
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How long opening a connection may take when the URL doesn't say
/// (`tcp_connect_timeout_ms`): the TCP connect and the handshake together.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle time before TCP keepalive probes start, when the URL doesn't say
/// (`tcp_keepalive_time_ms`).
const DEFAULT_TCP_KEEPALIVE_MS: u32 = 30_000;

/// How long sent data (or keepalive probes) may stay unacknowledged before
/// the kernel gives the connection up, when the URL doesn't say
/// (`tcp_user_timeout_ms`). A lock wait sends nothing, so it is not cut.
const DEFAULT_TCP_USER_TIMEOUT_MS: u32 = 30_000;

/// How long any statement but `GET_LOCK` may wait for its answer, when the
/// options don't say (`read_timeout` of `mysql::Opts`): a release, a check,
/// `IS_USED_LOCK`. A server that answers nothing within it is taken for
/// gone.
pub(crate) const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Pool {
    alias: String,
    opts: mysql::Opts,
    /// How this alias sends lock names (set at registration).
    names: NameScheme,
    max_size: usize,
    connect_timeout: Duration,
    statement_timeout: Duration,
    state: Mutex<PoolState>,
    /// Signalled whenever a connection goes back or one is closed.
    freed: Condvar,
    /// The background check of the locks held through this pool.
    pub(crate) monitor: Arc<Monitor>,
    /// The async connections of the alias, made on first use (see
    /// `async_lock.rs`). Asserted unwind-safe so that a `Lock` stays
    /// `UnwindSafe` (users move one into `catch_unwind`): the driver's
    /// options are never changed after they are made, and the idle list is
    /// a mutex whose every critical section is a push or a pop.
    #[cfg(feature = "async")]
    pub(crate) async_conns: std::sync::OnceLock<
        Result<std::panic::AssertUnwindSafe<crate::async_lock::AsyncPool>, String>,
    >,
}

struct PoolState {
    /// The process generation the counters are about (see
    /// [`PoolState::after_fork`]).
    generation: u64,
    idle: Vec<ServerConn>,
    /// Connections that exist: idle, checked out, or being opened.
    open: usize,
    /// Threads waiting in `checkout` for a connection: without any, a
    /// check-in skips the wake-up (a futex syscall on every release).
    waiting: usize,
}

/// The counters of an alias's connection pool, from
/// [`pool_status`](crate::pool_status).
///
/// ```no_run
/// let status = mysql_lock::pool_status("default")?;
/// println!("{} of {} connections open, {} idle", status.open, status.max_size, status.idle);
/// # Ok::<(), mysql_lock::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// Connections that exist: idle, in use by a lock session, or opening.
    pub open: usize,
    /// Connections waiting in the pool, holding no lock.
    pub idle: usize,
    /// The most connections the pool opens (`pool_max` in the URL).
    pub max_size: usize,
}

/// A connection checked out of a [`Pool`]. Dropping it closes the
/// connection (the server then frees whatever it held); [`Pool::checkin`]
/// is the only way back into the pool.
pub(crate) struct PooledConn {
    conn: Option<ServerConn>,
    pool: Arc<Pool>,
    /// Taken from the idle list rather than opened now: it may have died
    /// while idle, so a connection error on it is worth one retry.
    pub(crate) reused: bool,
    /// How long the checkout waited for another holder to give a
    /// connection back (all `max_size` were in use).
    pub(crate) waited: Duration,
}

impl Pool {
    /// The options as the pool uses them, with defaults for what the URL
    /// didn't say: a connect timeout, so that the TCP connect can't outlast
    /// our own deadline; and TCP keepalive with a user timeout, so that a
    /// holder whose server vanished from the network (no FIN, no RST) is
    /// noticed in about a minute instead of after the kernel's retries
    /// (15 minutes and more), and the background check can't hang on it.
    pub(crate) fn normalize(opts: mysql::Opts) -> mysql::Opts {
        let connect_timeout = opts
            .get_tcp_connect_timeout()
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let keepalive = opts
            .get_tcp_keepalive_time_ms()
            .or(Some(DEFAULT_TCP_KEEPALIVE_MS));
        let user_timeout = opts
            .get_tcp_user_timeout_ms()
            .or(Some(DEFAULT_TCP_USER_TIMEOUT_MS));
        let statement_timeout = opts
            .get_read_timeout()
            .copied()
            .unwrap_or(DEFAULT_STATEMENT_TIMEOUT);
        let write_timeout = opts
            .get_write_timeout()
            .copied()
            .unwrap_or(statement_timeout);
        mysql::OptsBuilder::from_opts(opts)
            .read_timeout(Some(statement_timeout))
            .write_timeout(Some(write_timeout))
            .tcp_connect_timeout(Some(connect_timeout))
            .tcp_keepalive_time_ms(keepalive)
            .tcp_user_timeout_ms(user_timeout)
            .into()
    }

    /// A pool for `opts`, which must have gone through [`Pool::normalize`],
    /// sending lock names by `names`.
    pub(crate) fn new(alias: &str, opts: mysql::Opts, names: NameScheme) -> Self {
        let connect_timeout = opts
            .get_tcp_connect_timeout()
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let statement_timeout = opts
            .get_read_timeout()
            .copied()
            .unwrap_or(DEFAULT_STATEMENT_TIMEOUT);
        let max_size = opts.get_pool_opts().constraints().max().max(1);
        Self {
            alias: alias.to_owned(),
            opts,
            names,
            max_size,
            connect_timeout,
            statement_timeout,
            state: Mutex::new(PoolState {
                generation: crate::fork::generation(),
                idle: Vec::new(),
                open: 0,
                waiting: 0,
            }),
            freed: Condvar::new(),
            monitor: Arc::new(Monitor::new(alias)),
            #[cfg(feature = "async")]
            async_conns: std::sync::OnceLock::new(),
        }
    }

    /// The bound of every statement but `GET_LOCK`.
    #[cfg(feature = "async")]
    pub(crate) fn statement_timeout(&self) -> Duration {
        self.statement_timeout
    }

    /// The bound of opening a connection.
    #[cfg(feature = "async")]
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The most connections the pool opens.
    #[cfg(feature = "async")]
    pub(crate) fn max_size(&self) -> usize {
        self.max_size
    }

    /// The alias the pool was registered under (for messages).
    pub(crate) fn alias(&self) -> &str {
        &self.alias
    }

    pub(crate) fn opts(&self) -> &mysql::Opts {
        &self.opts
    }

    /// How this alias sends lock names.
    pub(crate) fn name_scheme(&self) -> NameScheme {
        self.names
    }

    /// The database named by the connection settings, used as the lock-name
    /// prefix.
    pub(crate) fn database(&self) -> Option<&str> {
        self.opts.get_db_name()
    }

    /// `mysql://user@host:port/db` (or `user@socket/db`) for messages:
    /// never the password.
    pub(crate) fn target(&self) -> String {
        let opts = &self.opts;
        let user = opts.get_user().unwrap_or("");
        let place = match opts.get_socket() {
            Some(socket) => socket.to_owned(),
            None => format!("{}:{}", opts.get_ip_or_hostname(), opts.get_tcp_port()),
        };
        let db = opts.get_db_name().unwrap_or("");
        format!("mysql://{user}@{place}/{db}")
    }

    fn state(&self) -> MutexGuard<'_, PoolState> {
        // A panic elsewhere can't leave the state inconsistent: every
        // critical section is a push, a pop or a counter update.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.after_fork();
        state
    }

    /// Takes an idle connection, or opens one while fewer than `max_size`
    /// exist, or waits for one until `deadline` (`None`: without limit).
    pub(crate) fn checkout(
        self: &Arc<Self>,
        deadline: Option<Instant>,
    ) -> Result<PooledConn, Error> {
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let mut state = self.state();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(self.wrap(conn, true, waited));
            }
            if state.open < self.max_size {
                state.open += 1;
                drop(state);
                // Opening is bounded by the connect timeout and by the
                // caller's deadline plus the answer margin: even a zero
                // timeout may connect, and a server that accepts but never
                // greets costs a bounded wait.
                let limit = deadline.map_or(self.connect_timeout, |deadline| {
                    self.connect_timeout
                        .min(deadline.saturating_duration_since(Instant::now()) + ANSWER_MARGIN)
                });
                return match self.connect(limit) {
                    Ok(conn) => Ok(self.wrap(conn, false, waited)),
                    Err(err) => {
                        self.forget_one();
                        Err(err)
                    }
                };
            }
            let now = Instant::now();
            if deadline.is_some_and(|deadline| now >= deadline) {
                return Err(Error::PoolExhausted {
                    alias: self.alias.clone(),
                    waited: now - started,
                    max_size: self.max_size,
                });
            }
            state.waiting += 1;
            state = match deadline {
                None => self
                    .freed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    self.freed
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
            state.waiting -= 1;
            waited = started.elapsed();
        }
    }

    /// An idle connection, if one is there now: never waits, never opens.
    pub(crate) fn take_idle(self: &Arc<Self>) -> Option<PooledConn> {
        let conn = self.state().idle.pop()?;
        Some(self.wrap(conn, true, Duration::ZERO))
    }

    fn wrap(self: &Arc<Self>, conn: ServerConn, reused: bool, waited: Duration) -> PooledConn {
        PooledConn {
            conn: Some(conn),
            pool: Arc::clone(self),
            reused,
            waited,
        }
    }

    /// Gives a connection that holds no lock back to the pool.
    pub(crate) fn checkin(&self, mut conn: PooledConn) {
        if let Some(conn) = conn.conn.take() {
            if !conn.is_ours() {
                // A parent's, and its counters are gone with the fork.
                conn.abandon();
                return;
            }
            let mut state = self.state();
            state.idle.push(conn);
            if state.waiting > 0 {
                self.freed.notify_one();
            }
        }
    }

    /// A snapshot of the pool's counters.
    pub(crate) fn status(&self) -> PoolStatus {
        let state = self.state();
        PoolStatus {
            open: state.open,
            idle: state.idle.len(),
            max_size: self.max_size,
        }
    }

    /// Closes every idle connection, async ones included; returns how
    /// many.
    pub(crate) fn close_idle(&self) -> usize {
        let idle = std::mem::take(&mut self.state().idle);
        let closed = idle.len();
        drop(idle);
        self.state().open -= closed;
        self.freed.notify_all();
        #[cfg(feature = "async")]
        let closed = closed + crate::async_lock::close_idle(self);
        closed
    }

    fn forget_one(&self) {
        let mut state = self.state();
        state.open -= 1;
        if state.waiting > 0 {
            self.freed.notify_one();
        }
    }

    /// Opens a connection within `connect_timeout`, handshake included. The
    /// driver has no handshake timeout (a server that accepts TCP but never
    /// greets would block forever), so the connect runs on its own thread
    /// and is abandoned when late; if it completes later it is closed.
    fn connect(&self, limit: Duration) -> Result<ServerConn, Error> {
        let started = Instant::now();
        let opts = self.with_connect_attrs();
        let (tx, rx) = mpsc::sync_channel(1);
        let statement_timeout = self.statement_timeout;
        let spawned = thread::Builder::new()
            .name("mysql-lock-connect".into())
            .spawn(move || {
                let _ = tx.send(ServerConn::open(opts, statement_timeout));
            });
        let connect_error = |reason: String, source| Error::Connect {
            alias: self.alias.clone(),
            target: self.target(),
            waited: started.elapsed(),
            reason,
            source,
        };
        if let Err(err) = spawned {
            return Err(connect_error(
                format!("could not start a thread: {err}"),
                None,
            ));
        }
        match rx.recv_timeout(limit) {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(err)) => Err(connect_error(err.to_string(), Some(Box::new(err)))),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(connect_error(
                "the driver panicked while connecting (its message is on stderr); check the \
                 TLS and connection settings"
                    .into(),
                None,
            )),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(connect_error(
                format!(
                    "no complete handshake within {limit:?} (the lock's timeout plus {:?}, \
                     or the connect timeout, {:?}: set tcp_connect_timeout_ms in the URL to \
                     change it)",
                    ANSWER_MARGIN, self.connect_timeout
                ),
                None,
            )),
        }
    }
}

impl Pool {
    /// The options with connection attributes that say which worker this
    /// is, for `performance_schema.session_connect_attrs` (the driver adds
    /// `program_name`, `_pid`, `_os`, ...): the alias, the host, and the
    /// thread that opened the connection (a lock session's connection
    /// serves the thread that took it from the pool, until its last lock is
    /// released). The user's own attributes are kept.
    pub(crate) fn with_connect_attrs(&self) -> mysql::Opts {
        let mut attrs = self.opts.get_connect_attrs().cloned().unwrap_or_default();
        let mut add = |key: &str, value: String| {
            attrs.entry(key.to_owned()).or_insert(value);
        };
        add("mysql_lock_alias", self.alias.clone());
        add("mysql_lock_version", env!("CARGO_PKG_VERSION").to_owned());
        if let Some(host) = hostname() {
            add("mysql_lock_host", host);
        }
        let thread = std::thread::current();
        add(
            "mysql_lock_thread",
            format!("{} ({:?})", thread.name().unwrap_or("unnamed"), thread.id()),
        );
        mysql::OptsBuilder::from_opts(self.opts.clone())
            .connect_attrs(Some(attrs))
            .into()
    }
}

/// This machine's name, for the connection attributes.
fn hostname() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}

impl PoolState {
    /// In a child process after a `fork()`: forgets the parent's idle
    /// connections (without closing them) and its counters.
    fn after_fork(&mut self) {
        let generation = crate::fork::generation();
        if self.generation != generation {
            self.generation = generation;
            for conn in self.idle.drain(..) {
                conn.abandon();
            }
            self.open = 0;
            self.waiting = 0;
        }
    }
}

impl Pool {
    /// Ends a session whose client gave up on it while it may still wait in
    /// `GET_LOCK`, from another connection, so that the server never grants
    /// a lock to a session nobody will release. Bounded by the statement
    /// timeout; on failure the session ends when its wait does.
    pub(crate) fn kill(
        &self,
        target: ConnId,
        instance: &Instance,
        what: Kill,
    ) -> Result<(), Error> {
        // A connection of its own, outside `max_size`: when every pooled
        // connection holds locks, the kill must still happen. Opening it is
        // bounded by the statement timeout too.
        let mut conn = self.connect(self.statement_timeout.min(self.connect_timeout))?;
        conn.kill(target, instance, what).map_err(|err| {
            let statement = match what {
                Kill::Connection => "KILL CONNECTION",
                Kill::Query => "KILL QUERY",
            };
            Error::mysql(statement, err)
        })
    }
}

impl PooledConn {
    pub(crate) fn conn(&mut self) -> &mut ServerConn {
        self.conn
            .as_mut()
            .expect("a PooledConn holds a connection until checkin")
    }

    pub(crate) fn get(&self) -> &ServerConn {
        self.conn
            .as_ref()
            .expect("a PooledConn holds a connection until checkin")
    }

    pub(crate) fn id(&self) -> ConnId {
        self.get().id()
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if conn.is_ours() {
                // Closing it (COM_QUIT) frees whatever it held on the server.
                drop(conn);
                self.pool.forget_one();
            } else {
                conn.abandon();
            }
        }
    }
}
