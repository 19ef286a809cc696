//! The one error type of the crate.

use std::time::Duration;

/// Everything that can go wrong when taking, checking or releasing a lock.
///
/// The enum is `#[non_exhaustive]`: match the variants you handle and keep a
/// catch-all arm. Every message says what happened, what was expected and
/// what to do; none ever contains a password.
///
/// ```
/// use mysql_lock::{Error, Lock};
/// use std::time::Duration;
///
/// fn describe(result: Result<(), Error>) -> &'static str {
///     match result {
///         Ok(()) => "done",
///         Err(Error::Timeout { .. }) => "somebody else is running the job",
///         Err(Error::Deadlock { .. }) => "lock-order inversion between workers",
///         Err(_) => "infrastructure problem",
///     }
/// }
/// assert_eq!(describe(Ok(())), "done");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `GET_LOCK` returned 0: another session held the lock for the whole
    /// timeout (with a zero timeout: at the one attempt). Returned by
    /// [`Lock::acquire`](crate::Lock::acquire) and annotated functions;
    /// never for a NULL result or a server error.
    #[error("{}", timeout_message(.name, *.timeout, *.connection_wait, .holder.as_deref()))]
    Timeout {
        /// The name as sent to the server.
        name: String,
        /// The timeout that ran out.
        timeout: Duration,
        /// The part of it spent waiting for a free pooled connection
        /// (`pool_max` connections were all holding locks) before the
        /// server was asked.
        connection_wait: Duration,
        /// Who held the lock when the wait ran out, asked of the server
        /// then (one more round trip, on this path only); `None` when it
        /// was released meanwhile or the question failed. (Boxed: it is
        /// rare, and every `Result` of the crate carries an `Error`.)
        holder: Option<Box<Holder>>,
    },

    /// The current thread already holds this lock, so taking it again would
    /// only nest (user locks are recursive on the server). Returned at once by
    /// [`Lock::acquire`](crate::Lock::acquire) and
    /// [`Lock::try_acquire`](crate::Lock::try_acquire), without a query.
    #[error(
        "lock `{name}` is already held by this thread: re-entrant locking is refused; \
         call the inner code without taking the lock again, or use a different name"
    )]
    Reentrant {
        /// The name as sent to the server.
        name: String,
    },

    /// The server found that waiting would deadlock: this session holds a lock
    /// that the holder of `name` is waiting for (MariaDB error 1213, MySQL
    /// 3058). Returned by [`Lock::acquire`](crate::Lock::acquire).
    #[error(
        "waiting for lock `{name}` would deadlock: this thread holds a lock that the \
         holder of `{name}` is waiting for; take locks in one global order"
    )]
    Deadlock {
        /// The name as sent to the server.
        name: String,
    },

    /// The lock was no longer held by this guard's connection when it was
    /// released or checked: the connection died, was killed, or was closed
    /// after an earlier failure. Work done under the lock may have overlapped
    /// with another holder. Returned by [`LockGuard::release`](crate::LockGuard::release).
    #[error(
        "lock `{name}` was lost while held: its server connection ended or no longer \
         owns it, so another worker may have run at the same time; check the server \
         and make the protected work idempotent"
    )]
    LockLost {
        /// The name as sent to the server.
        name: String,
    },

    /// `GET_LOCK` returned NULL: the wait was interrupted (`KILL QUERY`) or the
    /// server refused the request. Returned by
    /// [`Lock::acquire`](crate::Lock::acquire); never reported as a timeout.
    #[error(
        "the server answered NULL to GET_LOCK for `{name}`: the wait was killed or the \
         request refused; see the server's error log and retry"
    )]
    Interrupted {
        /// The name as sent to the server.
        name: String,
    },

    /// The server connection ended while taking the lock: a server restart,
    /// a `KILL CONNECTION`, a network failure. The lock was not taken, and
    /// any other lock the thread held on that connection is lost (its guard
    /// reports it). Returned by [`Lock::acquire`](crate::Lock::acquire).
    #[error(
        "the server connection ended while taking lock `{name}` (server restart, KILL \
         or network failure): the lock was not taken; retry when the server is back"
    )]
    Disconnected {
        /// The name as sent to the server.
        name: String,
        /// The driver's error.
        #[source]
        source: Box<mysql::Error>,
    },

    /// The server did not answer a statement in time: `GET_LOCK` within its
    /// timeout plus one second, any other within the alias's statement
    /// timeout (`read_timeout`, default 5 s). The connection was closed
    /// (and, for `GET_LOCK`, its server session killed from another
    /// connection, so that it can't be granted the lock later); any other
    /// lock the thread held on it is lost. Returned by
    /// [`Lock::acquire`](crate::Lock::acquire),
    /// [`Lock::holding_connection_id`](crate::Lock::holding_connection_id).
    #[error(
        "the server did not answer {during} for `{name}` within {waited:?}: the connection \
         was closed and the lock not taken; check the server and the network, then retry"
    )]
    Unanswered {
        /// The name as sent to the server.
        name: String,
        /// The statement.
        during: &'static str,
        /// How long the client waited for the answer.
        waited: Duration,
    },

    /// The server refuses user locks: a Galera cluster node with `wsrep_on`
    /// (error 1235). Returned by [`Lock::acquire`](crate::Lock::acquire).
    #[error(
        "the server refuses user locks (GET_LOCK) for `{name}`: {source}; a Galera cluster \
         node with wsrep_on does, so take locks on a server outside the cluster or with \
         wsrep_on=OFF for the lock sessions"
    )]
    Unsupported {
        /// The name as sent to the server.
        name: String,
        /// The driver's error.
        #[source]
        source: Box<mysql::Error>,
    },

    /// The server offers no list of held locks: neither MariaDB's
    /// `metadata_lock_info` plugin nor `performance_schema`'s metadata lock
    /// instrument. Returned by [`held_locks`](crate::held_locks) and
    /// [`held_locks_with_prefix`](crate::held_locks_with_prefix); the
    /// message says what to enable. One name can still be looked up with
    /// [`lock_holder`](crate::lock_holder).
    #[error("cannot list the locks held through alias `{alias}`: {reason}")]
    NoLockList {
        /// The alias.
        alias: String,
        /// What the server lacks and what to enable.
        reason: String,
    },

    /// No connection is registered under this alias. Returned by every
    /// operation of a [`Lock`](crate::Lock) whose alias is unknown.
    #[error(
        "no database is registered under alias `{alias}` (registered: {registered:?}); \
         call mysql_lock::register(\"{alias}\", url) at startup{}",
        if alias == crate::DEFAULT_ALIAS { " or set the DATABASE_URL environment variable" } else { "" }
    )]
    UnknownAlias {
        /// The alias that was asked for.
        alias: String,
        /// The aliases that are registered, sorted.
        registered: Vec<String>,
    },

    /// The lock name can't be used: it is empty, contains a NUL byte, or is
    /// longer than [`MAX_NAME_BYTES`](crate::MAX_NAME_BYTES). Returned by every
    /// operation of a [`Lock`](crate::Lock) with such a name.
    #[error("invalid lock name {name:?}: {reason}")]
    InvalidName {
        /// The name as given (shortened when very long).
        name: String,
        /// What is wrong with it and what is expected.
        reason: &'static str,
    },

    /// The URL or options given to [`register`](crate::register) can't be
    /// used. The message never contains the password.
    #[error("cannot register alias `{alias}`: {reason}")]
    InvalidConfig {
        /// The alias being registered.
        alias: String,
        /// What is wrong and what is expected.
        reason: String,
    },

    /// The alias is already registered with different options. Returned by
    /// [`register`](crate::register) and [`register_opts`](crate::register_opts).
    #[error(
        "alias `{alias}` is already registered with different settings; aliases are \
         set once at startup: pick another alias name or register it only once"
    )]
    AliasConflict {
        /// The alias.
        alias: String,
    },

    /// Every connection of the alias's pool was busy for the whole timeout.
    /// Returned by [`Lock::acquire`](crate::Lock::acquire) and the checking
    /// methods.
    #[error(
        "no connection of alias `{alias}` became free within {waited:?} (pool of \
         {max_size}, all holding locks); raise `pool_max` in the URL or hold fewer \
         locks at once"
    )]
    PoolExhausted {
        /// The alias.
        alias: String,
        /// How long it waited.
        waited: Duration,
        /// The pool's size.
        max_size: usize,
    },

    /// A new connection could not be opened: refused, too slow, access
    /// denied, or a TLS failure. Returned by every operation that needs a
    /// connection.
    #[error(
        "could not connect to {target} (alias `{alias}`) after {waited:?}: {reason}; \
         check that the server is running, the URL and credentials are right, and, \
         with TLS, that its certificate is trusted"
    )]
    Connect {
        /// The alias.
        alias: String,
        /// `user@host:port/db`, never the password.
        target: String,
        /// How long it tried.
        waited: Duration,
        /// What failed.
        reason: String,
        /// The driver's error, when there is one.
        #[source]
        source: Option<Box<mysql::Error>>,
    },

    /// The driver or the server reported an error. Returned by every operation
    /// that talks to the server.
    #[error("MySQL error during {during}: {source}")]
    Mysql {
        /// What the library was doing.
        during: &'static str,
        /// The driver's error.
        #[source]
        source: Box<mysql::Error>,
    },
}

