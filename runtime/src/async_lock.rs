//! Async locks (feature `async`): [`Lock::acquire_async`] and
//! [`AsyncLockGuard`], on tokio and the `mysql_async` driver.
//!
//! One connection per task session (see [`crate::task_session`]): a
//! task's locks of one alias live on one connection of the alias's async
//! pool, which sits beside the sync one and is built from the same
//! options. The pool is ours, not the driver's: the driver's pool sends
//! `COM_RESET_CONNECTION` when a connection comes back (which frees user
//! locks) and pings when one is taken; ours does neither, and a connection
//! goes back only when its session holds no lock. An idle connection is
//! handed out only on the tokio runtime that opened it (its socket is
//! registered with that runtime's I/O driver); others' are closed when met.
//!
//! Cancellation: a session with no other lock waits in `GET_LOCK` in the
//! caller's own future (no task spawned on the hot path); dropped before
//! the answer, it closes the connection and a std thread ends the server
//! session with `KILL CONNECTION` from another connection (the sync
//! driver, so it works while the runtime shuts down). A session holding
//! other locks waits on a task that owns its connection; a caller gone
//! before the answer has the wait ended with `KILL QUERY` (the session and
//! its locks stay), and the task releases a lock granted meanwhile.
//! Statements other than `GET_LOCK` are short: a future dropped in the
//! middle of one leaves the connection untrusted, and its next user
//! closes it (the session's locks are then lost, and reported so).

use crate::held::HeldLock;
use crate::monitor::Watched;
use crate::pool::Pool;
use crate::server::{
    answer_bound, out_of_step, ConnId, Failure, GetLock, Instance, Kill, ANSWER_MARGIN,
};
use crate::session::Verdict;
use crate::task_session::{self, DueCheck, EntryId, Owner, SessionKey, SharedSlot, Slot};
use crate::trace;
use crate::wait::{Deadline, Wait};
use crate::{Error, Holder, Lock};
use mysql_async::prelude::{FromValue, Queryable, StatementLike};
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

/// The async connections of one alias: idle ones, and a permit for each
/// connection in use, at most `pool_max` of them.
pub(crate) struct AsyncPool {
    opts: mysql_async::Opts,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<AsyncConn>>,
    /// What the alias's monitor thread checks: the task sessions of this
    /// pool (it holds a weak reference).
    _watch: Arc<AsyncWatch>,
}

impl AsyncPool {
    fn new(pool: &Pool) -> Result<Self, String> {
        let watch = Arc::new(AsyncWatch {
            pool: std::ptr::from_ref(pool) as usize,
        });
        let weak: std::sync::Weak<AsyncWatch> = Arc::downgrade(&watch);
        pool.monitor.watch(weak);
        Ok(AsyncPool {
            opts: async_opts(pool)?,
            permits: Arc::new(Semaphore::new(pool.max_size())),
            idle: Mutex::new(Vec::new()),
            _watch: watch,
        })
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<AsyncConn>> {
        // Every critical section is a push or a pop.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The background check of a pool's task sessions, run by the alias's
/// monitor thread as for sync sessions: every check interval, each session
/// holding a lock confirms on its own connection (on its runtime, through
/// a task) that it still owns one. A session whose connection is busy is
/// skipped (its statement in flight will tell); one that lost its locks
/// has them all marked lost, and its connection closed. It also keeps the
/// connection from idling into the server's `wait_timeout`.
pub(crate) struct AsyncWatch {
    /// The pool's address, as in [`SessionKey`].
    pool: usize,
}

impl Watched for AsyncWatch {
    fn check_if_due(&self, interval: Duration) -> Option<Instant> {
        let (due, next) = task_session::due_checks(self.pool, interval);
        for check in due {
            let runtime = check.runtime.clone();
            // A runtime that is shutting down drops the task: its sessions
            // end with it.
            drop(runtime.spawn(check_session(check)));
        }
        next
    }

    fn holds(&self, server_name: &str, connection_id: u64) -> Option<String> {
        task_session::holder_in_process(server_name, connection_id)
    }
}

/// One background check of a task session (see [`AsyncWatch`]).
async fn check_session(check: DueCheck) {
    let DueCheck {
        key,
        id,
        slot,
        lock,
        ..
    } = check;
    let Ok(mut slot) = slot.try_lock_owned() else {
        return;
    };
    // Released since it was picked: its answer would say nothing about
    // the session's other locks.
    if !task_session::still_kept(key, id) {
        return;
    }
    let Some(checkout) = usable(&mut slot, key) else {
        return;
    };
    let answer = checkout.conn().is_used_lock(lock.server_name()).await;
    match Verdict::of_check(answer, lock.conn()) {
        Verdict::Owns | Verdict::Unknown(_) => {}
        Verdict::Lost => {
            poison(&mut slot, key, false);
            trace::lost_by_check(&lock);
        }
        Verdict::Unanswered => {
            poison(&mut slot, key, true);
            trace::lost_by_check(&lock);
        }
    }
}

/// The alias's sync options as `mysql_async` options: the same server,
/// account, database, socket and connection attributes.
fn async_opts(pool: &Pool) -> Result<mysql_async::Opts, String> {
    let opts = pool.with_connect_attrs();
    let ssl = opts.get_ssl_opts().map(async_tls).transpose()?;
    let mut attrs = opts.get_connect_attrs().cloned().unwrap_or_default();
    attrs.insert("mysql_lock_thread".into(), "async (tokio)".into());
    let builder = mysql_async::OptsBuilder::default()
        .ip_or_hostname(opts.get_ip_or_hostname().into_owned())
        .tcp_port(opts.get_tcp_port())
        .user(opts.get_user())
        .pass(opts.get_pass())
        .db_name(opts.get_db_name())
        .socket(opts.get_socket())
        .prefer_socket(opts.get_prefer_socket())
        .init(opts.get_init())
        .tcp_nodelay(opts.get_tcp_nodelay())
        .tcp_keepalive(
            opts.get_tcp_keepalive_time_ms()
                .map(|ms| Duration::from_millis(ms.into())),
        )
        .stmt_cache_size(opts.get_stmt_cache_size())
        .max_allowed_packet(opts.get_max_allowed_packet())
        .secure_auth(opts.get_secure_auth())
        .enable_cleartext_plugin(opts.get_enable_cleartext_plugin())
        .ssl_opts(ssl)
        .connect_attributes(attrs);
    Ok(builder.into())
}

/// The alias's TLS options for the async driver: the same root
/// certificate, client identity and checks, with the same TLS backend (the
/// crate's TLS feature turns on the driver's).
#[cfg(any(
    feature = "rustls-tls-ring",
    feature = "rustls-tls",
    feature = "native-tls"
))]
fn async_tls(ssl: &mysql::SslOpts) -> Result<mysql_async::SslOpts, String> {
    let mut tls = mysql_async::SslOpts::default()
        .with_danger_skip_domain_validation(ssl.skip_domain_validation())
        .with_danger_accept_invalid_certs(ssl.accept_invalid_certs());
    if let Some(root) = ssl.root_cert_path() {
        tls = tls.with_root_certs(vec![root.to_path_buf().into()]);
    }
    if let Some(identity) = ssl.client_identity() {
        #[cfg(any(feature = "rustls-tls-ring", feature = "rustls-tls"))]
        let identity = mysql_async::ClientIdentity::new(
            identity.cert_chain_path().to_path_buf().into(),
            identity.priv_key_path().to_path_buf().into(),
        );
        #[cfg(all(
            feature = "native-tls",
            not(any(feature = "rustls-tls-ring", feature = "rustls-tls"))
        ))]
        let identity = {
            let async_identity =
                mysql_async::ClientIdentity::new(identity.pkcs12_path().to_path_buf().into());
            match identity.password() {
                Some(password) => async_identity.with_password(password.to_owned()),
                None => async_identity,
            }
        };
        tls = tls.with_client_identity(Some(identity));
    }
    Ok(tls)
}

