//! Who holds what: every user lock held on the server, with its holder's
//! connection, account and connection attributes; and the operator's last
//! resort, ending a holder's connection.
//!
//! `GET_LOCK` has no "list the locks" counterpart, so the list comes from
//! the server's metadata-lock tables, whichever the server offers (checked
//! once per alias, and again after a failure):
//!
//! 1. `information_schema.METADATA_LOCK_INFO`, MariaDB's
//!    `metadata_lock_info` plugin (`INSTALL SONAME 'metadata_lock_info'`):
//!    user locks are its rows with `LOCK_TYPE = 'User lock'`, the name in
//!    `TABLE_SCHEMA`, the holder's connection id in `THREAD_ID`, and how
//!    long it has been held in `LOCK_TIME_MS`. It shows every lock, however
//!    old.
//! 2. `performance_schema.metadata_locks` (MySQL 8, where it is on by
//!    default; MariaDB 10.5+ with `performance_schema=ON` and the instrument
//!    `wait/lock/metadata/sql/mdl` enabled): rows with
//!    `OBJECT_TYPE = 'USER LEVEL LOCK'`, the name in `OBJECT_NAME`. Measured
//!    on MariaDB 10.11: a lock taken before the instrument was enabled is
//!    not listed, so enable it at server start
//!    (`performance-schema-instrument='wait/lock/metadata/sql/mdl=ON'`).
//!
//! Both tables show at most 64 characters of a name (this library never
//! sends longer ones). The holder's account comes from the process list
//! (which shows other accounts' sessions only with the `PROCESS` privilege)
//! and its attributes from `performance_schema.session_connect_attrs` when
//! `performance_schema` is on.

use crate::pool::Pool;
use crate::{registry, Error, Lock};
use mysql::prelude::Queryable;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Where a [`ServerLock`] was read from.
///
/// ```
/// use mysql_lock::LockSource;
/// assert_eq!(LockSource::MetadataLockInfo.to_string(), "information_schema.METADATA_LOCK_INFO");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockSource {
    /// MariaDB's `metadata_lock_info` plugin.
    MetadataLockInfo,
    /// `performance_schema.metadata_locks` (MySQL 8, MariaDB 10.5+).
    PerformanceSchema,
    /// `IS_USED_LOCK(name)`, for one name ([`lock_holder`]): always
    /// available, but tells nothing about how long the lock has been held.
    IsUsedLock,
}

impl std::fmt::Display for LockSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LockSource::MetadataLockInfo => "information_schema.METADATA_LOCK_INFO",
            LockSource::PerformanceSchema => "performance_schema.metadata_locks",
            LockSource::IsUsedLock => "IS_USED_LOCK",
        })
    }
}

/// A user lock held on the server by some session, this process's or any
/// other's: what [`held_locks`] and [`lock_holder`] return.
///
/// ```no_run
/// for lock in mysql_lock::held_locks("default")? {
///     println!(
///         "{} held by connection {} ({}@{})",
///         lock.display_name(),
///         lock.connection_id,
///         lock.user.as_deref().unwrap_or("?"),
///         lock.host.as_deref().unwrap_or("?"),
///     );
/// }
/// # Ok::<(), mysql_lock::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLock {
    /// The name as the server knows it (at most 64 characters are shown
    /// by the servers' tables).
    pub server_name: String,
    /// The name as written in the program, when it can be told from the
    /// server name: a name without `#` in the alias's database
    /// (`<db>.<name>`), or any name without `#` when the alias names no
    /// database. `None` for encoded names and other databases' names.
    pub name: Option<String>,
    /// Whether the server name is this library's encoding of a name that
    /// is not plain (it contains `#`, followed by 16 hex digits of a hash):
    /// it can't be turned back into the name as written; look it up with
    /// [`Lock::server_name`].
    pub encoded: bool,
    /// The holder's `CONNECTION_ID()`: the id in `SHOW PROCESSLIST`, and
    /// what [`HeldLock::connection_id`](crate::HeldLock::connection_id)
    /// says in the holding process.
    pub connection_id: u64,
    /// The holder's account, from the process list (`None` when it can't
    /// be seen: other accounts' sessions need the `PROCESS` privilege).
    pub user: Option<String>,
    /// The holder's client host and port, from the process list.
    pub host: Option<String>,
    /// How long the lock has been held (only the `metadata_lock_info`
    /// plugin tells).
    pub held_for: Option<Duration>,
    /// The holder's connection attributes (`program_name`, `_pid`,
    /// `_client_name`, ...), in the order the client sent them; empty when
    /// `performance_schema` is off or this account may not read
    /// `performance_schema.session_connect_attrs`.
    pub attributes: Vec<(String, String)>,
    /// Where the row came from.
    pub source: LockSource,
}

