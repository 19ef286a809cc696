//! Lock sessions: the locks a thread holds through one alias live on one
//! server connection.
//!
//! The connection is taken from the pool with the thread's first lock and
//! given back when its last lock is released. Keeping a thread's locks on
//! one connection is what lets the server see a deadlock between two
//! threads that take two locks in opposite orders (it reports error 1213 at
//! once instead of both waiting for their timeouts), and it lets us refuse
//! re-entrance without a query: the session knows what it holds.
//!
//! A session has two parts, each behind its own mutex: the `Book` of what
//! it holds, which is never held across a statement (so that
//! [`current`](crate::current) and a look at what a thread holds never wait
//! for the network), and the `Link` to its connection, held for each
//! statement. When both are needed, the link is taken first.
//!
//! One rule for what a statement's failure means, for the background check,
//! [`verify`](crate::LockGuard::verify) and releases alike ([`Verdict`]): a
//! connection error or an unanswered statement closes the connection (the
//! server then frees what it held) and every lock on it is lost; an answer
//! that the lock is not the connection's means the same; any other error
//! (a killed query, say) claims nothing.

use crate::held::HeldLock;
use crate::monitor::Watched;
use crate::pool::{Pool, PooledConn};
use crate::server::{ConnId, Failure, GetLock, Instance, Kill};
use crate::wait::{Deadline, Wait};
use crate::{trace, Error, Holder};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

pub(crate) struct Session {
    pool: Arc<Pool>,
    /// `thread `name` (ThreadId(n))`, for messages about this holder.
    thread: String,
    book: Mutex<Book>,
    link: Mutex<Link>,
}

/// What the session holds.
#[derive(Default)]
struct Book {
    /// By server name, including locks lost with an earlier connection
    /// until their guards are gone.
    held: HashMap<Arc<str>, Entry>,
    /// The running server of the current connection, for the cross-alias
    /// re-entrance check of other sessions of the thread.
    instance: Option<Arc<Instance>>,
}

struct Entry {
    lock: HeldLock,
    /// Acquisition order within the session.
    seq: u64,
}

/// The session's connection.
#[derive(Default)]
struct Link {
    /// While the session holds at least one lock on it.
    conn: Option<PooledConn>,
    /// When the ownership of its locks was last confirmed.
    last_checked: Option<Instant>,
}