/// Without a TLS feature, the settings can't be honoured.
#[cfg(not(any(
    feature = "rustls-tls-ring",
    feature = "rustls-tls",
    feature = "native-tls"
)))]
fn async_tls(_: &mysql::SslOpts) -> Result<mysql_async::SslOpts, String> {
    Err(
        "the settings ask for TLS, and mysql-lock was built without a TLS backend: \
         enable one of its features rustls-tls-ring, native-tls or rustls-tls"
            .into(),
    )
}

/// The alias's async pool, made on first use.
fn async_pool(pool: &Pool) -> Result<&AsyncPool, Error> {
    pool.async_conns
        .get_or_init(|| AsyncPool::new(pool).map(std::panic::AssertUnwindSafe))
        .as_ref()
        .map(|conns| &**conns)
        .map_err(|reason| Error::InvalidConfig {
            alias: pool.alias().to_owned(),
            reason: reason.clone(),
        })
}

/// Closes the idle async connections of `pool` (none hold a lock);
/// returns how many.
pub(crate) fn close_idle(pool: &Pool) -> usize {
    let Some(Ok(conns)) = pool.async_conns.get() else {
        return 0;
    };
    let idle = std::mem::take(&mut *conns.idle());
    idle.len()
}

/// The timer of [`AsyncConn`] bounding lock waits (`GET_LOCK`).
const LOCK_WAIT: usize = 0;
/// The timer of [`AsyncConn`] bounding every other statement.
const STATEMENT: usize = 1;

/// An async server connection with its lock statements prepared once.
pub(crate) struct AsyncConn {
    conn: mysql_async::Conn,
    id: ConnId,
    instance: Arc<Instance>,
    mariadb: bool,
    get_lock: mysql_async::Statement,
    release_lock: mysql_async::Statement,
    is_used_lock: mysql_async::Statement,
    statement_timeout: Duration,
    /// The runtime whose I/O driver serves its socket: used on another
    /// runtime, it would wait for readiness that only that one delivers
    /// (or fail once that one is gone).
    runtime: tokio::runtime::Id,
    /// False while a statement is in flight (a future dropped then leaves
    /// the connection in the middle of an answer) and after a failure of
    /// the connection: it is then closed, never used again.
    trusted: bool,
    /// The bound of the statement in flight: timers kept with the
    /// connection, moved to each statement's deadline. Moving a registered
    /// timer later is an atomic store in tokio, moving it sooner a new
    /// registration (a new timer per statement cost about 3 µs of a 55 µs
    /// cycle, measured). So lock waits have one timer and other statements
    /// another: each kind's deadlines mostly move later.
    alarms: [Pin<Box<tokio::time::Sleep>>; 2],
}

impl AsyncConn {
    /// Connects and prepares the statements (a few round trips, once per
    /// connection).
    async fn open(opts: mysql_async::Opts, statement_timeout: Duration) -> mysql::Result<Self> {
        let mut conn = mysql_async::Conn::new(opts).await.map_err(to_sync)?;
        let (version, server_id, host, port): (String, u64, String, u64) = conn
            .query_first("SELECT VERSION(), CONNECTION_ID(), @@hostname, @@port")
            .await
            .map_err(to_sync)?
            .ok_or_else(|| crate::server::no_row("SELECT VERSION()"))?;
        let (_, uptime): (String, i64) = conn
            .query_first("SHOW GLOBAL STATUS LIKE 'Uptime'")
            .await
            .map_err(to_sync)?
            .ok_or_else(|| crate::server::no_row("SHOW GLOBAL STATUS"))?;
        let get_lock = conn.prep("SELECT GET_LOCK(?, ?)").await.map_err(to_sync)?;
        let release_lock = conn.prep("SELECT RELEASE_LOCK(?)").await.map_err(to_sync)?;
        let is_used_lock = conn.prep("SELECT IS_USED_LOCK(?)").await.map_err(to_sync)?;
        Ok(AsyncConn {
            conn,
            id: ConnId::fresh(server_id),
            instance: Arc::new(Instance::new(&host, port, uptime)),
            mariadb: version.to_ascii_lowercase().contains("mariadb"),
            get_lock,
            release_lock,
            is_used_lock,
            statement_timeout,
            runtime: tokio::runtime::Handle::current().id(),
            trusted: true,
            alarms: [
                Box::pin(tokio::time::sleep(statement_timeout)),
                Box::pin(tokio::time::sleep(statement_timeout)),
            ],
        })
    }

    /// One statement whose answer is one row of one column, bounded by
    /// `bound` (`None`: without limit) on timer `alarm` ([`LOCK_WAIT`] or
    /// [`STATEMENT`]). A statement that gets no answer in time is an I/O
    /// error of kind `TimedOut` ([`Failure::Unanswered`]).
    async fn first<T, S, P>(
        &mut self,
        statement: S,
        params: P,
        bound: Option<Duration>,
        alarm: usize,
    ) -> mysql::Result<T>
    where
        T: FromValue + Send,
        S: StatementLike,
        P: Into<mysql_async::Params> + Send,
    {
        self.trusted = false;
        let AsyncConn { conn, alarms, .. } = self;
        let alarm = &mut alarms[alarm];
        let query = conn.exec_first::<mysql_async::Row, _, _>(statement, params);
        let answer = match bound {
            Some(bound) => {
                alarm.as_mut().reset(tokio::time::Instant::now() + bound);
                let mut query = std::pin::pin!(query);
                let answered = std::future::poll_fn(|cx| {
                    if let Poll::Ready(answer) = query.as_mut().poll(cx) {
                        return Poll::Ready(Some(answer));
                    }
                    alarm.as_mut().poll(cx).map(|()| None)
                })
                .await;
                match answered {
                    Some(answer) => answer,
                    None => return Err(unanswered(bound)),
                }
            }
            None => query.await,
        };
        let result = match answer {
            Ok(Some(row)) => match mysql_async::from_row_opt::<(T,)>(row) {
                Ok((value,)) => Ok(value),
                Err(err) => Err(out_of_step(format!("an unexpected row {:?}", err.0))),
            },
            Ok(None) => Err(out_of_step("no row".into())),
            Err(err) => Err(to_sync(err)),
        };
        self.trusted = !matches!(
            &result,
            Err(err) if matches!(Failure::of(err), Failure::Connection | Failure::Unanswered)
        );
        result
    }