impl ServerLock {
    /// The name as written when known, else the server name.
    ///
    /// ```no_run
    /// let locks = mysql_lock::held_locks("default")?;
    /// let names: Vec<&str> = locks.iter().map(|lock| lock.display_name()).collect();
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.server_name)
    }

    /// The value of the holder's connection attribute `name`, if it sent
    /// one.
    ///
    /// ```no_run
    /// for lock in mysql_lock::held_locks("default")? {
    ///     println!("{} by {:?}", lock.display_name(), lock.attribute("program_name"));
    /// }
    /// # Ok::<(), mysql_lock::Error>(())
    /// ```
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Every user lock held on the server of `alias`, with its holder, sorted
/// by server name.
///
/// Names this library gave are shown as written where the encoding allows
/// (see [`ServerLock::name`]). The list is read from
/// `information_schema.METADATA_LOCK_INFO` (MariaDB's `metadata_lock_info`
/// plugin) or `performance_schema.metadata_locks` (MySQL 8; MariaDB 10.5+
/// when its instrument is enabled), whichever the server offers: checked on
/// first use and remembered for the alias. The query runs on a connection
/// of its own, opened for the call and closed after it, never on a lock
/// session's.
///
/// # Errors
///
/// [`Error::NoLockList`] when the server offers neither table; the message
/// says what to enable. [`Error::UnknownAlias`], [`Error::Connect`],
/// [`Error::Mysql`].
///
/// ```no_run
/// mysql_lock::register("default", "mysql://root@127.0.0.1:3306/test")?;
/// let _guard = mysql_lock::Lock::new("nightly-report").acquire()?;
/// let locks = mysql_lock::held_locks("default")?;
/// assert!(locks.iter().any(|lock| lock.name.as_deref() == Some("nightly-report")));
/// # Ok::<(), mysql_lock::Error>(())
/// ```
pub fn held_locks(alias: &str) -> Result<Vec<ServerLock>, Error> {
    let pool = registry::pool(alias)?;
    let mut conn = Inspector::open(&pool)?;
    let source = conn.source()?;
    let mut locks = conn.list(source)?;
    conn.add_attributes(&mut locks)?;
    locks.sort_by(|a, b| a.server_name.cmp(&b.server_name));
    Ok(locks)
}

/// The user locks of [`held_locks`] whose name starts with `prefix`: the
/// name as written when it is known ([`ServerLock::name`]), else the server
/// name as shown (for encoded names, that is lower case, with `_` for
/// characters that are not plain).
///
/// # Errors
///
/// As [`held_locks`].
///
/// ```no_run
/// for lock in mysql_lock::held_locks_with_prefix("default", "report-")? {
///     println!("{} on connection {}", lock.display_name(), lock.connection_id);
/// }
/// # Ok::<(), mysql_lock::Error>(())
/// ```
pub fn held_locks_with_prefix(alias: &str, prefix: &str) -> Result<Vec<ServerLock>, Error> {
    let mut locks = held_locks(alias)?;
    locks.retain(|lock| lock.display_name().starts_with(prefix));
    Ok(locks)
}

/// Who holds `lock` now, by `IS_USED_LOCK` (which every server has), with
/// the holder's account and attributes as in [`held_locks`], and how long
/// it has been held when the `metadata_lock_info` plugin tells. `None`
/// when the lock is free. The name is encoded exactly as the lock's own
/// acquire encodes it.
///
/// # Errors
///
/// [`Error::UnknownAlias`], [`Error::InvalidName`], [`Error::Connect`],
/// [`Error::Mysql`].
///
/// ```no_run
/// let lock = mysql_lock::Lock::new("nightly-report");
/// match mysql_lock::lock_holder(&lock)? {
///     Some(holder) => println!("held by connection {}", holder.connection_id),
///     None => println!("free"),
/// }
/// # Ok::<(), mysql_lock::Error>(())
/// ```
pub fn lock_holder(lock: &Lock) -> Result<Option<ServerLock>, Error> {
    let pool = registry::pool(lock.alias())?;
    let server_name = lock.server_name()?.to_owned();
    let mut conn = Inspector::open(&pool)?;
    let Some(id) = conn.is_used_lock(&server_name)? else {
        return Ok(None);
    };
    let (user, host) = conn.account(id)?;
    let (name, encoded) = decode(pool.database(), &server_name);
    // Only the plugin tells since when; a server without a list is fine.
    let held_for = if conn.source().ok() == Some(LockSource::MetadataLockInfo) {
        conn.held_for(&server_name, id)?
    } else {
        None
    };
    let mut holder = vec![ServerLock {
        server_name,
        name,
        encoded,
        connection_id: id,
        user,
        host,
        held_for,
        attributes: Vec::new(),
        source: LockSource::IsUsedLock,
    }];
    conn.add_attributes(&mut holder)?;
    Ok(holder.pop())
}