/// The session holding a lock, as the server and this process know it: in
/// [`Error::Timeout`].
///
/// ```
/// # fn show(err: &mysql_lock::Error) {
/// if let mysql_lock::Error::Timeout { holder: Some(holder), .. } = err {
///     let holder: &mysql_lock::Holder = holder;
///     println!("held by connection {}", holder.connection_id);
///     if let Some(thread) = &holder.thread {
///         println!("a thread of this very process: {thread}");
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Holder {
    /// Its `CONNECTION_ID()`.
    pub connection_id: u64,
    /// The account, as `PROCESSLIST` shows it.
    pub user: Option<String>,
    /// The client's host and port, as `PROCESSLIST` shows it.
    pub host: Option<String>,
    /// When the holder is a thread of this process: which one (its name
    /// and id), and for how long it has held the lock.
    pub thread: Option<String>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connection {}", self.connection_id)?;
        match (&self.user, &self.host) {
            (Some(user), Some(host)) => write!(f, " ({user}@{host})")?,
            (None, Some(host)) => write!(f, " ({host})")?,
            _ => {}
        }
        Ok(())
    }
}

/// The message of [`Error::Timeout`]: what happened, as precisely as known,
/// and what the caller can do.
fn timeout_message(
    name: &str,
    timeout: Duration,
    connection_wait: Duration,
    holder: Option<&Holder>,
) -> String {
    let by = holder.map_or_else(|| "another session".to_owned(), Holder::to_string);
    let mut message = if timeout.is_zero() {
        format!("lock `{name}` is held by {by} (one attempt, without waiting)")
    } else {
        format!(
            "timed out after {timeout:?} waiting for lock `{name}`: {by} held it the whole time"
        )
    };
    if !connection_wait.is_zero() {
        message.push_str(&format!(
            " ({connection_wait:?} of it waiting for a free pooled connection)"
        ));
    }
    match holder.and_then(|holder| holder.thread.as_deref()) {
        Some(thread) => message.push_str(&format!(
            "; the holder is in this process: {thread}. A thread or task holding a lock \
             can't wait for it from another thread or task it started (it would wait for \
             itself): pass the work down without taking the lock again"
        )),
        None if timeout.is_zero() => {
            message.push_str("; skip this run, or try again later");
        }
        None => message.push_str("; try again later, or raise the timeout"),
    }
    message
}

impl Error {
    /// A driver error during `during` (boxed: `mysql::Error` is large, and
    /// every `Result` of the crate carries an `Error`).
    pub(crate) fn mysql(during: &'static str, source: mysql::Error) -> Self {
        Error::Mysql {
            during,
            source: Box::new(source),
        }
    }

    /// Shortens a name for messages: a 10 MB name must not become a 10 MB
    /// error message.
    pub(crate) fn display_name(name: &str) -> String {
        const MAX: usize = 80;
        if name.len() <= MAX {
            return name.to_owned();
        }
        let mut end = MAX;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes)", &name[..end], name.len())
    }
}