    /// `GET_LOCK(name, wait)`, answered within the wait plus
    /// [`ANSWER_MARGIN`] or given up (see [`Failure::Unanswered`]).
    async fn get_lock(&mut self, name: &str, wait: Wait) -> mysql::Result<GetLock> {
        let secs = if self.mariadb {
            wait.server_secs()
        } else {
            // MySQL waits whole seconds: round up, never give up early.
            wait.server_secs().ceil()
        };
        let bound = match wait {
            Wait::Within(_) => Some(answer_bound(secs)),
            Wait::Unlimited => None,
        };
        let statement = self.get_lock.clone();
        match self
            .first::<Option<i64>, _, _>(&statement, (name, secs), bound, LOCK_WAIT)
            .await?
        {
            Some(1) => Ok(GetLock::Acquired),
            Some(0) => Ok(GetLock::TimedOut),
            None => Ok(GetLock::Null),
            Some(other) => Err(out_of_step(format!("GET_LOCK answered {other}"))),
        }
    }

    /// `RELEASE_LOCK(name)`: `Some(1)` released, `Some(0)` held by another
    /// session, `None` held by nobody.
    async fn release_lock(&mut self, name: &str) -> mysql::Result<Option<i64>> {
        let statement = self.release_lock.clone();
        let bound = Some(self.statement_timeout);
        self.first(&statement, (name,), bound, STATEMENT).await
    }

    /// `IS_USED_LOCK(name)`: the holder's connection id, or `None`.
    async fn is_used_lock(&mut self, name: &str) -> mysql::Result<Option<u64>> {
        let statement = self.is_used_lock.clone();
        let bound = Some(self.statement_timeout);
        self.first(&statement, (name,), bound, STATEMENT).await
    }

    /// Who holds `name`, for [`Error::Timeout`]: one round trip; `None`
    /// when nobody does or the question failed.
    async fn describe_holder(&mut self, name: &str) -> Option<Box<Holder>> {
        let bound = Some(self.statement_timeout);
        let id: u64 = self.is_used_lock(name).await.ok()??;
        let who: mysql::Result<Option<String>> = self
            .first(
                "SELECT CONCAT(USER, '@', HOST) FROM information_schema.PROCESSLIST WHERE ID = ?",
                (id,),
                bound,
                STATEMENT,
            )
            .await;
        let (user, host) = match who.ok().flatten() {
            Some(who) => match who.rsplit_once('@') {
                Some((user, host)) => (Some(user.to_owned()), Some(host.to_owned())),
                None => (None, None),
            },
            None => (None, None),
        };
        Some(Box::new(Holder {
            connection_id: id,
            user,
            host,
            thread: None,
        }))
    }
}

/// The driver's error as the sync driver's, so that [`Failure::of`] and
/// the session's one rule judge both alike. Server errors keep their code;
/// an I/O error stays one; anything else of the driver (a protocol or
/// connection state error) means the connection can't be trusted.
fn to_sync(err: mysql_async::Error) -> mysql::Error {
    match err {
        mysql_async::Error::Server(err) => mysql::Error::MySqlError(mysql::MySqlError {
            state: err.state,
            message: err.message,
            code: err.code,
        }),
        mysql_async::Error::Io(mysql_async::IoError::Io(io)) => mysql::Error::IoError(io),
        other => mysql::Error::IoError(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            other.to_string(),
        )),
    }
}

/// The error of a statement that got no answer within `bound`.
fn unanswered(bound: Duration) -> mysql::Error {
    mysql::Error::IoError(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("no answer from the server within {bound:?}"),
    ))
}

/// A server session to end from another connection.
#[derive(Clone)]
pub(crate) struct Target {
    pool: Arc<Pool>,
    id: ConnId,
    instance: Arc<Instance>,
}

impl Target {
    /// `KILL CONNECTION` (or `KILL QUERY`) of the session, on a std thread
    /// with the sync driver: it must happen even when it is asked for
    /// while the tokio runtime shuts down. Bounded by the statement
    /// timeout; when it fails, the session ends when its wait does.
    /// `switch`, when given, learns that the kill is over.
    fn kill_in_background(self, what: Kill, switch: Option<Arc<KillSwitch>>) {
        let spawned = std::thread::Builder::new()
            .name("mysql-lock-kill".into())
            .spawn({
                let switch = switch.clone();
                move || {
                    let _ = self.pool.kill(self.id, &self.instance, what);
                    if let Some(switch) = switch {
                        switch.killed();
                    }
                }
            });
        if spawned.is_err() {
            if let Some(switch) = switch {
                switch.killed();
            }
        }
    }
}