/// Ends the server connection that holds `lock` (`KILL CONNECTION`), so
/// that the server frees every lock it held: an operator's last resort for
/// a holder that hangs. Returns the id of the connection it killed, or
/// `None` when the lock was free.
///
/// The holder's process is not told: its guard notices at its next check
/// ([`HeldLock::is_lost`](crate::HeldLock::is_lost)), and work it does
/// meanwhile may overlap with the next holder's. The holder is looked up
/// and killed in two statements: a holder that releases in between and
/// takes another lock on the same connection loses that one.
///
/// # Errors
///
/// [`Error::Mysql`] when the server refuses (killing another account's
/// session needs the `CONNECTION ADMIN` or `SUPER` privilege), and as
/// [`lock_holder`].
///
/// ```no_run
/// let lock = mysql_lock::Lock::new("nightly-report");
/// if let Some(id) = mysql_lock::kill_holder(&lock)? {
///     eprintln!("killed connection {id}");
/// }
/// # Ok::<(), mysql_lock::Error>(())
/// ```
pub fn kill_holder(lock: &Lock) -> Result<Option<u64>, Error> {
    let pool = registry::pool(lock.alias())?;
    let server_name = lock.server_name()?.to_owned();
    let mut conn = Inspector::open(&pool)?;
    let Some(id) = conn.is_used_lock(&server_name)? else {
        return Ok(None);
    };
    // An integer the server gave, not user input.
    match conn.conn.query_drop(format!("KILL CONNECTION {id}")) {
        // 1094: unknown thread id: it ended on its own meanwhile.
        Err(mysql::Error::MySqlError(err)) if err.code == 1094 => Ok(Some(id)),
        Err(err) => Err(Error::mysql("KILL CONNECTION", err)),
        Ok(()) => Ok(Some(id)),
    }
}

/// The name as written, when the server name tells it, and whether the
/// server name is encoded. Relies only on this: plain names are
/// `<db>.<name>` (or `<name>` without a database) with no `#`; encoded
/// ones contain `#`.
fn decode(database: Option<&str>, server_name: &str) -> (Option<String>, bool) {
    if server_name.contains('#') {
        return (None, true);
    }
    let name = match database {
        Some(db) if !db.is_empty() => server_name
            .strip_prefix(db)
            .and_then(|rest| rest.strip_prefix('.')),
        _ => Some(server_name),
    };
    (name.map(str::to_owned), false)
}

/// What each alias's server offers, once found: the alias's pool (by
/// address: aliases are set once) and the source.
static SOURCES: LazyLock<Mutex<HashMap<usize, LockSource>>> = LazyLock::new(Mutex::default);

fn cached(pool: &Arc<Pool>) -> Option<LockSource> {
    SOURCES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&(Arc::as_ptr(pool) as usize))
        .copied()
}

/// A connection of its own for inspection statements.
struct Inspector<'a> {
    pool: &'a Arc<Pool>,
    conn: mysql::Conn,
    /// `@@performance_schema`, read when needed.
    performance_schema: Option<bool>,
}

impl<'a> Inspector<'a> {
    fn open(pool: &'a Arc<Pool>) -> Result<Self, Error> {
        let started = Instant::now();
        // The pool's options carry its connect and statement timeouts.
        let conn = mysql::Conn::new(pool.opts().clone()).map_err(|err| Error::Connect {
            alias: pool.alias().to_owned(),
            target: pool.target(),
            waited: started.elapsed(),
            reason: err.to_string(),
            source: Some(Box::new(err)),
        })?;
        Ok(Self {
            pool,
            conn,
            performance_schema: None,
        })
    }

