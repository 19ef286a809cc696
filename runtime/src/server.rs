//! One server connection and the statements a lock needs: the only place
//! that builds SQL. Names always travel as bound parameters of prepared
//! statements, never inside the query text.
//!
//! Every statement's wait for an answer is bounded: `GET_LOCK` by its own
//! timeout plus [`ANSWER_MARGIN`], every other statement by the alias's
//! statement timeout. A server or proxy that stops answering costs at most
//! that, never a hung thread.

use crate::wait::Wait;
use mysql::prelude::Queryable;
use mysql::{Conn, Statement};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long past its own timeout a `GET_LOCK` may take to answer before the
/// client gives up on it: the server answers within milliseconds of the
/// timeout (measured: 0.5 s waits 500.7 ms on MariaDB), so this covers the
/// network, a busy server and MySQL's whole-second rounding.
pub(crate) const ANSWER_MARGIN: Duration = Duration::from_secs(1);

/// How long the client waits for the answer of a `GET_LOCK` that waits
/// `secs` on the server: at least three quarters of [`ANSWER_MARGIN`]
/// more, rounded up to a quarter second, so that waits of about the same
/// length (the rest of one timeout, after a pooled connection was taken)
/// share a bound, and the socket's is not set again for each.
pub(crate) fn answer_bound(secs: f64) -> Duration {
    let quarters = ((secs + ANSWER_MARGIN.as_secs_f64() * 0.75) * 4.0).ceil();
    Duration::from_secs_f64(quarters / 4.0)
}

/// A lock wait's bound up to this long is kept for a release that follows
/// it on the connection, when it is longer than the statement timeout: see
/// [`ServerConn::bound_release`].
const KEPT_BOUND: Duration = Duration::from_secs(15);

/// Which server we talk to: they read `GET_LOCK`'s timeout differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// Honours fractional seconds.
    MariaDb,
    /// Truncates the timeout to whole seconds.
    MySql,
}

/// What a `KILL` from another connection ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kill {
    /// The session: the server frees every lock it holds.
    Connection,
    /// The statement in flight (a waiting `GET_LOCK` answers NULL); the
    /// session and its locks stay. Sent to an idle session, it does
    /// nothing, not even to its next statement (measured on MariaDB 10.11).
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    Query,
}

/// Which connection, inside this process: a serial number that is never
/// reused, with the server's `CONNECTION_ID()`, which is (ids start again
/// after a server restart). Connections are compared by serial only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnId {
    serial: u64,
    /// The server's `CONNECTION_ID()`.
    pub(crate) server: u64,
}

impl ConnId {
    /// The id of a connection opened now, whose `CONNECTION_ID()` is
    /// `server`: a new serial.
    pub(crate) fn fresh(server: u64) -> Self {
        static SERIAL: AtomicU64 = AtomicU64::new(1);
        ConnId {
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
            server,
        }
    }
}

/// One running server: where it listens and when it started. Two aliases
/// that reach the same instance share its locks; a connection id means
/// something only on the instance that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instance {
    /// `@@hostname:@@port`.
    address: String,
    /// Unix time of the server's start, from its `Uptime` (to the second).
    booted: i64,
}

impl Instance {
    /// The server at `host:port` that has been up `uptime` seconds now.
    pub(crate) fn new(host: &str, port: u64, uptime: i64) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Instance {
            address: format!("{host}:{port}"),
            booted: now - uptime,
        }
    }

    /// Whether `self` and `other` are the same running server (the boot
    /// time is computed from two readings a moment apart: ±2 s).
    pub(crate) fn same_as(&self, other: &Instance) -> bool {
        self.address == other.address && (self.booted - other.booted).abs() <= 2
    }
}

/// What `GET_LOCK` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GetLock {
    /// 1: acquired.
    Acquired,
    /// 0: another session held it for the whole timeout.
    TimedOut,
    /// NULL: killed, or the server refused the arguments.
    Null,
}

