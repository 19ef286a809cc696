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
use crate::{monitor, Error};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

pub(crate) struct Session {
    pool: Arc<Pool>,
    state: Mutex<SessionState>,
}

#[derive(Default)]
struct SessionState {
    /// The connection, while the session holds at least one lock.
    conn: Option<PooledConn>,
    /// What the session holds, by server name, including locks lost with
    /// an earlier connection until their guards are gone.
    held: HashMap<Arc<str>, Held>,
    /// How many of `held` were taken on `conn`: the connection goes back
    /// to the pool when this drops to zero.
    live: usize,
    /// Counts acquisitions, to tell the innermost lock.
    acquisitions: u64,
    /// When the ownership of the held locks was last confirmed.
    last_checked: Option<Instant>,
}

/// One held lock.
struct Held {
    /// The connection it was taken on: when that is no longer the session's
    /// connection, the lock is gone.
    conn_id: u64,
    /// Set when the lock is known to be lost; shared with its guard.
    lost: Arc<AtomicBool>,
    /// Acquisition order within the session.
    seq: u64,
}

/// What a guard keeps of its lock.
pub(crate) struct Ticket {
    pub(crate) conn_id: u64,
    pub(crate) lost: Arc<AtomicBool>,
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
        monitor::watch(&session);
        sessions.push(Arc::clone(&session));
        session
    })
}

