//! One server connection and the statements a lock needs: the only place
//! that builds SQL. Names always travel as bound parameters of prepared
//! statements, never inside the query text.

use mysql::prelude::Queryable;
use mysql::{Conn, Statement};
use std::time::Duration;

/// Which server we talk to: they read `GET_LOCK`'s timeout differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// Honours fractional seconds; a negative timeout is an error (NULL).
    MariaDb,
    /// Truncates the timeout to whole seconds.
    MySql,
}

/// Timeouts at or above this are "wait without limit". MariaDB has no such
/// value (a negative timeout returns NULL), so both servers get this many
/// seconds, about 3 years: measured to wait normally on MariaDB (values
/// above about 9.2e9 s overflow and return 0 at once).
pub(crate) const FOREVER_SECS: f64 = 1.0e8;

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
    flavor: Flavor,
    id: u64,
    get_lock: Statement,
    release_lock: Statement,
    is_used_lock: Statement,
}

impl ServerConn {
    /// Connects and prepares the statements (a few round trips, once per
    /// connection, never per lock).
    pub(crate) fn open(opts: mysql::Opts) -> mysql::Result<Self> {
        let mut conn = Conn::new(opts)?;
        // The handshake carries only 32 bits of the connection id; MariaDB's
        // are 64-bit.
        let (version, id): (String, u64) = conn
            .query_first("SELECT VERSION(), CONNECTION_ID()")?
            .ok_or_else(|| {
            mysql::Error::IoError(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "SELECT VERSION(), CONNECTION_ID() returned no row",
            ))
        })?;
        let flavor = if version.to_ascii_lowercase().contains("mariadb") {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        };
        let get_lock = conn.prep("SELECT GET_LOCK(?, ?)")?;
        let release_lock = conn.prep("SELECT RELEASE_LOCK(?)")?;
        let is_used_lock = conn.prep("SELECT IS_USED_LOCK(?)")?;
        Ok(Self {
            conn,
            flavor,
            id,
            get_lock,
            release_lock,
            is_used_lock,
        })
    }

    /// The server's `CONNECTION_ID()` for this connection.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// `GET_LOCK(name, timeout)`: one round trip.
    pub(crate) fn get_lock(&mut self, name: &str, timeout: Duration) -> mysql::Result<GetLock> {
        let secs = timeout.as_secs_f64();
        let row: Option<Option<i64>> = match self.flavor {
            Flavor::MariaDb => {
                let secs = secs.min(FOREVER_SECS);
                self.conn.exec_first(&self.get_lock, (name, secs))?
            }
            Flavor::MySql => {
                // Whole seconds only: round up so we never give up early,
                // and -1 (wait forever) for the unlimited timeout.
                let secs = if secs >= FOREVER_SECS {
                    -1
                } else {
                    secs.ceil() as i64
                };
                self.conn.exec_first(&self.get_lock, (name, secs))?
            }
        };
        Ok(match row.flatten() {
            Some(1) => GetLock::Acquired,
            Some(0) => GetLock::TimedOut,
            _ => GetLock::Null,
        })
    }

    /// `RELEASE_LOCK(name)`: `Some(1)` released, `Some(0)` held by another
    /// session, `None` held by nobody. One round trip.
    pub(crate) fn release_lock(&mut self, name: &str) -> mysql::Result<Option<i64>> {
        let row: Option<Option<i64>> = self.conn.exec_first(&self.release_lock, (name,))?;
        Ok(row.flatten())
    }

    /// `IS_USED_LOCK(name)`: the holder's connection id, or `None` when free.
    pub(crate) fn is_used_lock(&mut self, name: &str) -> mysql::Result<Option<u64>> {
        let row: Option<Option<u64>> = self.conn.exec_first(&self.is_used_lock, (name,))?;
        Ok(row.flatten())
    }
}

/// MariaDB 1213 (ER_LOCK_DEADLOCK) and MySQL 3058 (ER_USER_LOCK_DEADLOCK).
pub(crate) fn is_deadlock(err: &mysql::Error) -> bool {
    matches!(err, mysql::Error::MySqlError(e) if e.code == 1213 || e.code == 3058)
}

/// Errors after which the connection can't be trusted (it may be gone, and
/// with it every lock it held): I/O and protocol failures, and the server
/// errors sent just before it closes a session: 1053 (server shutdown),
/// 1927 (connection killed, MariaDB), 4031 (idle past `wait_timeout`,
/// MySQL 8.0.24+).
pub(crate) fn is_connection_error(err: &mysql::Error) -> bool {
    match err {
        mysql::Error::IoError(_) | mysql::Error::DriverError(_) | mysql::Error::CodecError(_) => {
            true
        }
        mysql::Error::MySqlError(e) => matches!(e.code, 1053 | 1927 | 4031),
        _ => false,
    }
}