/// A server connection with its lock statements prepared once.
pub(crate) struct ServerConn {
    conn: Conn,
    id: ConnId,
    /// The process generation that opened it (see `fork.rs`): after a
    /// `fork()`, the child must never use (or close) its parent's
    /// connections.
    generation: u64,
    /// Its socket's two addresses, to recognise the socket in a child
    /// process (see [`ServerConn::abandon`]).
    ends: Option<Vec<u8>>,
    instance: Arc<Instance>,
    flavor: Flavor,
    get_lock: Statement,
    release_lock: Statement,
    is_used_lock: Statement,
    /// The bound of every statement but `GET_LOCK`.
    statement_timeout: Duration,
    /// The socket's receive timeout now, to set it only when it changes.
    receive_timeout: Option<Duration>,
}

impl ServerConn {
    /// Connects and prepares the statements (a few round trips, once per
    /// connection, never per lock).
    pub(crate) fn open(opts: mysql::Opts, statement_timeout: Duration) -> mysql::Result<Self> {
        let mut conn = Conn::new(opts)?;
        // The handshake carries only 32 bits of the connection id; MariaDB's
        // are 64-bit.
        let (version, server_id, host, port): (String, u64, String, u64) = conn
            .query_first("SELECT VERSION(), CONNECTION_ID(), @@hostname, @@port")?
            .ok_or_else(|| no_row("SELECT VERSION()"))?;
        let (_, uptime): (String, i64) = conn
            .query_first("SHOW GLOBAL STATUS LIKE 'Uptime'")?
            .ok_or_else(|| no_row("SHOW GLOBAL STATUS"))?;
        let flavor = if version.to_ascii_lowercase().contains("mariadb") {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        };
        let ends = socket_ends(&conn);
        let get_lock = conn.prep("SELECT GET_LOCK(?, ?)")?;
        let release_lock = conn.prep("SELECT RELEASE_LOCK(?)")?;
        let is_used_lock = conn.prep("SELECT IS_USED_LOCK(?)")?;
        Ok(Self {
            conn,
            id: ConnId::fresh(server_id),
            generation: crate::fork::generation(),
            ends,
            instance: Arc::new(Instance::new(&host, port, uptime)),
            flavor,
            get_lock,
            release_lock,
            is_used_lock,
            statement_timeout,
            // What the driver set when it connected (`read_timeout`, which
            // the pool always sets to the statement timeout).
            receive_timeout: Some(statement_timeout),
        })
    }

    pub(crate) fn id(&self) -> ConnId {
        self.id
    }

    pub(crate) fn instance(&self) -> &Arc<Instance> {
        &self.instance
    }

    /// Whether this process opened the connection (not a parent before a
    /// `fork()`).
    pub(crate) fn is_ours(&self) -> bool {
        self.generation == crate::fork::generation()
    }

    /// Forgets a connection of a parent process without a word to the
    /// server: a close would send `COM_QUIT` on the parent's session and
    /// end it, with the parent's locks. Its descriptor, this process's copy
    /// of the parent's socket, is closed when it is still that socket (the
    /// same two addresses): kept open, it would keep the parent's session,
    /// and its locks, alive after the parent died, until this process
    /// exits.
    pub(crate) fn abandon(self) {
        if self.ends.is_some() && socket_ends(&self.conn) == self.ends {
            close_descriptor(&self.conn);
        }
        std::mem::forget(self);
    }

    /// `GET_LOCK(name, wait)`: one round trip, answered within the wait
    /// plus [`ANSWER_MARGIN`] or given up with an I/O error (see
    /// [`Failure::Unanswered`]).
    pub(crate) fn get_lock(&mut self, name: &str, wait: Wait) -> mysql::Result<GetLock> {
        let secs = match self.flavor {
            Flavor::MariaDb => wait.server_secs(),
            // Whole seconds only: round up, so as never to give up early.
            Flavor::MySql => wait.server_secs().ceil(),
        };
        // The bound covers what the server will wait: for MySQL, the
        // rounded-up seconds.
        self.bound(match wait {
            Wait::Within(_) => Some(answer_bound(secs)),
            Wait::Unlimited => None,
        })?;
        match first::<Option<i64>>(&mut self.conn, &self.get_lock, (name, secs))? {
            Some(1) => Ok(GetLock::Acquired),
            Some(0) => Ok(GetLock::TimedOut),
            None => Ok(GetLock::Null),
            Some(other) => Err(out_of_step(format!("GET_LOCK answered {other}"))),
        }
    }