    fn performance_schema(&mut self) -> Result<bool, Error> {
        if let Some(on) = self.performance_schema {
            return Ok(on);
        }
        let on = self
            .conn
            .query_first::<Option<i64>, _>("SELECT @@performance_schema")
            .map_err(|err| Error::mysql("SELECT @@performance_schema", err))?
            .flatten()
            == Some(1);
        self.performance_schema = Some(on);
        Ok(on)
    }

    /// The source of the list: remembered for the pool, else found (two
    /// or three one-row queries).
    fn source(&mut self) -> Result<LockSource, Error> {
        if let Some(source) = cached(self.pool) {
            return Ok(source);
        }
        let during = "finding the server's metadata-lock tables";
        let plugin: Option<i64> = self
            .conn
            .query_first(
                "SELECT COUNT(*) FROM information_schema.PLUGINS \
                 WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO' AND PLUGIN_STATUS = 'ACTIVE'",
            )
            .map_err(|err| Error::mysql(during, err))?;
        let source = if plugin.unwrap_or(0) > 0 {
            LockSource::MetadataLockInfo
        } else if self.performance_schema()? && self.instrument_enabled()? {
            LockSource::PerformanceSchema
        } else {
            return Err(self.nothing_to_read());
        };
        SOURCES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(Arc::as_ptr(self.pool) as usize, source);
        Ok(source)
    }

    fn instrument_enabled(&mut self) -> Result<bool, Error> {
        let enabled: Option<String> = self
            .conn
            .query_first(
                "SELECT ENABLED FROM performance_schema.setup_instruments \
                 WHERE NAME = 'wait/lock/metadata/sql/mdl'",
            )
            .map_err(|err| Error::mysql("reading performance_schema.setup_instruments", err))?;
        Ok(enabled.is_some_and(|value| value.eq_ignore_ascii_case("YES")))
    }

    fn nothing_to_read(&mut self) -> Error {
        let version: String = self
            .conn
            .query_first("SELECT VERSION()")
            .ok()
            .flatten()
            .unwrap_or_default();
        let what = if version.to_ascii_lowercase().contains("mariadb") {
            format!(
                "MariaDB {version} offers no list of held locks: install the plugin once \
                 with `INSTALL SONAME 'metadata_lock_info'` (or start the server with \
                 `plugin-load-add=metadata_lock_info`); on 10.5 and later, \
                 `performance_schema=ON` with \
                 `performance-schema-instrument='wait/lock/metadata/sql/mdl=ON'` at \
                 server start works too"
            )
        } else {
            format!(
                "the server ({version}) offers no list of held locks: enable the metadata \
                 lock instrument with `UPDATE performance_schema.setup_instruments SET \
                 ENABLED = 'YES' WHERE NAME = 'wait/lock/metadata/sql/mdl'` (and \
                 `performance_schema=ON` at server start if it is off)"
            )
        };
        Error::NoLockList {
            alias: self.pool.alias().to_owned(),
            reason: format!(
                "{what}; locks can still be looked up one name at a time (lock_holder, \
                 IS_USED_LOCK)"
            ),
        }
    }