/// The `KILL QUERY` of a wait whose caller went away, and the task that
/// runs the wait: once the wait has its answer, no other statement may
/// start on the connection before the kill is over (it would end that
/// statement instead).
pub(crate) struct KillSwitch {
    state: Mutex<KillState>,
    over: tokio::sync::Notify,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KillState {
    Waiting,
    Answered,
    Killing,
    Killed,
}

impl KillSwitch {
    fn new() -> Arc<Self> {
        Arc::new(KillSwitch {
            state: Mutex::new(KillState::Waiting),
            over: tokio::sync::Notify::new(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, KillState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The caller went away: true when the kill is to be sent (the wait
    /// has no answer yet).
    fn kill(&self) -> bool {
        let mut state = self.state();
        let kill = *state == KillState::Waiting;
        if kill {
            *state = KillState::Killing;
        }
        kill
    }

    fn killed(&self) {
        *self.state() = KillState::Killed;
        self.over.notify_one();
    }

    /// The wait has its answer: returns once no kill is on its way.
    async fn answered(&self) {
        loop {
            {
                let mut state = self.state();
                match *state {
                    KillState::Waiting => {
                        *state = KillState::Answered;
                        return;
                    }
                    KillState::Answered | KillState::Killed => return,
                    KillState::Killing => {}
                }
            }
            self.over.notified().await;
        }
    }
}

/// An async connection taken from the pool, with its permit. Dropping it
/// closes the connection (the server then frees whatever it held);
/// [`Checkout::checkin`] is the only way back into the pool.
pub(crate) struct Checkout {
    conn: Option<AsyncConn>,
    pool: Arc<Pool>,
    /// Released after the connection is back (fields drop in order).
    _permit: OwnedSemaphorePermit,
    /// Taken from the idle list: it may have died while idle.
    reused: bool,
    /// How long it waited for a permit.
    waited: Duration,
}

impl Checkout {
    fn conn(&mut self) -> &mut AsyncConn {
        self.conn
            .as_mut()
            .expect("a Checkout holds a connection until checkin")
    }

    /// What a KILL of its server session needs.
    fn target(&self) -> Target {
        let conn = self
            .conn
            .as_ref()
            .expect("a Checkout holds a connection until checkin");
        Target {
            pool: Arc::clone(&self.pool),
            id: conn.id,
            instance: Arc::clone(&conn.instance),
        }
    }

    /// Gives back a connection that holds no lock; one in the middle of a
    /// statement or after a connection failure is closed instead.
    pub(crate) fn checkin(mut self) {
        if let Some(conn) = self.conn.take().filter(|conn| conn.trusted) {
            if let Ok(pool) = async_pool(&self.pool) {
                pool.idle().push(conn);
            }
        }
    }
}

/// An idle connection of the current runtime. Those of other runtimes
/// are closed: their runtime is most likely gone (one per test, say), and
/// one that still runs may not be driven while this one waits on them.
fn take_idle(conns: &AsyncPool) -> Option<AsyncConn> {
    let runtime = tokio::runtime::Handle::current().id();
    let mut foreign = Vec::new();
    let found = {
        let mut idle = conns.idle();
        loop {
            match idle.pop() {
                Some(conn) if conn.runtime == runtime => break Some(conn),
                Some(conn) => foreign.push(conn),
                None => break None,
            }
        }
    };
    // Closed outside the mutex; they hold no lock.
    drop(foreign);
    found
}

/// Takes an idle connection, or opens one, while fewer than `pool_max` are
/// in use; else waits for one until `deadline`.
async fn checkout(pool: &Arc<Pool>, deadline: Deadline) -> Result<Checkout, Error> {
    let conns = async_pool(pool)?;
    let started = Instant::now();
    let permits = Arc::clone(&conns.permits);
    // A free permit is taken at once, without making a timer.
    let permit = match Arc::clone(&permits).try_acquire_owned() {
        Ok(permit) => Some(permit),
        Err(_) => match deadline.instant() {
            None => permits.acquire_owned().await.ok(),
            // An expired deadline still takes a free permit: the future is
            // polled once before the timer.
            Some(at) => tokio::time::timeout_at(at.into(), permits.acquire_owned())
                .await
                .ok()
                .and_then(Result::ok),
        },
    };
    let Some(permit) = permit else {
        return Err(Error::PoolExhausted {
            alias: pool.alias().to_owned(),
            waited: started.elapsed(),
            max_size: pool.max_size(),
        });
    };
    let waited = started.elapsed();
    let idle = take_idle(conns);
    if let Some(conn) = idle {
        return Ok(Checkout {
            conn: Some(conn),
            pool: Arc::clone(pool),
            _permit: permit,
            reused: true,
            waited,
        });
    }
    // Bounded by the connect timeout and by the deadline plus the answer
    // margin, as the sync pool's connects.
    let connect_timeout = pool.connect_timeout();
    let limit = deadline.instant().map_or(connect_timeout, |deadline| {
        connect_timeout.min(deadline.saturating_duration_since(Instant::now()) + ANSWER_MARGIN)
    });
    let connect_error = |reason: String, source| Error::Connect {
        alias: pool.alias().to_owned(),
        target: pool.target(),
        waited: started.elapsed(),
        reason,
        source,
    };
    match tokio::time::timeout(limit, AsyncConn::open(conns.opts.clone(), pool.statement_timeout()))
        .await
    {
        Ok(Ok(conn)) => Ok(Checkout {
            conn: Some(conn),
            pool: Arc::clone(pool),
            _permit: permit,
            reused: false,
            waited,
        }),
        Ok(Err(err)) => Err(connect_error(err.to_string(), Some(Box::new(err)))),
        Err(_) => Err(connect_error(
            format!(
                "no complete handshake within {limit:?} (the lock's timeout plus {ANSWER_MARGIN:?}, \
                 or the connect timeout, {connect_timeout:?}: set tcp_connect_timeout_ms in the \
                 URL to change it)"
            ),
            None,
        )),
    }
}

/// Leaves the task session on every way out of an acquire but success,
/// a dropped future included; gives the connection back when the session
/// then holds nothing.
struct Entered {
    key: SessionKey,
    id: EntryId,
    slot: SharedSlot,
    armed: bool,
}

impl Drop for Entered {
    fn drop(&mut self) {
        if self.armed && task_session::leave(self.key, self.id) {
            // Locked only when a wait task of this session still runs (a
            // cancelled nested wait): the connection then closes with the
            // slot's last reference.
            if let Ok(mut slot) = self.slot.try_lock() {
                if let Some(checkout) = slot.take() {
                    checkout.checkin();
                }
            }
        }
    }
}

/// A wait in `GET_LOCK` run by the caller's own future. Dropped before
/// the answer (the caller went away), it closes the connection and, for a
/// wait that may last, has its server session killed: that frees a lock
/// granted meanwhile and ends the wait. Used only when the session holds
/// no other lock, which closing would lose.
struct InlineWait<'a> {
    slot: &'a mut Slot,
    kill: bool,
    armed: bool,
}

impl Drop for InlineWait<'_> {
    fn drop(&mut self) {
        if self.armed {
            if let Some(checkout) = self.slot.take() {
                if self.kill {
                    checkout.target().kill_in_background(Kill::Connection, None);
                }
            }
        }
    }
}

/// What the wait task of [`wait_on_task`] sends its caller.
type Answer = (OwnedMutexGuard<Slot>, mysql::Result<GetLock>);

/// Ends the wait of [`wait_on_task`] with `KILL QUERY` when its caller
/// goes away before the answer; releases a lock whose grant was sent but
/// never read (the caller went away between the send and its next poll).
struct KillUnlessAnswered {
    target: Option<Target>,
    switch: Arc<KillSwitch>,
    answer: Option<oneshot::Receiver<Answer>>,
    key: SessionKey,
    name: Arc<str>,
}

impl Drop for KillUnlessAnswered {
    fn drop(&mut self) {
        let Some(target) = self.target.take() else {
            return;
        };
        if self.switch.kill() {
            target.kill_in_background(Kill::Query, Some(Arc::clone(&self.switch)));
            return;
        }
        // Answered. Not sent yet: the task's send fails when the receiver
        // is gone, and the task releases a grant itself.
        let Some(Ok((slot, Ok(GetLock::Acquired)))) =
            self.answer.take().map(|mut answer| answer.try_recv())
        else {
            return;
        };
        release_orphan(slot, self.key, Arc::clone(&self.name));
    }
}

/// Releases `name`, granted on the session's connection to a caller that
/// went away: on a task of the current runtime, or, without one (or when
/// the release fails), by closing the connection (the session's other
/// locks are then lost, and reported so).
fn release_orphan(mut slot: OwnedMutexGuard<Slot>, key: SessionKey, name: Arc<str>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        poison(&mut slot, key, true);
        return;
    };
    drop(runtime.spawn(async move {
        let released = match usable(&mut slot, key) {
            Some(checkout) => checkout.conn().release_lock(&name).await,
            None => return,
        };
        if !matches!(released, Ok(Some(1))) {
            poison(&mut slot, key, true);
        }
    }));
}

/// Closes the session's connection after a failure or a statement cut in
/// the middle (killing its server session when `kill`: it may still be
/// waiting or about to be granted a lock); every lock the session held is
/// lost.
fn poison(slot: &mut Slot, key: SessionKey, kill: bool) {
    task_session::lose_all(key);
    if let Some(checkout) = slot.take() {
        if kill {
            checkout.target().kill_in_background(Kill::Connection, None);
        }
    }
}

/// The session's connection when it can be used: one left in the middle
/// of a statement (a future dropped then) is closed, and the session's
/// locks with it.
fn usable(slot: &mut Slot, key: SessionKey) -> Option<&mut Checkout> {
    if slot
        .as_mut()
        .is_some_and(|checkout| !checkout.conn().trusted)
    {
        poison(slot, key, false);
    }
    slot.as_mut()
}

/// Runs `GET_LOCK` on a task of its own that owns the session's
/// connection, and waits for its answer: for a session that holds other
/// locks, whose connection must outlive a cancelled wait. If the caller
/// goes away first, `KILL QUERY` ends the wait (the session and its other
/// locks stay), and a lock granted just then is released.
async fn wait_on_task(
    mut conn: OwnedMutexGuard<Slot>,
    key: SessionKey,
    name: Arc<str>,
    wait: Wait,
) -> Result<Answer, Error> {
    let target = conn
        .as_ref()
        .expect("the caller checked the session's connection")
        .target();
    let switch = KillSwitch::new();
    let (tx, rx) = oneshot::channel::<Answer>();
    let task_switch = Arc::clone(&switch);
    let task_name = Arc::clone(&name);
    tokio::spawn(async move {
        let checkout = conn
            .as_mut()
            .expect("the caller checked the session's connection");
        let answer = checkout.conn().get_lock(&task_name, wait).await;
        // No statement may start before a KILL QUERY on its way is over.
        task_switch.answered().await;
        if matches!(&answer, Err(err) if Failure::of(err) == Failure::Unanswered) {
            // Out of step, and the server may grant the lock later to a
            // session nobody will release: end it.
            poison(&mut conn, key, true);
        }
        if let Err((mut conn, answer)) = tx.send((conn, answer)) {
            // The caller is gone: nobody else will release a lock granted
            // now. The connection stays the session's (it holds the
            // session's other locks) unless the release fails.
            if matches!(answer, Ok(GetLock::Acquired)) {
                let released = match conn.as_mut() {
                    Some(checkout) => checkout.conn().release_lock(&task_name).await,
                    None => Ok(None),
                };
                if !matches!(released, Ok(Some(1))) {
                    poison(&mut conn, key, true);
                }
            }
        }
    });
    let mut on_drop = KillUnlessAnswered {
        target: Some(target),
        switch,
        answer: Some(rx),
        key,
        name,
    };
    let answer = on_drop
        .answer
        .as_mut()
        .expect("taken only when dropped")
        .await;
    match answer {
        Ok(answer) => {
            on_drop.target = None;
            Ok(answer)
        }
        // The task was dropped without an answer (the runtime is shutting
        // down) or panicked: `on_drop` ends the wait.
        Err(_) => Err(Error::mysql(
            "GET_LOCK",
            mysql::Error::IoError(std::io::Error::other(
                "the task waiting for GET_LOCK's answer ended without it (the tokio runtime \
                 is shutting down?)",
            )),
        )),
    }
}

/// Who in this process holds `server_name` on connection `id`: a task
/// (async) or a thread (sync), for [`Error::Timeout`]'s holder.
fn holder_in_process(pool: &Pool, server_name: &str, id: u64) -> Option<String> {
    task_session::holder_in_process(server_name, id).or_else(|| {
        pool.monitor
            .sessions()
            .iter()
            .find_map(|session| session.holds(server_name, id))
    })
}

impl Lock {
    /// Takes the lock without blocking the thread, waiting up to the
    /// [timeout](Lock::timeout) (feature `async`, on a tokio runtime). The
    /// lock is held until the guard is released or dropped.
    ///
    /// The lock belongs to the current task (see the
    /// [crate docs](crate#async)): the task's locks of one alias share one
    /// connection, taking a lock the task holds is [`Error::Reentrant`] at
    /// once, and another task, even on the same thread, waits.
    ///
    /// Cancel-safe: dropping the future at any point (a `select!`,
    /// `tokio::time::timeout`, an aborted task, runtime shutdown) leaves no
    /// lock held and no server session waiting; see the
    /// [crate docs](crate#async).
    ///
    /// # Errors
    ///
    /// - [`Error::Timeout`]: another session held it for the whole timeout
    ///   (or the task's own connection stayed busy with another of its
    ///   statements all that time, in a `join!` of lock calls: its
    ///   `connection_wait` is then the whole timeout).
    /// - [`Error::Interrupted`]: the wait was killed on the server.
    /// - [`Error::Unanswered`]: the server did not answer within the
    ///   timeout plus one second.
    /// - [`Error::UnknownAlias`], [`Error::InvalidName`],
    ///   [`Error::InvalidConfig`] (TLS asked for in a build without a TLS
    ///   feature),
    ///   [`Error::PoolExhausted`], [`Error::Connect`],
    ///   [`Error::Disconnected`], [`Error::Mysql`].
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (with timers enabled), as tokio's own
    /// timers do.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), mysql_lock::Error> {
    /// use mysql_lock::Lock;
    /// use std::time::Duration;
    ///
    /// mysql_lock::register("default", "mysql://root@127.0.0.1:3306/test")?;
    /// let lock = Lock::new("nightly-report").timeout(Duration::from_secs(2));
    /// let guard = lock.acquire_async().await?;
    /// // ... only one holder at a time runs here ...
    /// guard.release().await?;
    /// # Ok(())
    /// # }
    /// ```
    #[must_use = "the lock is released as soon as the guard is dropped"]
    pub async fn acquire_async(&self) -> Result<AsyncLockGuard, Error> {
        self.acquire_async_within(self.configured_timeout(), true)
            .await
    }

    /// Makes one attempt without waiting: `Ok(None)` when another session
    /// holds the lock. The async form of
    /// [`try_acquire`](Lock::try_acquire).
    ///
    /// # Errors
    ///
    /// As [`acquire_async`](Lock::acquire_async), but never
    /// [`Error::Timeout`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), mysql_lock::Error> {
    /// match mysql_lock::Lock::new("job").try_acquire_async().await? {
    ///     Some(guard) => guard.release().await?,
    ///     None => println!("another worker is running it; skipping"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[must_use = "the lock is released as soon as the guard is dropped"]
    pub async fn try_acquire_async(&self) -> Result<Option<AsyncLockGuard>, Error> {
        self.acquire_unless_busy_async(Duration::ZERO).await
    }

    /// Waits up to `timeout`; `Ok(None)` when another holder keeps the
    /// lock all that time (without asking who).
    pub(crate) async fn acquire_unless_busy_async(
        &self,
        timeout: Duration,
    ) -> Result<Option<AsyncLockGuard>, Error> {
        match self.acquire_async_within(timeout, false).await {
            Ok(guard) => Ok(Some(guard)),
            Err(Error::Timeout { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// [`take_async`](Lock::take_async) inside the acquire's span, and
    /// its outcome told to `tracing` (feature `tracing`), as sync locks do.
    async fn acquire_async_within(
        &self,
        timeout: Duration,
        describe_holder: bool,
    ) -> Result<AsyncLockGuard, Error> {
        let alias = self.alias();
        let server_name = self.server_name()?;
        let (wait, started) = trace::waiting_async(
            server_name,
            alias,
            self.take_async(timeout, describe_holder),
        );
        let result = wait.await;
        match &result {
            Ok(guard) => trace::acquired(started, &guard.held),
            Err(error) => trace::failed(started, server_name, alias, error),
        }
        result
    }

    async fn take_async(
        &self,
        timeout: Duration,
        describe_holder: bool,
    ) -> Result<AsyncLockGuard, Error> {
        let (pool, server_name) = self.resolve_shared()?;
        let key = SessionKey::new(Owner::current(), &pool);
        // Re-entrance is refused here, before any query.
        let (id, slot) = task_session::enter(key, &server_name, timeout)?;
        let mut entered = Entered {
            key,
            id,
            slot: Arc::clone(&slot),
            armed: true,
        };
        let started = Instant::now();
        let deadline = Wait::from_timeout(timeout).deadline_from(started);
        let name = server_name.to_string();
        // The task's connection, unless another statement of the task is
        // in flight on it (a `join!` of lock calls): that wait counts
        // against the timeout too. Declared after `entered`, so dropped
        // before it on every way out.
        let mut conn = match Arc::clone(&slot).try_lock_owned() {
            Ok(conn) => conn,
            Err(_) => {
                let busy = Arc::clone(&slot).lock_owned();
                match deadline.instant() {
                    None => busy.await,
                    Some(at) => match tokio::time::timeout_at(at.into(), busy).await {
                        Ok(conn) => conn,
                        Err(_) => {
                            return Err(Error::Timeout {
                                name,
                                timeout,
                                connection_wait: started.elapsed(),
                                holder: None,
                            })
                        }
                    },
                }
            }
        };
        loop {
            let mut connection_wait = Duration::ZERO;
            let mut fresh_from_idle = false;
            if usable(&mut conn, key).is_none() {
                let checkout = checkout(&pool, deadline).await?;
                connection_wait = checkout.waited;
                fresh_from_idle = checkout.reused;
                *conn = Some(checkout);
            }
            let others = task_session::holds_others(key, id);
            let wait = deadline.remaining();
            let answer = if others {
                let (back, answer) =
                    wait_on_task(conn, key, Arc::clone(&server_name), wait).await?;
                conn = back;
                answer
            } else {
                let mut inline = InlineWait {
                    slot: &mut conn,
                    kill: !matches!(wait, Wait::Within(secs) if secs.is_zero()),
                    armed: true,
                };
                let checkout = inline
                    .slot
                    .as_mut()
                    .expect("a connection was put in the slot above");
                let answer = checkout.conn().get_lock(&server_name, wait).await;
                inline.armed = false;
                answer
            };
            let error = match answer {
                Ok(GetLock::Acquired) => {
                    let checkout = conn.as_mut().expect("GET_LOCK answered on it");
                    let (lock_name, alias) = self.name_and_alias();
                    let held = HeldLock::new(
                        lock_name,
                        Arc::clone(&server_name),
                        alias,
                        checkout.conn().id,
                        self.configured_min_hold(),
                    );
                    task_session::granted(key, id, &held);
                    entered.armed = false;
                    return Ok(AsyncLockGuard {
                        session: Some(SessionRef { key, id, slot }),
                        held,
                    });
                }
                Ok(GetLock::TimedOut) => {
                    let mut holder = match conn.as_mut() {
                        // On another connection when the session holds
                        // other locks: cut in the middle, the questions
                        // would leave the session's connection out of step.
                        Some(_) if describe_holder && others => {
                            describe_elsewhere(&pool, &server_name).await
                        }
                        Some(checkout) if describe_holder => {
                            checkout.conn().describe_holder(&server_name).await
                        }
                        _ => None,
                    };
                    if let Some(holder) = holder.as_mut() {
                        holder.thread =
                            holder_in_process(&pool, &server_name, holder.connection_id);
                    }
                    Error::Timeout {
                        name,
                        timeout,
                        connection_wait,
                        holder,
                    }
                }
                Ok(GetLock::Null) => Error::Interrupted { name },
                Err(err) => match Failure::of(&err) {
                    Failure::Unanswered => {
                        // Out of step, and maybe still waiting on the
                        // server: ended (by the wait task, for a nested one).
                        poison(&mut conn, key, true);
                        Error::Unanswered {
                            name,
                            during: "GET_LOCK",
                            waited: started.elapsed(),
                        }
                    }
                    Failure::Connection => {
                        poison(&mut conn, key, false);
                        // An idle connection most likely died idle (a server
                        // restart, wait_timeout): try another.
                        if fresh_from_idle && !others {
                            continue;
                        }
                        Error::Disconnected {
                            name,
                            source: Box::new(err),
                        }
                    }
                    failure => failure.get_lock_error(name, err),
                },
            };
            return Err(error);
        }
    }

    /// Whether any session holds the lock now (`IS_USED_LOCK` is not NULL),
    /// without blocking the thread. As [`is_held`](Lock::is_held): for
    /// monitoring, never to decide whether to run exclusive work.
    ///
    /// # Errors
    ///
    /// As [`holding_connection_id_async`](Lock::holding_connection_id_async).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), mysql_lock::Error> {
    /// if mysql_lock::Lock::new("job").is_held_async().await? {
    ///     println!("a worker is running the job");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn is_held_async(&self) -> Result<bool, Error> {
        Ok(self.holding_connection_id_async().await?.is_some())
    }

    /// The `CONNECTION_ID()` of the session holding the lock, or `None`
    /// when it is free, without blocking the thread: the async form of
    /// [`holding_connection_id`](Lock::holding_connection_id). Compare
    /// with the guard's [`connection_id`](HeldLock::connection_id).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAlias`], [`Error::InvalidName`],
    /// [`Error::InvalidConfig`], [`Error::PoolExhausted`],
    /// [`Error::Connect`], [`Error::Unanswered`], [`Error::Mysql`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), mysql_lock::Error> {
    /// let lock = mysql_lock::Lock::new("job");
    /// let guard = lock.acquire_async().await?;
    /// assert_eq!(lock.holding_connection_id_async().await?, Some(guard.connection_id()));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn holding_connection_id_async(&self) -> Result<Option<u64>, Error> {
        let (pool, server_name) = self.resolve_shared()?;
        let started = Instant::now();
        let deadline = Wait::from_timeout(self.configured_timeout()).deadline_from(started);
        loop {
            let mut checkout = checkout(&pool, deadline).await?;
            let answer = checkout.conn().is_used_lock(&server_name).await;
            match answer {
                Ok(holder) => {
                    checkout.checkin();
                    return Ok(holder);
                }
                Err(err) => {
                    let failure = Failure::of(&err);
                    let reused = checkout.reused;
                    // Closed unless still trusted.
                    checkout.checkin();
                    match failure {
                        Failure::Connection if reused => continue,
                        Failure::Unanswered => {
                            return Err(Error::Unanswered {
                                name: server_name.to_string(),
                                during: "IS_USED_LOCK",
                                waited: started.elapsed(),
                            })
                        }
                        _ => return Err(Error::mysql("IS_USED_LOCK", err)),
                    }
                }
            }
        }
    }
}

/// Proof that an async lock is held: what
/// [`Lock::acquire_async`] returns. Call [`release`](AsyncLockGuard::release)
/// to learn whether the release went well; dropping it releases the lock
/// too (on a task of the current tokio runtime, or, without one, by
/// closing the connection, which makes the server free the lock). It
/// dereferences to the [`HeldLock`] it holds: [`name`](HeldLock::name),
/// [`connection_id`](HeldLock::connection_id),
/// [`is_lost`](HeldLock::is_lost), [`held_for`](HeldLock::held_for).
///
/// The lock lives on its task's session connection (see the
/// [crate docs](crate#async)). As for sync locks, the background check
/// confirms every [check interval](crate::check_interval) that the session
/// still owns its locks (on its own connection, which also keeps it from
/// idling into the server's `wait_timeout`), and marks them lost when it
/// doesn't; [`verify`](AsyncLockGuard::verify) asks at once, before an
/// action that must not run twice. [`current`](crate::current) does not
/// see async locks. The connection belongs to the tokio runtime that took
/// the lock: release the guard on that runtime, while it runs (or after it
/// is gone, which closes the connection).
///
/// ```no_run
/// # async fn run() -> Result<(), mysql_lock::Error> {
/// let mut guard = mysql_lock::Lock::new("payout").acquire_async().await?;
/// assert_eq!(guard.name(), "payout");
/// // ... prepare ...
/// guard.verify().await?; // still ours: safe to commit the payout
/// guard.release().await?;
/// # Ok(())
/// # }
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct AsyncLockGuard {
    /// `None` once released.
    session: Option<SessionRef>,
    held: HeldLock,
}

/// The task session a guard's lock lives in.
#[derive(Clone)]
struct SessionRef {
    key: SessionKey,
    id: EntryId,
    slot: SharedSlot,
}

impl AsyncLockGuard {
    /// Asks the server now (one round trip) whether this guard's
    /// connection still holds the lock.
    ///
    /// # Errors
    ///
    /// [`Error::LockLost`] when it doesn't (the guard then stays lost).
    /// Another error of the query (it was killed, say) is [`Error::Mysql`]
    /// and claims nothing about the lock. A `verify` future dropped before
    /// its answer leaves the connection in the middle of a statement: it
    /// is closed at the next use, and the task's locks are then lost.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), mysql_lock::Error> {
    /// let mut guard = mysql_lock::Lock::new("payout").acquire_async().await?;
    /// guard.verify().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn verify(&mut self) -> Result<(), Error> {
        let Some(session) = self.session.as_ref().filter(|_| !self.held.is_lost()) else {
            self.held.mark_lost();
            return Err(self.held.lost_error());
        };
        let mut slot = session.slot.lock().await;
        let Some(checkout) = usable(&mut slot, session.key) else {
            self.held.mark_lost();
            return Err(self.held.lost_error());
        };
        let answer = checkout.conn().is_used_lock(self.held.server_name()).await;
        match Verdict::of_check(answer, self.held.conn()) {
            Verdict::Owns => Ok(()),
            Verdict::Lost => {
                self.held.mark_lost();
                Err(self.held.lost_error())
            }
            Verdict::Unanswered => {
                poison(&mut slot, session.key, true);
                Err(self.held.lost_error())
            }
            Verdict::Unknown(err) => Err(Error::mysql("IS_USED_LOCK", err)),
        }
    }

    /// Releases the lock (one round trip).
    ///
    /// # Errors
    ///
    /// [`Error::LockLost`] when the lock was no longer held by this guard's
    /// connection: work done under it may have overlapped with another
    /// holder. A release future dropped before its answer still releases:
    /// the guard, dropped with it, does (closing the connection when the
    /// statement was cut in the middle, which frees the lock).
    ///
    /// With a [minimum hold time](Lock::min_hold) not yet up, it returns at
    /// once and a task of the runtime releases the lock when the time is
    /// up (a runtime shut down before then closes the connection, which
    /// frees the lock sooner).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), mysql_lock::Error> {
    /// let guard = mysql_lock::Lock::new("job").acquire_async().await?;
    /// if let Err(err) = guard.release().await {
    ///     eprintln!("the job may have run twice: {err}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn release(mut self) -> Result<(), Error> {
        let Some(session) = self.session.clone() else {
            return Err(self.held.lost_error());
        };
        // From here the task may take the name again (the server counts
        // its grants), even while this release is on its way.
        task_session::releasing(session.key, session.id);
        if self.held.keep_until().is_some() && !self.held.is_lost() {
            // Its minimum hold time is not up: released then, by a task.
            self.held.mark_lingering();
            self.session = None;
            tokio::spawn(release_in_time(session, self.held.clone()));
            return Ok(());
        }
        if task_session::holds_others(session.key, session.id) {
            // Cut in the middle, the release would leave the connection out
            // of step, and the task's other locks would be lost with it: it
            // runs on a task of its own, which a dropped caller leaves be.
            self.session = None;
            let release = tokio::spawn(release_in_time(session, self.held.clone()));
            return match release.await {
                Ok(result) => result,
                // The runtime shut down: the connection was closed.
                Err(_) => Err(self.held.lost_error()),
            };
        }
        let result = release_now(&session, &self.held).await;
        // Released and left: nothing for `Drop` to do.
        self.session = None;
        result
    }
}

/// Who holds `name`, asked on a connection of the pool free now (none
/// free: no description): for a session whose own connection must stay
/// in step.
async fn describe_elsewhere(pool: &Arc<Pool>, name: &str) -> Option<Box<Holder>> {
    let now = Wait::from_timeout(Duration::ZERO).deadline_from(Instant::now());
    let mut checkout = checkout(pool, now).await.ok()?;
    let holder = checkout.conn().describe_holder(name).await;
    checkout.checkin();
    holder
}

/// Releases the lock once its minimum hold time is up, on a task of its
/// own. A task dropped before it is done (the runtime shuts down) closes
/// the session's connection instead: see [`Releasing`].
fn release_in_time(
    session: SessionRef,
    held: HeldLock,
) -> impl Future<Output = Result<(), Error>> + Send {
    // Made now, not when first polled: a task dropped unpolled drops it.
    let releasing = Releasing {
        session,
        held,
        done: false,
    };
    release_in_time_by(releasing)
}

async fn release_in_time_by(mut releasing: Releasing) -> Result<(), Error> {
    if let Some(until) = releasing
        .held
        .keep_until()
        .filter(|_| !releasing.held.is_lost())
    {
        releasing.held.mark_lingering();
        tokio::time::sleep_until(until.into()).await;
    }
    let result = release_now(&releasing.session, &releasing.held).await;
    releasing.done = true;
    result
}

/// A release on a task of its own that may never run: a runtime shutting
/// down drops its tasks unpolled or half way. Dropped before it is done,
/// it closes the session's connection (the server then frees the lock, and
/// the task's other locks of the alias, which are reported lost) and
/// takes the lock out of the session, so that nothing keeps the
/// connection, and the lock, alive.
struct Releasing {
    session: SessionRef,
    held: HeldLock,
    done: bool,
}

impl Drop for Releasing {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let SessionRef { key, id, slot } = &self.session;
        // Locked only by a statement in flight of the same session, itself
        // being dropped: its connection closes with the slot's last
        // reference once the session is left.
        if let Ok(mut slot) = slot.try_lock() {
            poison(&mut slot, *key, false);
        }
        self.held.mark_lost();
        task_session::leave(*key, *id);
    }
}

/// `RELEASE_LOCK` on the session's connection, then the lock leaves the
/// session; the connection goes back to the pool when the session holds
/// nothing any more.
async fn release_now(session: &SessionRef, held: &HeldLock) -> Result<(), Error> {
    let mut slot = session.slot.lock().await;
    let result = release_on(&mut slot, session.key, held).await;
    trace::released(held, &result);
    if task_session::leave(session.key, session.id) {
        if let Some(checkout) = slot.take() {
            checkout.checkin();
        }
    }
    result
}

async fn release_on(slot: &mut Slot, key: SessionKey, held: &HeldLock) -> Result<(), Error> {
    if held.is_lost() {
        return Err(held.lost_error());
    }
    let Some(checkout) = usable(slot, key) else {
        held.mark_lost();
        return Err(held.lost_error());
    };
    let answer = checkout.conn().release_lock(held.server_name()).await;
    if matches!(answer, Ok(Some(1))) {
        return Ok(());
    }
    held.mark_lost();
    match answer {
        Err(err) => match Failure::of(&err) {
            Failure::Unanswered => {
                poison(slot, key, true);
                Err(held.lost_error())
            }
            Failure::Connection => {
                poison(slot, key, false);
                Err(held.lost_error())
            }
            // Not an answer about the lock (a killed RELEASE_LOCK): the
            // connection is closed all the same, which frees the lock.
            _ => {
                poison(slot, key, false);
                Err(Error::mysql("RELEASE_LOCK", err))
            }
        },
        // Another session holds it, or nobody: the connection is sound
        // and keeps the session's other locks.
        Ok(_) => Err(held.lost_error()),
    }
}

impl Deref for AsyncLockGuard {
    type Target = HeldLock;