    /// `RELEASE_LOCK(name)`: `Some(1)` released, `Some(0)` held by another
    /// session, `None` held by nobody. One round trip.
    pub(crate) fn release_lock(&mut self, name: &str) -> mysql::Result<Option<i64>> {
        self.bound_release()?;
        first(&mut self.conn, &self.release_lock, (name,))
    }

    /// `IS_USED_LOCK(name)`: the holder's connection id, or `None` when free.
    pub(crate) fn is_used_lock(&mut self, name: &str) -> mysql::Result<Option<u64>> {
        self.bound(Some(self.statement_timeout))?;
        first(&mut self.conn, &self.is_used_lock, (name,))
    }

    /// Who holds `name`: its connection id, user and host, in one round
    /// trip (`None` when nobody does).
    pub(crate) fn describe_holder(&mut self, name: &str) -> mysql::Result<Option<crate::Holder>> {
        self.bound(Some(self.statement_timeout))?;
        let row: Option<(Option<u64>, Option<String>, Option<String>)> = self.conn.exec_first(
            "SELECT IS_USED_LOCK(?) AS id, p.USER, p.HOST FROM (SELECT 1) AS one \
             LEFT JOIN information_schema.PROCESSLIST AS p ON p.ID = IS_USED_LOCK(?)",
            (name, name),
        )?;
        Ok(row.and_then(|(id, user, host)| {
            Some(crate::Holder {
                connection_id: id?,
                user,
                host,
                thread: None,
            })
        }))
    }

    /// `KILL CONNECTION id` (or, with `what` [`Kill::Query`], `KILL QUERY
    /// id`) of a session of ours whose client gave up on it (it may still
    /// be waiting in `GET_LOCK`), when it is on the same running server:
    /// after a restart the id may be another's session.
    pub(crate) fn kill(
        &mut self,
        target: ConnId,
        instance: &Instance,
        what: Kill,
    ) -> mysql::Result<()> {
        if !self.instance.same_as(instance) {
            return Ok(());
        }
        self.bound(Some(self.statement_timeout))?;
        let statement = match what {
            Kill::Connection => "KILL CONNECTION",
            Kill::Query => "KILL QUERY",
        };
        // An integer the server gave us, not user input.
        match self
            .conn
            .query_drop(format!("{statement} {}", target.server))
        {
            // 1094: unknown thread id, already gone.
            Err(mysql::Error::MySqlError(e)) if e.code == 1094 => Ok(()),
            other => other,
        }
    }

    /// The bound of a `RELEASE_LOCK`: the statement timeout; or the bound a
    /// lock wait of up to [`KEPT_BOUND`] set, left as it is, so that lock
    /// cycles with such a timeout (the default 10 s among them) don't set
    /// the socket's bound twice per cycle. Every other statement gets the
    /// statement timeout exactly.
    fn bound_release(&mut self) -> mysql::Result<()> {
        let kept = self
            .receive_timeout
            .is_some_and(|now| now >= self.statement_timeout && now <= KEPT_BOUND);
        if kept {
            Ok(())
        } else {
            self.bound(Some(self.statement_timeout))
        }
    }

    /// Sets how long a read waits for the server, when it changes.
    fn bound(&mut self, limit: Option<Duration>) -> mysql::Result<()> {
        if self.receive_timeout != limit {
            set_receive_timeout(&self.conn, limit)?;
            self.receive_timeout = limit;
        }
        Ok(())
    }
}

