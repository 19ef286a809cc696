//! Lock sessions: the locks a thread holds through one alias live on one
//! server connection.
//!
//! The connection is taken from the pool with the thread's first lock and
//! given back when its last lock is released. Keeping a thread's locks on
//! one connection is what lets the server see a deadlock between two
//! threads that take two locks in opposite orders (it reports error 1213 at
//! once instead of both waiting for their timeouts), and it lets us refuse
//! re-entrance without a query: the session knows what it holds.

use crate::pool::{Pool, PooledConn};
use crate::server::{self, GetLock};
use crate::Error;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

pub(crate) struct Session {
    pool: Arc<Pool>,
    state: Mutex<SessionState>,
}

#[derive(Default)]
struct SessionState {
    /// The connection, while the session holds at least one lock.
    conn: Option<PooledConn>,
    /// Held names, each with the id of the connection it was taken on. A
    /// lock whose connection is no longer `conn` is lost.
    held: HashMap<Arc<str>, u64>,
}

thread_local! {
    /// This thread's sessions, one per pool (a thread rarely uses more than
    /// one alias, so a short list beats a map).
    static SESSIONS: RefCell<Vec<Arc<Session>>> = const { RefCell::new(Vec::new()) };
}

/// The current thread's session for `pool`.
pub(crate) fn current(pool: &Arc<Pool>) -> Arc<Session> {
    SESSIONS.with(|sessions| {
        let mut sessions = sessions.borrow_mut();
        if let Some(session) = sessions.iter().find(|s| Arc::ptr_eq(&s.pool, pool)) {
            return Arc::clone(session);
        }
        let session = Arc::new(Session {
            pool: Arc::clone(pool),
            state: Mutex::new(SessionState::default()),
        });
        sessions.push(Arc::clone(&session));
        session
    })
}

/// The deadline of a wait of `timeout` starting now; `None` when the wait is
/// unlimited.
pub(crate) fn deadline(timeout: Duration) -> Option<Instant> {
    if timeout.as_secs_f64() >= server::FOREVER_SECS {
        None
    } else {
        Instant::now().checked_add(timeout)
    }
}

impl Session {
    fn state(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `name` on the session's connection, opening the session when it
    /// holds nothing yet. Returns the connection id.
    pub(crate) fn acquire(&self, name: &Arc<str>, timeout: Duration) -> Result<u64, Error> {
        let deadline = deadline(timeout);
        let mut state = self.state();
        if state.held.contains_key(name) {
            return Err(Error::Reentrant {
                name: name.to_string(),
            });
        }
        loop {
            let conn = match &mut state.conn {
                Some(conn) => conn,
                empty => empty.insert(self.pool.checkout(deadline)?),
            };
            let remaining =
                deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
            let outcome = conn.conn().get_lock(name, remaining);
            let error = match outcome {
                Ok(GetLock::Acquired) => {
                    let id = conn.id();
                    state.held.insert(Arc::clone(name), id);
                    return Ok(id);
                }
                Ok(GetLock::TimedOut) => Error::Timeout {
                    name: name.to_string(),
                    timeout,
                },
                Ok(GetLock::Null) => Error::Interrupted {
                    name: name.to_string(),
                },
                Err(err) if server::is_deadlock(&err) => Error::Deadlock {
                    name: name.to_string(),
                },
                Err(err) if server::is_connection_error(&err) => {
                    // The session is gone on the server, and with it every
                    // lock it held. When it held none and the connection had
                    // sat idle in the pool, it most likely died there (a
                    // server restart, wait_timeout): retry on another.
                    let stale = conn.reused && state.held.is_empty();
                    state.conn = None;
                    if stale {
                        continue;
                    }
                    return Err(Error::mysql("GET_LOCK", err));
                }
                Err(err) => Error::mysql("GET_LOCK", err),
            };
            self.give_back_if_unused(&mut state);
            return Err(error);
        }
    }

    /// Releases `name`, taken on connection `conn_id`. A connection whose
    /// `RELEASE_LOCK` does not answer 1 is closed, never pooled.
    pub(crate) fn release(&self, name: &str, conn_id: u64) -> Result<(), Error> {
        let mut state = self.state();
        let lost = || Error::LockLost {
            name: name.to_owned(),
        };
        if state.held.remove(name) != Some(conn_id) {
            return Err(lost());
        }
        let Some(conn) = state.conn.as_mut().filter(|c| c.id() == conn_id) else {
            return Err(lost());
        };
        match conn.conn().release_lock(name) {
            Ok(Some(1)) => {
                self.give_back_if_unused(&mut state);
                Ok(())
            }
            _ => {
                // Not ours any more, or the connection failed: close it, so
                // the server frees whatever it still holds. Other locks of
                // this session are lost with it, and their guards say so.
                state.conn = None;
                Err(lost())
            }
        }
    }

    /// `IS_USED_LOCK(name)`, on the session's connection when it has one
    /// (no checkout needed), else on a pooled connection.
    pub(crate) fn holder(&self, name: &str, timeout: Duration) -> Result<Option<u64>, Error> {
        let during = "IS_USED_LOCK";
        {
            let mut state = self.state();
            if let Some(conn) = state.conn.as_mut() {
                return conn
                    .conn()
                    .is_used_lock(name)
                    .map_err(|source| Error::mysql(during, source));
            }
        }
        let deadline = deadline(timeout);
        loop {
            let mut conn = self.pool.checkout(deadline)?;
            match conn.conn().is_used_lock(name) {
                Ok(holder) => {
                    self.pool.checkin(conn);
                    return Ok(holder);
                }
                Err(err) if conn.reused && server::is_connection_error(&err) => continue,
                Err(source) => return Err(Error::mysql(during, source)),
            }
        }
    }

    fn give_back_if_unused(&self, state: &mut SessionState) {
        if state.held.is_empty() {
            if let Some(conn) = state.conn.take() {
                self.pool.checkin(conn);
            }
        }
    }
}