    fn deref(&self) -> &HeldLock {
        &self.held
    }
}

impl Drop for AsyncLockGuard {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let held = self.held.clone();
        task_session::releasing(session.key, session.id);
        match tokio::runtime::Handle::try_current() {
            // A runtime that is shutting down drops the task at once, and
            // with it the connection: that frees the lock too.
            Ok(runtime) => {
                runtime.spawn(release_in_time(session, held));
            }
            // No runtime to run a statement on: closing the connection
            // (the socket) makes the server end the session, which frees
            // the lock, and the task's other locks on this alias with it.
            Err(_) => {
                held.mark_lost();
                let SessionRef { key, id, slot } = session;
                match Arc::clone(&slot).try_lock_owned() {
                    Ok(mut slot) => {
                        poison(&mut slot, key, false);
                        task_session::leave(key, id);
                    }
                    // A statement of the session is in flight (on its
                    // runtime): close the connection once it is done, and
                    // keep the entry until then, so that the connection
                    // can't go back to the pool with the lock.
                    Err(_) => {
                        let _ = std::thread::Builder::new()
                            .name("mysql-lock-close".into())
                            .spawn(move || {
                                let mut slot = slot.blocking_lock();
                                poison(&mut slot, key, false);
                                task_session::leave(key, id);
                            });
                    }
                }
            }
        }
    }
}

impl fmt::Debug for AsyncLockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AsyncLockGuard").field(&self.held).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What users rely on: the futures can be spawned on a multi-threaded
    /// runtime, and a guard can move between tasks.
    #[test]
    fn futures_and_guards_are_send() {
        fn send<T: Send>(_: &T) {}
        fn send_type<T: Send + Sync>() {}
        let lock = Lock::new("send-check");
        send(&lock.acquire_async());
        send(&lock.try_acquire_async());
        send(&lock.is_held_async());
        send(&lock.holding_connection_id_async());
        send_type::<AsyncLockGuard>();
    }

    #[test]
    fn driver_errors_keep_their_meaning() {
        let server = to_sync(mysql_async::Error::Server(mysql_async::ServerError {
            code: 1213,
            message: "deadlock".into(),
            state: "40001".into(),
        }));
        assert_eq!(Failure::of(&server), Failure::Deadlock);
        let io = to_sync(mysql_async::Error::Io(mysql_async::IoError::Io(
            std::io::Error::from(std::io::ErrorKind::ConnectionReset),
        )));
        assert_eq!(Failure::of(&io), Failure::Connection);
        let driver = to_sync(mysql_async::Error::Driver(
            mysql_async::DriverError::ConnectionClosed,
        ));
        assert_eq!(Failure::of(&driver), Failure::Connection);
        assert_eq!(
            Failure::of(&unanswered(Duration::from_secs(1))),
            Failure::Unanswered
        );
    }
}