/// `SO_RCVTIMEO` on the connection's socket. The driver sets a read
/// timeout only when it connects; a lock needs one per statement (a
/// `GET_LOCK` may rightly wait for hours, a `RELEASE_LOCK` must not).
#[cfg(unix)]
#[allow(unsafe_code)]
fn set_receive_timeout(conn: &Conn, limit: Option<Duration>) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let limit = limit.map(|d| d.max(Duration::from_micros(1)));
    let value = libc::timeval {
        tv_sec: limit.map_or(0, |d| {
            libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX)
        }),
        tv_usec: limit.map_or(0, |d| libc::suseconds_t::from(d.subsec_micros())),
    };
    let size = libc::socklen_t::try_from(std::mem::size_of::<libc::timeval>())
        .expect("a timeval's size fits a socklen_t");
    // SAFETY: the descriptor is the open socket of `conn`, which is borrowed
    // for the whole call; `value` is a valid `timeval` that outlives it, and
    // `size` is its size. SO_RCVTIMEO changes only how long reads wait.
    let result = unsafe {
        libc::setsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            std::ptr::addr_of!(value).cast(),
            size,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The local and the peer address of the connection's socket, as bytes.
#[cfg(unix)]
#[allow(unsafe_code)]
fn socket_ends(conn: &Conn) -> Option<Vec<u8>> {
    use std::os::unix::io::AsRawFd;
    type AddressOf =
        unsafe extern "C" fn(libc::c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> libc::c_int;
    let fd = conn.as_raw_fd();
    let mut ends = Vec::new();
    for address_of in [libc::getsockname as AddressOf, libc::getpeername] {
        // SAFETY: a zeroed sockaddr_storage is a valid value of it.
        let mut address: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let capacity = std::mem::size_of::<libc::sockaddr_storage>();
        let mut length = libc::socklen_t::try_from(capacity).ok()?;
        // SAFETY: `fd` is borrowed from `conn` for the call; `address` and
        // `length` are valid for writes, `length` holding the capacity.
        let result = unsafe {
            address_of(
                fd,
                std::ptr::addr_of_mut!(address).cast(),
                std::ptr::addr_of_mut!(length),
            )
        };
        let length = usize::try_from(length).ok()?.min(capacity);
        if result != 0 {
            return None;
        }
        // SAFETY: the first `length` bytes of `address` were written.
        let bytes =
            unsafe { std::slice::from_raw_parts(std::ptr::addr_of!(address).cast::<u8>(), length) };
        ends.extend_from_slice(bytes);
    }
    Some(ends)
}

/// Closes this process's descriptor of a forgotten connection.
#[cfg(unix)]
#[allow(unsafe_code)]
fn close_descriptor(conn: &Conn) {
    use std::os::unix::io::AsRawFd;
    // SAFETY: the descriptor belongs to `conn`, which is forgotten right
    // after this and never used again, so nothing reads or closes it later.
    unsafe {
        libc::close(conn.as_raw_fd());
    }
}

#[cfg(not(unix))]
fn socket_ends(_: &Conn) -> Option<Vec<u8>> {
    None
}

#[cfg(not(unix))]
fn close_descriptor(_: &Conn) {}

/// Elsewhere statements are bounded only by the driver's read timeout.
#[cfg(not(unix))]
fn set_receive_timeout(_: &Conn, _: Option<Duration>) -> std::io::Result<()> {
    Ok(())
}

/// The one column of the one row a lock statement answers. A row of
/// another shape means the connection is out of step with its answers (an
/// answer of an earlier statement arrived late): an error that ends the
/// connection ([`Failure::Connection`]), never a panic.
fn first<T: mysql::prelude::FromValue>(
    conn: &mut Conn,
    statement: &Statement,
    params: impl Into<mysql::Params>,
) -> mysql::Result<T> {
    match conn.exec_first_opt::<(T,), _, _>(statement, params)? {
        Some(Ok((value,))) => Ok(value),
        Some(Err(row)) => Err(out_of_step(format!("an unexpected row {row:?}"))),
        None => Err(out_of_step("no row".into())),
    }
}

/// The error for an answer that can't be this statement's.
pub(crate) fn out_of_step(what: String) -> mysql::Error {
    mysql::Error::IoError(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("the connection is out of step with its answers: {what}"),
    ))
}

pub(crate) fn no_row(query: &str) -> mysql::Error {
    mysql::Error::IoError(std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        format!("{query} returned no row"),
    ))
}