    fn list(&mut self, source: LockSource) -> Result<Vec<ServerLock>, Error> {
        let query = match source {
            LockSource::MetadataLockInfo => {
                "SELECT m.TABLE_SCHEMA, m.THREAD_ID, p.USER, p.HOST, m.LOCK_TIME_MS \
                 FROM information_schema.METADATA_LOCK_INFO m \
                 LEFT JOIN information_schema.PROCESSLIST p ON p.ID = m.THREAD_ID \
                 WHERE m.LOCK_TYPE = 'User lock'"
            }
            _ => {
                "SELECT m.OBJECT_NAME, t.PROCESSLIST_ID, t.PROCESSLIST_USER, \
                 t.PROCESSLIST_HOST, NULL \
                 FROM performance_schema.metadata_locks m \
                 JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID \
                 WHERE m.OBJECT_TYPE = 'USER LEVEL LOCK' AND m.LOCK_STATUS = 'GRANTED'"
            }
        };
        type Row = (
            Vec<u8>,
            Option<u64>,
            Option<String>,
            Option<String>,
            Option<u64>,
        );
        let rows: Vec<Row> = match self.conn.query(query) {
            Ok(rows) => rows,
            Err(err) => {
                // Uninstalled or switched off since: find it again next time.
                SOURCES
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&(Arc::as_ptr(self.pool) as usize));
                return Err(Error::mysql("listing held locks", err));
            }
        };
        let database = self.pool.database();
        Ok(rows
            .into_iter()
            .filter_map(|(name, id, user, host, held_ms)| {
                let server_name = String::from_utf8_lossy(&name).into_owned();
                let (name, encoded) = decode(database, &server_name);
                Some(ServerLock {
                    server_name,
                    name,
                    encoded,
                    // A background thread's lock has no connection id.
                    connection_id: id?,
                    user,
                    host,
                    held_for: held_ms.map(Duration::from_millis),
                    attributes: Vec::new(),
                    source,
                })
            })
            .collect())
    }

    fn is_used_lock(&mut self, server_name: &str) -> Result<Option<u64>, Error> {
        self.conn
            .exec_first::<Option<u64>, _, _>("SELECT IS_USED_LOCK(?)", (server_name,))
            .map(Option::flatten)
            .map_err(|err| Error::mysql("IS_USED_LOCK", err))
    }

    fn account(&mut self, id: u64) -> Result<(Option<String>, Option<String>), Error> {
        let row: Option<(Option<String>, Option<String>)> = self
            .conn
            .exec_first(
                "SELECT USER, HOST FROM information_schema.PROCESSLIST WHERE ID = ?",
                (id,),
            )
            .map_err(|err| Error::mysql("reading information_schema.PROCESSLIST", err))?;
        Ok(row.unwrap_or((None, None)))
    }

    fn held_for(&mut self, server_name: &str, id: u64) -> Result<Option<Duration>, Error> {
        let row: Option<Option<u64>> = self
            .conn
            .exec_first(
                "SELECT LOCK_TIME_MS FROM information_schema.METADATA_LOCK_INFO \
                 WHERE LOCK_TYPE = 'User lock' AND TABLE_SCHEMA = ? AND THREAD_ID = ?",
                (server_name, id),
            )
            .map_err(|err| Error::mysql("reading information_schema.METADATA_LOCK_INFO", err))?;
        Ok(row.flatten().map(Duration::from_millis))
    }

    /// Fills in the holders' connection attributes, when
    /// `performance_schema` is on and readable.
    fn add_attributes(&mut self, locks: &mut [ServerLock]) -> Result<(), Error> {
        if locks.is_empty() || !self.performance_schema()? {
            return Ok(());
        }
        let mut ids: Vec<u64> = locks.iter().map(|lock| lock.connection_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let list: Vec<String> = ids.iter().map(u64::to_string).collect();
        // Integers the server gave, not user input.
        let query = format!(
            "SELECT PROCESSLIST_ID, ATTR_NAME, ATTR_VALUE \
             FROM performance_schema.session_connect_attrs \
             WHERE PROCESSLIST_ID IN ({}) ORDER BY PROCESSLIST_ID, ORDINAL_POSITION",
            list.join(",")
        );
        // Attributes are a courtesy: an account that may not read the
        // table (MySQL grants no `performance_schema` access by default)
        // still gets the list, without them.
        let Ok(rows) = self.conn.query::<(u64, String, Option<String>), _>(query) else {
            return Ok(());
        };
        let mut by_id: HashMap<u64, Vec<(String, String)>> = HashMap::new();
        for (id, key, value) in rows {
            by_id
                .entry(id)
                .or_default()
                .push((key, value.unwrap_or_default()));
        }
        for lock in locks {
            if let Some(attributes) = by_id.get(&lock.connection_id) {
                lock.attributes.clone_from(attributes);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn names_are_decoded_where_the_encoding_allows() {
        let own = |s: &str| Some(s.to_owned());
        assert_eq!(decode(Some("test"), "test.job"), (own("job"), false));
        assert_eq!(decode(Some("test"), "test.a.b"), (own("a.b"), false));
        assert_eq!(decode(Some("test"), "other.job"), (None, false));
        assert_eq!(decode(Some("test"), "testx.job"), (None, false));
        assert_eq!(
            decode(Some("test"), "test.job#62a8020568ac428b"),
            (None, true)
        );
        assert_eq!(decode(None, "job"), (own("job"), false));
        assert_eq!(decode(Some(""), "job"), (own("job"), false));
        assert_eq!(decode(None, "caf_#850f7dc43910ff89"), (None, true));
    }
}