thread_local! {
    /// This thread's sessions, one per pool (a thread rarely uses more than
    /// one alias, so a short list beats a map).
    static THREAD_SESSIONS: RefCell<Vec<Arc<Session>>> = const { RefCell::new(Vec::new()) };

    /// Counts this thread's acquisitions through every alias, to tell its
    /// innermost lock.
    static ACQUISITIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn next_seq() -> u64 {
    ACQUISITIONS.with(|count| {
        count.set(count.get() + 1);
        count.get()
    })
}

/// The current thread's session for `pool`.
pub(crate) fn current(pool: &Arc<Pool>) -> Arc<Session> {
    THREAD_SESSIONS.with(|sessions| {
        let mut sessions = sessions.borrow_mut();
        if let Some(session) = sessions.iter().find(|s| Arc::ptr_eq(&s.pool, pool)) {
            return Arc::clone(session);
        }
        let thread = std::thread::current();
        let session = Arc::new(Session {
            pool: Arc::clone(pool),
            thread: format!(
                "thread `{}` ({:?})",
                thread.name().unwrap_or("unnamed"),
                thread.id()
            ),
            book: Mutex::new(Book::default()),
            link: Mutex::new(Link::default()),
        });
        let watched: Arc<dyn Watched> = Arc::clone(&session) as Arc<dyn Watched>;
        pool.monitor.watch(Arc::downgrade(&watched));
        sessions.push(Arc::clone(&session));
        session
    })
}

/// The innermost lock the current thread holds, through any alias.
pub(crate) fn innermost() -> Option<HeldLock> {
    THREAD_SESSIONS.with(|sessions| {
        sessions
            .borrow()
            .iter()
            .filter_map(|session| {
                let book = session.book();
                book.held
                    .values()
                    .filter(|entry| !entry.lock.is_lingering())
                    .max_by_key(|entry| entry.seq)
                    .map(|entry| (entry.seq, entry.lock.clone()))
            })
            .max_by_key(|(seq, _)| *seq)
            .map(|(_, lock)| lock)
    })
}

/// What a statement's outcome says about the locks of its connection.
pub(crate) enum Verdict {
    /// The connection still owns the lock.
    Owns,
    /// Gone, or not the session that took the locks (a proxy that switched
    /// sessions): close the connection; every lock on it is lost.
    Lost,
    /// No answer in time: as `Lost`, and the server session, which may
    /// still hold the locks, is killed from another connection.
    Unanswered,
    /// Not an answer about the lock (a killed query, say): claims nothing.
    Unknown(mysql::Error),
}

impl Verdict {
    /// The one rule, for an `IS_USED_LOCK` of a lock held on `conn`.
    pub(crate) fn of_check(answer: mysql::Result<Option<u64>>, conn: ConnId) -> Self {
        match answer {
            Ok(Some(holder)) if holder == conn.server => Verdict::Owns,
            Ok(_) => Verdict::Lost,
            Err(err) => match Failure::of(&err) {
                Failure::Unanswered => Verdict::Unanswered,
                Failure::Connection => Verdict::Lost,
                _ => Verdict::Unknown(err),
            },
        }
    }
}

impl Book {
    /// Whether a lock listed is on `conn`: then the connection must stay.
    fn uses(&self, conn: ConnId) -> bool {
        self.held.values().any(|entry| entry.lock.conn() == conn)
    }

    /// Marks every lock on `conn` lost; returns them.
    fn mark_lost_on(&self, conn: ConnId) -> Vec<HeldLock> {
        let lost: Vec<HeldLock> = self
            .held
            .values()
            .filter(|entry| entry.lock.conn() == conn && !entry.lock.is_lost())
            .map(|entry| entry.lock.clone())
            .collect();
        for lock in &lost {
            lock.mark_lost();
        }
        lost
    }
}

impl Session {
    fn book(&self) -> MutexGuard<'_, Book> {
        // A panic elsewhere can't leave the book inconsistent: every
        // critical section is an insert, a remove or a flag.
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The link, after forgetting a connection inherited from a parent
    /// process (`fork()`): it is the parent's, and so are its locks.
    fn link(&self) -> MutexGuard<'_, Link> {
        let link = self.link.lock();
        self.checked(link)
    }

    /// The link if it is free now (`None` when a statement is in flight).
    fn try_link(&self) -> Option<MutexGuard<'_, Link>> {
        match self.link.try_lock() {
            Ok(link) => Some(self.checked(Ok(link))),
            Err(TryLockError::Poisoned(poisoned)) => Some(self.checked(Err(poisoned))),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// The link, after forgetting a connection inherited from a parent
    /// process, and after abandoning one whose statement a panic cut short
    /// (a poisoned link: the connection may be out of step with its
    /// answers, and its session is killed).
    fn checked<'a>(
        &self,
        link: Result<MutexGuard<'a, Link>, PoisonError<MutexGuard<'a, Link>>>,
    ) -> MutexGuard<'a, Link> {
        let mut link = match link {
            Ok(link) => link,
            Err(poisoned) => {
                let mut link = poisoned.into_inner();
                self.abandon(&mut link);
                self.link.clear_poison();
                link
            }
        };
        if link.conn.as_ref().is_some_and(|conn| !conn.get().is_ours()) {
            self.close(&mut link);
        }
        link
    }

    /// Closes the connection (dropping it sends `COM_QUIT`, so the server
    /// frees whatever it held; a parent's is forgotten instead), and marks
    /// every lock on it lost.
    fn close(&self, link: &mut Link) -> Vec<HeldLock> {
        match link.conn.take() {
            Some(conn) => self.book().mark_lost_on(conn.id()),
            None => Vec::new(),
        }
    }

    /// Closes a connection whose server did not answer in time, after
    /// killing its server session from another connection: that session
    /// may still hold locks (or wait for one), and across a broken network
    /// path the server would keep them until its `wait_timeout`. Best
    /// effort, bounded by the statement timeout: when the server can't be
    /// reached either, its session ends when the server notices.
    fn abandon(&self, link: &mut Link) -> Vec<HeldLock> {
        if let Some(conn) = link.conn.as_ref() {
            let (id, instance) = (conn.id(), Arc::clone(conn.get().instance()));
            let lost = self.close(link);
            let _ = self.pool.kill(id, &instance, Kill::Connection);
            lost
        } else {
            Vec::new()
        }
    }

    /// Gives the connection back when no lock listed is on it (locks lost
    /// with an earlier connection may still be listed).
    fn give_back_if_unused(&self, link: &mut Link) {
        let unused = link
            .conn
            .as_ref()
            .is_some_and(|conn| !self.book().uses(conn.id()));
        if unused {
            if let Some(conn) = link.conn.take() {
                self.pool.checkin(conn);
            }
        }
    }

    /// Takes `lock` (`server_name`, given as `name` through `alias`) on the
    /// session's connection, opening the session when it holds nothing yet.
    pub(crate) fn acquire(
        &self,
        name: &Arc<str>,
        server_name: &Arc<str>,
        alias: &Arc<str>,
        timeout: Duration,
        min_hold: Duration,
        describe_holder: bool,
    ) -> Result<HeldLock, Error> {
        // The link first: in a child process after a fork(), it forgets the
        // parent's connection and marks the parent's locks lost.
        let mut link = self.link();
        let held_already = self
            .book()
            .held
            .get(server_name)
            .filter(|entry| !entry.lock.is_lost())
            .map(|entry| entry.lock.clone());
        if let Some(held) = held_already {
            if held.is_lingering() {
                // Released, but kept for its minimum hold time: busy.
                return Err(Error::Timeout {
                    name: server_name.to_string(),
                    timeout,
                    connection_wait: Duration::ZERO,
                    holder: Some(Box::new(Holder {
                        connection_id: held.connection_id(),
                        user: None,
                        host: None,
                        thread: Some(format!(
                            "{} (this thread), which keeps it for its minimum hold time, \
                             {:.1?} more",
                            self.thread,
                            held.keep_until()
                                .map_or(Duration::ZERO, |until| until - Instant::now())
                        )),
                    })),
                });
            }
            return Err(Error::Reentrant {
                name: server_name.to_string(),
            });
        }
        let started = Instant::now();
        let deadline = Wait::from_timeout(timeout).deadline_from(started);
        // A connection opened by this call is not retried: a server that
        // fails fresh connections would make that an endless loop.
        let mut opened_now = false;
        let mut connection_wait = Duration::ZERO;
        loop {
            if link.conn.is_none() {
                // An idle pooled connection, at once; else wait for one (or
                // open one) without holding the link: a guard of this
                // session released on another thread must not wait for it
                // (nothing it could touch is held now).
                let fresh = match self.pool.take_idle() {
                    Some(idle) => idle,
                    None => {
                        drop(link);
                        let fresh = self.pool.checkout(deadline.instant())?;
                        link = self.link();
                        fresh
                    }
                };
                connection_wait = fresh.waited;
                opened_now = !fresh.reused;
                link.conn = Some(fresh);
                self.pool.monitor.ensure_running();
            }
            let conn = link
                .conn
                .as_mut()
                .expect("the session has a connection now");
            if let Err(reentrant) =
                self.refuse_if_held_through_another_alias(server_name, conn.get().instance())
            {
                self.give_back_if_unused(&mut link);
                return Err(reentrant);
            }
            let conn = link
                .conn
                .as_mut()
                .expect("the session has a connection now");
            let wait = deadline.remaining();
            let id = conn.id();
            let error = match conn.conn().get_lock(server_name, wait) {
                Ok(GetLock::Acquired) => {
                    let lock = HeldLock::new(
                        Arc::clone(name),
                        Arc::clone(server_name),
                        Arc::clone(alias),
                        id,
                        min_hold,
                    );
                    let mut book = self.book();
                    // For the cross-alias check of this thread's other
                    // sessions: the server this session's locks are on.
                    let instance = conn.get().instance();
                    if !book
                        .instance
                        .as_ref()
                        .is_some_and(|known| Arc::ptr_eq(known, instance))
                    {
                        book.instance = Some(Arc::clone(instance));
                    }
                    if !book.uses(id) {
                        link.last_checked = Some(Instant::now());
                    }
                    let seq = next_seq();
                    book.held.insert(
                        Arc::clone(server_name),
                        Entry {
                            lock: lock.clone(),
                            seq,
                        },
                    );
                    return Ok(lock);
                }
                Ok(GetLock::TimedOut) => Error::Timeout {
                    name: server_name.to_string(),
                    timeout,
                    connection_wait,
                    holder: if describe_holder {
                        self.describe_holder(&mut link, server_name)
                    } else {
                        None
                    },
                },
                Ok(GetLock::Null) => Error::Interrupted {
                    name: server_name.to_string(),
                },
                Err(err) => {
                    let name = server_name.to_string();
                    match Failure::of(&err) {
                        Failure::Unanswered => {
                            // The server may still be waiting in GET_LOCK, and
                            // grant the lock later to a session nobody will
                            // release: end that session first.
                            self.abandon(&mut link);
                            return Err(Error::Unanswered {
                                name,
                                during: "GET_LOCK",
                                waited: started.elapsed(),
                            });
                        }
                        Failure::Connection => {
                            // The session is gone on the server, and with it
                            // every lock it held. When it held none and the
                            // connection had sat idle, it most likely died
                            // idle (a server restart, wait_timeout): retry on
                            // another.
                            let stale = !opened_now && !self.book().uses(id);
                            self.close(&mut link);
                            if stale {
                                continue;
                            }
                            return Err(Error::Disconnected {
                                name,
                                source: Box::new(err),
                            });
                        }
                        failure => failure.get_lock_error(name, err),
                    }
                }
            };
            self.give_back_if_unused(&mut link);
            return Err(error);
        }
    }

    /// Two aliases may reach the same server and database: a lock this
    /// thread holds through another alias is the same lock, and waiting
    /// for it would be waiting for itself.
    fn refuse_if_held_through_another_alias(
        &self,
        server_name: &Arc<str>,
        instance: &Instance,
    ) -> Result<(), Error> {
        THREAD_SESSIONS.with(|sessions| {
            let sessions = sessions.borrow();
            let held_elsewhere = sessions
                .iter()
                .filter(|other| !Arc::ptr_eq(&other.pool, &self.pool))
                .any(|other| {
                    let book = other.book();
                    book.held.contains_key(server_name)
                        && book
                            .instance
                            .as_ref()
                            .is_some_and(|other| other.same_as(instance))
                });
            if held_elsewhere {
                Err(Error::Reentrant {
                    name: server_name.to_string(),
                })
            } else {
                Ok(())
            }
        })
    }

    /// Who holds `server_name`, asked when a wait timed out (one round
    /// trip), and which thread when it is this process.
    fn describe_holder(&self, link: &mut Link, server_name: &str) -> Option<Box<Holder>> {
        let conn = link.conn.as_mut()?;
        let mut holder = match conn.conn().describe_holder(server_name) {
            Ok(holder) => holder?,
            Err(err) => {
                // The connection may be out of step or gone: the one rule.
                match Failure::of(&err) {
                    Failure::Unanswered => drop(self.abandon(link)),
                    Failure::Connection => drop(self.close(link)),
                    _ => {}
                }
                return None;
            }
        };
        let me: *const Session = self;
        holder.thread = self
            .pool
            .monitor
            .sessions()
            .iter()
            .filter(|other| !std::ptr::addr_eq(Arc::as_ptr(other), me))
            .find_map(|other| other.holds(server_name, holder.connection_id));
        Some(Box::new(holder))
    }

    /// Releases `lock`. A connection whose `RELEASE_LOCK` does not answer 1
    /// is closed, never pooled.
    pub(crate) fn release(&self, lock: &HeldLock) -> Result<(), Error> {
        self.release_on(self.link(), lock)
    }

    /// [`release`](Session::release) when the link is free now; `None`
    /// when a statement is in flight on it (the owning thread may wait in
    /// `GET_LOCK` for a long time): for the thread of minimum hold times,
    /// which must not wait for one session while others' are due.
    pub(crate) fn try_release(&self, lock: &HeldLock) -> Option<Result<(), Error>> {
        Some(self.release_on(self.try_link()?, lock))
    }

    fn release_on(&self, mut link: MutexGuard<'_, Link>, lock: &HeldLock) -> Result<(), Error> {
        // Whether it is listed, and whether another lock listed still needs
        // its connection: one look at the book.
        let (listed, still_used) = {
            let mut book = self.book();
            let listed = book
                .held
                .get(lock.server_name())
                .is_some_and(|entry| entry.lock.conn() == lock.conn());
            if listed {
                book.held.remove(lock.server_name());
            }
            (listed, book.uses(lock.conn()))
        };
        let on_link = link.conn.as_ref().map(PooledConn::id) == Some(lock.conn());
        if !listed || !on_link {
            // Its connection is gone; a newer one may hold nothing now, but
            // is never touched on this lock's behalf.
            self.give_back_if_unused(&mut link);
            return Err(lock.lost_error());
        }
        let conn = link.conn.as_mut().expect("checked above");
        let answer = conn.conn().release_lock(lock.server_name());
        if matches!(answer, Ok(Some(1))) && !lock.is_lost() {
            if !still_used {
                if let Some(conn) = link.conn.take() {
                    self.pool.checkin(conn);
                }
            }
            return Ok(());
        }
        // Not ours any more (or known lost), or the connection failed:
        // close it, so the server frees whatever it still holds. Other locks
        // of this session are lost with it, and their guards say so.
        lock.mark_lost();
        match answer {
            Err(err) => match Failure::of(&err) {
                Failure::Unanswered => {
                    self.abandon(&mut link);
                    Err(lock.lost_error())
                }
                Failure::Connection => {
                    self.close(&mut link);
                    Err(lock.lost_error())
                }
                // Not an answer about the lock (a killed RELEASE_LOCK): the
                // connection is closed all the same, which frees the lock,
                // and the error says what happened.
                _ => {
                    self.close(&mut link);
                    Err(Error::mysql("RELEASE_LOCK", err))
                }
            },
            Ok(_) => {
                self.close(&mut link);
                Err(lock.lost_error())
            }
        }
    }

    /// Confirms with the server that `lock`'s connection still owns it
    /// (one round trip), by the session's one rule.
    pub(crate) fn verify(&self, lock: &HeldLock) -> Result<(), Error> {
        let mut link = self.link();
        let Some(conn) = link.conn.as_mut().filter(|conn| conn.id() == lock.conn()) else {
            lock.mark_lost();
            return Err(lock.lost_error());
        };
        let answer = conn.conn().is_used_lock(lock.server_name());
        match Verdict::of_check(answer, lock.conn()) {
            Verdict::Owns => Ok(()),
            Verdict::Lost => {
                lock.mark_lost();
                self.close(&mut link);
                Err(lock.lost_error())
            }
            Verdict::Unanswered => {
                lock.mark_lost();
                self.abandon(&mut link);
                Err(lock.lost_error())
            }
            Verdict::Unknown(err) => Err(Error::mysql("IS_USED_LOCK", err)),
        }
    }

    /// The live lock this session holds as `server_name` on `connection_id`,
    /// described: its thread, and for how long.
    pub(crate) fn holds(&self, server_name: &str, connection_id: u64) -> Option<String> {
        let book = self.book();
        let entry = book.held.get(server_name)?;
        (entry.lock.connection_id() == connection_id && !entry.lock.is_lost()).then(|| {
            format!(
                "{}, holding it for {:.1?}",
                self.thread,
                entry.lock.held_for()
            )
        })
    }

    /// The background check: when the session holds locks and was not
    /// checked for `interval`, confirm that its connection still owns one
    /// of them. One is enough: a session's locks go only when the session
    /// ends (this crate never resets a connection), so a session that still
    /// owns one lock owns them all. Skips a session whose connection is
    /// busy (a statement in flight is bounded, and fails if the connection
    /// died). Returns when the session is next due, or `None` when it holds
    /// nothing.
    pub(crate) fn check_if_due(&self, interval: Duration) -> Option<Instant> {
        let Some(mut link) = self.try_link() else {
            return Some(Instant::now() + (interval / 4).min(Duration::from_secs(1)));
        };
        let conn = link.conn.as_mut()?;
        let id = conn.id();
        let due = link.last_checked.map_or(Instant::now(), |at| at + interval);
        if due > Instant::now() {
            return Some(due);
        }
        let name = {
            let book = self.book();
            let entry = book.held.values().find(|entry| entry.lock.conn() == id)?;
            Arc::clone(entry.lock.server_name_arc())
        };
        let conn = link.conn.as_mut().expect("checked above");
        let answer = conn.conn().is_used_lock(&name);
        let lost = match Verdict::of_check(answer, id) {
            Verdict::Owns => {
                link.last_checked = Some(Instant::now());
                Vec::new()
            }
            // No answer about the lock (a killed query, say): ownership is
            // not confirmed, so the check is tried again soon.
            Verdict::Unknown(_) => {
                return Some(Instant::now() + (interval / 4).min(Duration::from_secs(1)));
            }
            Verdict::Lost => self.close(&mut link),
            Verdict::Unanswered => self.abandon(&mut link),
        };
        for lock in &lost {
            trace::lost_by_check(lock);
        }
        link.last_checked.map(|at| at + interval)
    }

    /// `IS_USED_LOCK(name)`, on the session's connection when it has one
    /// (no checkout needed), else on a pooled connection.
    pub(crate) fn holder(
        &self,
        server_name: &str,
        timeout: Duration,
    ) -> Result<Option<u64>, Error> {
        let during = "IS_USED_LOCK";
        let unanswered = |started: Instant| Error::Unanswered {
            name: server_name.to_owned(),
            during,
            waited: started.elapsed(),
        };
        let started = Instant::now();
        {
            let mut link = self.link();
            if let Some(conn) = link.conn.as_mut() {
                return match conn.conn().is_used_lock(server_name) {
                    Ok(holder) => Ok(holder),
                    Err(err) => {
                        let failure = Failure::of(&err);
                        match failure {
                            Failure::Unanswered => drop(self.abandon(&mut link)),
                            Failure::Connection => drop(self.close(&mut link)),
                            _ => {}
                        }
                        Err(if failure == Failure::Unanswered {
                            unanswered(started)
                        } else {
                            Error::mysql(during, err)
                        })
                    }
                };
            }
        }
        let deadline: Deadline = Wait::from_timeout(timeout).deadline();
        loop {
            let mut conn = self.pool.checkout(deadline.instant())?;
            match conn.conn().is_used_lock(server_name) {
                Ok(holder) => {
                    self.pool.checkin(conn);
                    return Ok(holder);
                }
                Err(err) => match Failure::of(&err) {
                    Failure::Unanswered => return Err(unanswered(started)),
                    Failure::Connection if conn.reused => continue,
                    _ => return Err(Error::mysql(during, err)),
                },
            }
        }
    }
}

/// The monitor sees a session only through this.
impl Watched for Session {
    fn check_if_due(&self, interval: Duration) -> Option<Instant> {
        Session::check_if_due(self, interval)
    }

    fn holds(&self, server_name: &str, connection_id: u64) -> Option<String> {
        Session::holds(self, server_name, connection_id)
    }
}