/// The innermost lock the current thread holds (through any alias):
/// `(name, connection id, lost flag)`.
pub(crate) fn innermost() -> Option<(Arc<str>, u64, Arc<AtomicBool>)> {
    SESSIONS.with(|sessions| {
        sessions
            .borrow()
            .iter()
            .filter_map(|session| {
                let state = session.state();
                state
                    .held
                    .iter()
                    .max_by_key(|(_, held)| held.seq)
                    .map(|(name, held)| {
                        (
                            held.seq,
                            (Arc::clone(name), held.conn_id, Arc::clone(&held.lost)),
                        )
                    })
            })
            .max_by_key(|(seq, _)| *seq)
            .map(|(_, found)| found)
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

impl SessionState {
    /// Forgets the connection: dropping it closes it, so the server frees
    /// whatever it held, and every lock of the session is lost.
    fn close_connection(&mut self) {
        self.conn = None;
        self.live = 0;
        for held in self.held.values() {
            held.lost.store(true, Ordering::Release);
        }
    }
}

impl Session {
    fn state(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `name` on the session's connection, opening the session when it
    /// holds nothing yet.
    pub(crate) fn acquire(&self, name: &Arc<str>, timeout: Duration) -> Result<Ticket, Error> {
        let deadline = deadline(timeout);
        let mut state = self.state();
        if state.held.contains_key(name) {
            return Err(Error::Reentrant {
                name: name.to_string(),
            });
        }
        // A connection opened by this call is not retried: a server that
        // fails fresh connections would make that an endless loop.
        let mut opened_now = false;
        loop {
            if state.conn.is_none() {
                // Wait for a pooled connection without holding the session:
                // a guard of this session released on another thread must
                // not wait for it (nothing it could touch is held now).
                drop(state);
                let fresh = self.pool.checkout(deadline)?;
                opened_now = !fresh.reused;
                state = self.state();
                if state.conn.is_none() {
                    state.conn = Some(fresh);
                } else {
                    self.pool.checkin(fresh);
                }
            }
            let conn = state
                .conn
                .as_mut()
                .expect("the session has a connection now");
            let remaining =
                deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
            let error = match conn.conn().get_lock(name, remaining) {
                Ok(GetLock::Acquired) => {
                    let conn_id = conn.id();
                    let lost = Arc::new(AtomicBool::new(false));
                    state.acquisitions += 1;
                    if state.live == 0 {
                        state.last_checked = Some(Instant::now());
                    }
                    let seq = state.acquisitions;
                    let held = Held {
                        conn_id,
                        lost: Arc::clone(&lost),
                        seq,
                    };
                    state.held.insert(Arc::clone(name), held);
                    state.live += 1;
                    return Ok(Ticket { conn_id, lost });
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
                    // sat idle, it most likely died idle (a server restart,
                    // wait_timeout): retry on another.
                    let stale = state.live == 0 && !opened_now;
                    state.close_connection();
                    if stale {
                        continue;
                    }
                    return Err(Error::Disconnected {
                        name: name.to_string(),
                        source: Box::new(err),
                    });
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
        let Some(held) = state.held.remove(name).filter(|h| h.conn_id == conn_id) else {
            self.give_back_if_unused(&mut state);
            return Err(lost());
        };
        if state.conn.as_ref().map(PooledConn::id) != Some(conn_id) {
            // Its connection is gone; a newer one may hold nothing now.
            self.give_back_if_unused(&mut state);
            return Err(lost());
        }
        state.live -= 1;
        let conn = state.conn.as_mut().expect("checked above");
        match conn.conn().release_lock(name) {
            Ok(Some(1)) if !held.lost.load(Ordering::Acquire) => {
                self.give_back_if_unused(&mut state);
                Ok(())
            }
            _ => {
                // Not ours any more (or known lost), or the connection
                // failed: close it, so the server frees whatever it still
                // holds. Other locks of this session are lost with it, and
                // their guards say so.
                state.close_connection();
                Err(lost())
            }
        }
    }

    /// Confirms with the server that the session's connection still owns
    /// `name` (one round trip), marking it lost when it doesn't.
    pub(crate) fn verify(&self, name: &str, conn_id: u64) -> Result<(), Error> {
        let mut state = self.state();
        let state = &mut *state;
        if let (Some(held), Some(conn)) = (state.held.get(name), state.conn.as_mut()) {
            if held.conn_id == conn_id && conn.id() == conn_id {
                match conn.conn().is_used_lock(name) {
                    Ok(Some(holder)) if holder == conn_id => return Ok(()),
                    Ok(_) => held.lost.store(true, Ordering::Release),
                    Err(err) if server::is_connection_error(&err) => state.close_connection(),
                    // Not an answer about the lock (a killed query, say):
                    // say so, and claim no loss.
                    Err(err) => return Err(Error::mysql("IS_USED_LOCK", err)),
                }
            }
        }
        if let Some(held) = state.held.get(name) {
            held.lost.store(true, Ordering::Release);
        }
        Err(Error::LockLost {
            name: name.to_owned(),
        })
    }

    /// The background check: when the session holds locks and was not
    /// checked for `interval`, confirm that its connection still owns one
    /// of them. One is enough: a session's locks go only when the session
    /// ends (this crate never resets a connection), so a session that still
    /// owns one lock owns them all. This traffic also keeps the connection
    /// from being closed by `wait_timeout` while a holder is idle. Skips a
    /// session that is busy (a statement in flight proves it alive).
    pub(crate) fn check_if_due(&self, interval: Duration) {
        let mut state = match self.state.try_lock() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        let due = state
            .last_checked
            .is_some_and(|at| at.elapsed() >= interval);
        if !due {
            return;
        }
        state.last_checked = Some(Instant::now());
        let state = &mut *state;
        let Some(conn) = state.conn.as_mut() else {
            return;
        };
        let conn_id = conn.id();
        let Some(name) = state
            .held
            .iter()
            .find(|(_, held)| held.conn_id == conn_id)
            .map(|(name, _)| Arc::clone(name))
        else {
            return;
        };
        match conn.conn().is_used_lock(&name) {
            Ok(Some(holder)) if holder == conn_id => {}
            // Dead, or not the session that took the locks (a proxy that
            // switched sessions): none of its locks can be trusted.
            _ => state.close_connection(),
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

    /// Gives the connection back when no lock listed is on it (locks lost
    /// with an earlier connection may still be listed).
    fn give_back_if_unused(&self, state: &mut SessionState) {
        if state.live == 0 {
            if let Some(conn) = state.conn.take() {
                self.pool.checkin(conn);
            }
        }
    }
}