/// What a failed statement means, by the server's error code or the kind
/// of I/O failure: the one place where codes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Waiting would deadlock: MariaDB 1213 (ER_LOCK_DEADLOCK), MySQL 3058
    /// (ER_USER_LOCK_DEADLOCK).
    Deadlock,
    /// The wait was killed: MySQL answers a `KILL QUERY` of a waiter with
    /// 1317 (MariaDB with NULL instead of an error).
    Interrupted,
    /// The server refuses user locks: a Galera node with `wsrep_on` (1235,
    /// "not supported yet").
    Unsupported,
    /// The server refuses the name: too long for MySQL 5.7 (3057) or 8.4
    /// (4163), or MariaDB (1059, over 192 bytes).
    NameRefused,
    /// The client gave up waiting for the answer (the socket's receive
    /// timeout): the server may still be running the statement.
    Unanswered,
    /// The connection can't be trusted any more (gone, or in the middle of
    /// an answer): I/O and protocol failures, and the server errors sent
    /// just before it closes a session: 1053 (server shutdown), 1927
    /// (connection killed, MariaDB), 4031 (idle past `wait_timeout`, MySQL
    /// 8.0.24+).
    Connection,
    /// Anything else: the connection stays usable.
    Other,
}

impl Failure {
    /// The error a failed `GET_LOCK` of `name` is, for the failures after
    /// which the connection stays usable (the callers handle
    /// [`Failure::Unanswered`] and [`Failure::Connection`] themselves: they
    /// end the connection first; given here, they are `Disconnected`).
    pub(crate) fn get_lock_error(self, name: String, err: mysql::Error) -> crate::Error {
        use crate::Error;
        match self {
            Failure::Deadlock => Error::Deadlock { name },
            Failure::Interrupted => Error::Interrupted { name },
            Failure::Unsupported => Error::Unsupported {
                name,
                source: Box::new(err),
            },
            Failure::NameRefused => Error::InvalidName {
                name,
                reason: "the server refused the name as too long; with exact names, MySQL \
                         takes at most 64 characters and MariaDB 192 bytes",
            },
            Failure::Unanswered | Failure::Connection => Error::Disconnected {
                name,
                source: Box::new(err),
            },
            Failure::Other => Error::mysql("GET_LOCK", err),
        }
    }

    pub(crate) fn of(err: &mysql::Error) -> Self {
        match err {
            mysql::Error::MySqlError(e) => match e.code {
                1213 | 3058 => Failure::Deadlock,
                1317 => Failure::Interrupted,
                1235 => Failure::Unsupported,
                1059 | 3057 | 4163 => Failure::NameRefused,
                1053 | 1927 | 4031 => Failure::Connection,
                _ => Failure::Other,
            },
            _ if is_unanswered(err) => Failure::Unanswered,
            mysql::Error::IoError(_)
            | mysql::Error::DriverError(_)
            | mysql::Error::CodecError(_) => Failure::Connection,
            _ => Failure::Other,
        }
    }
}

/// The client gave up waiting for the answer (the socket's receive
/// timeout): the server may still be running the statement.
fn is_unanswered(err: &mysql::Error) -> bool {
    let io = match err {
        mysql::Error::IoError(io) => Some(io),
        // The packet codec's I/O error (its type is not re-exported).
        mysql::Error::CodecError(codec) => std::error::Error::source(codec)
            .and_then(|source| source.downcast_ref::<std::io::Error>()),
        _ => None,
    };
    io.is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(code: u16) -> mysql::Error {
        mysql::Error::MySqlError(mysql::MySqlError {
            state: "HY000".into(),
            message: format!("error {code}"),
            code,
        })
    }

    #[test]
    fn failures_by_code_and_kind() {
        for (code, failure) in [
            (1213, Failure::Deadlock),
            (3058, Failure::Deadlock),
            (1317, Failure::Interrupted),
            (1235, Failure::Unsupported),
            (1059, Failure::NameRefused),
            (3057, Failure::NameRefused),
            (4163, Failure::NameRefused),
            (1053, Failure::Connection),
            (1927, Failure::Connection),
            (4031, Failure::Connection),
            (1064, Failure::Other),
        ] {
            assert_eq!(Failure::of(&server_error(code)), failure, "{code}");
        }
        let io = |kind| mysql::Error::IoError(std::io::Error::new(kind, "x"));
        assert_eq!(
            Failure::of(&io(std::io::ErrorKind::WouldBlock)),
            Failure::Unanswered
        );
        assert_eq!(
            Failure::of(&io(std::io::ErrorKind::TimedOut)),
            Failure::Unanswered
        );
        assert_eq!(
            Failure::of(&io(std::io::ErrorKind::ConnectionReset)),
            Failure::Connection
        );
    }
}
