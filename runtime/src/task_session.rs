//! Locks belong to tasks (feature `async`): which locks each tokio task
//! holds on each alias, and the one connection they live on.
//!
//! A task's async locks of one alias share one connection, as a thread's
//! sync locks do: the server then sees one session per task, so it
//! detects deadlocks between tasks, and a task that takes a lock it
//! already holds is told at once ([`Error::Reentrant`]) instead of the
//! server granting it twice to one session. Two tasks are two holders,
//! whatever thread runs them, and a task keeps its session when it moves
//! between worker threads: the key is tokio's task id, never a thread's.
//! Code that runs outside any task (the future of `block_on`, as
//! `#[tokio::main]` runs it) is keyed by its thread.
//!
//! The book here says which names each session holds or is taking; it is
//! read and written under one mutex, never across an `.await`. The
//! connection itself sits behind an async mutex of the session (one
//! statement at a time), and goes back to the pool when the session holds
//! nothing any more.

use crate::async_lock::Checkout;
use crate::held::HeldLock;
use crate::pool::Pool;
use crate::{Error, Holder};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Who holds a task session's locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Owner {
    /// A tokio task, wherever it runs.
    Task(tokio::task::Id),
    /// Code outside any task: the future given to `block_on` on this
    /// thread (what `#[tokio::main]` runs), on this runtime (two runtimes'
    /// `block_on` on one thread are two owners: a connection serves only
    /// the runtime that opened it).
    Thread(std::thread::ThreadId, tokio::runtime::Id),
}

impl Owner {
    /// The task running now, or this thread outside any task.
    pub(crate) fn current() -> Owner {
        match tokio::task::try_id() {
            Some(id) => Owner::Task(id),
            None => Owner::Thread(
                std::thread::current().id(),
                tokio::runtime::Handle::current().id(),
            ),
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Task(id) => write!(f, "tokio task {id}"),
            Owner::Thread(id, _) => {
                write!(f, "the future block_on runs on {id:?} (outside any task)")
            }
        }
    }
}

/// A session: one owner's locks on one alias's pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SessionKey {
    owner: Owner,
    /// The pool's address: the registry keeps each pool alive as long as
    /// a lock of it is held.
    pool: usize,
}

impl SessionKey {
    pub(crate) fn new(owner: Owner, pool: &Arc<Pool>) -> Self {
        SessionKey {
            owner,
            pool: Arc::as_ptr(pool) as usize,
        }
    }
}

/// The connection of a session: `None` until its first lock, and after a
/// failure closed it.
pub(crate) type Slot = Option<Checkout>;

/// The async mutex around a session's connection.
pub(crate) type SharedSlot = Arc<tokio::sync::Mutex<Slot>>;

/// One name of a session: being taken (`lock: None`), held, or being
/// released (its guard was released or dropped; the `RELEASE_LOCK` is on
/// its way).
struct Entry {
    id: EntryId,
    name: Arc<str>,
    lock: Option<HeldLock>,
    releasing: bool,
}

/// Which entry of a session: one acquire, from [`enter`] to [`leave`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EntryId(u64);

impl EntryId {
    fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        EntryId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

struct Session {
    slot: SharedSlot,
    entries: Vec<Entry>,
    /// The runtime whose task holds the locks: the background check runs
    /// there, on the session's own connection.
    runtime: tokio::runtime::Handle,
    /// When the session's ownership was last confirmed (or it started).
    last_checked: Instant,
}

/// Every task session of the process with a name held or being taken.
static BOOK: LazyLock<Mutex<HashMap<SessionKey, Session>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn book() -> MutexGuard<'static, HashMap<SessionKey, Session>> {
    // Every critical section leaves the map consistent.
    BOOK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts taking `name` in the session `key` (made if it has none): the
/// entry and its connection's slot, or [`Error::Reentrant`] when the
/// session holds the name or is taking it already ([`Error::Timeout`] at
/// once when it keeps it for its minimum hold time after a release, as
/// sync sessions do). A name whose guard was dropped, its release still on
/// its way, is taken again: the server counts the two grants of one
/// session, and the release on its way undoes only its own. Every `enter`
/// is followed by one [`leave`] (the acquire failed, or the lock was
/// released) or by [`granted`].
pub(crate) fn enter(
    key: SessionKey,
    name: &Arc<str>,
    timeout: Duration,
) -> Result<(EntryId, SharedSlot), Error> {
    let mut book = book();
    let session = book.entry(key).or_insert_with(|| Session {
        slot: Arc::new(tokio::sync::Mutex::new(None)),
        entries: Vec::new(),
        runtime: tokio::runtime::Handle::current(),
        last_checked: Instant::now(),
    });
    let same_name = || session.entries.iter().filter(|entry| entry.name == *name);
    let lingering = same_name().find_map(|entry| {
        entry
            .lock
            .as_ref()
            .filter(|lock| lock.is_lingering() && !lock.is_lost())
    });
    if let Some(lock) = lingering {
        // Released, but kept for its minimum hold time: busy.
        let more = lock.keep_until().map_or(Duration::ZERO, |until| {
            until.saturating_duration_since(Instant::now())
        });
        return Err(Error::Timeout {
            name: name.to_string(),
            timeout,
            connection_wait: Duration::ZERO,
            holder: Some(Box::new(Holder {
                connection_id: lock.connection_id(),
                user: None,
                host: None,
                thread: Some(format!(
                    "{} (this task), which keeps it for its minimum hold time, {more:.1?} more",
                    key.owner
                )),
            })),
        });
    }
    if same_name().any(|entry| !entry.releasing) {
        return Err(Error::Reentrant {
            name: name.to_string(),
        });
    }
    let id = EntryId::fresh();
    session.entries.push(Entry {
        id,
        name: Arc::clone(name),
        lock: None,
        releasing: false,
    });
    Ok((id, Arc::clone(&session.slot)))
}

/// The entry `id` of `key` now holds `lock`.
pub(crate) fn granted(key: SessionKey, id: EntryId, lock: &HeldLock) {
    if let Some(entry) = entry(&mut book(), key, id) {
        entry.lock = Some(lock.clone());
    }
}

/// The entry's guard was released or dropped: a new acquire of its name
/// by the same task is no longer re-entrance.
pub(crate) fn releasing(key: SessionKey, id: EntryId) {
    if let Some(entry) = entry(&mut book(), key, id) {
        entry.releasing = true;
    }
}

fn entry(
    book: &mut HashMap<SessionKey, Session>,
    key: SessionKey,
    id: EntryId,
) -> Option<&mut Entry> {
    book.get_mut(&key)?
        .entries
        .iter_mut()
        .find(|entry| entry.id == id)
}

/// The entry `id` is no longer held nor being taken. Returns true when the
/// session now holds nothing: it is then forgotten, and the caller gives
/// its connection back.
pub(crate) fn leave(key: SessionKey, id: EntryId) -> bool {
    let mut book = book();
    let Some(session) = book.get_mut(&key) else {
        return false;
    };
    session.entries.retain(|entry| entry.id != id);
    let empty = session.entries.is_empty();
    if empty {
        book.remove(&key);
    }
    empty
}

/// Whether the session holds a lock beside the entry `id` that it keeps
/// (not one being released, unless it is kept for its minimum hold time):
/// a failure of its connection would lose it, so a wait must not end the
/// connection.
pub(crate) fn holds_others(key: SessionKey, id: EntryId) -> bool {
    book().get(&key).is_some_and(|session| {
        session.entries.iter().any(|entry| {
            entry.id != id
                && entry.lock.as_ref().is_some_and(|lock| {
                    // A lock kept for its minimum hold time is kept.
                    !lock.is_lost() && (!entry.releasing || lock.is_lingering())
                })
        })
    })
}

/// A session's background check: on its runtime, for one of its locks.
pub(crate) struct DueCheck {
    pub(crate) key: SessionKey,
    pub(crate) id: EntryId,
    pub(crate) slot: SharedSlot,
    pub(crate) lock: HeldLock,
    pub(crate) runtime: tokio::runtime::Handle,
}

/// The sessions of the pool at address `pool` whose check is due (each is
/// then counted as checked now), and when the next one is due (`None`:
/// no session of the pool holds a lock). One lock per session is enough:
/// a session's locks go together when its connection ends (one released
/// meanwhile is not asked about: see [`still_kept`]).
pub(crate) fn due_checks(pool: usize, interval: Duration) -> (Vec<DueCheck>, Option<Instant>) {
    let now = Instant::now();
    let mut due = Vec::new();
    let mut next: Option<Instant> = None;
    for (key, session) in book().iter_mut().filter(|(key, _)| key.pool == pool) {
        let Some((id, lock)) = session.entries.iter().find_map(|entry| {
            entry
                .lock
                .as_ref()
                .filter(|lock| !entry.releasing && !lock.is_lost())
                .map(|lock| (entry.id, lock))
        }) else {
            continue;
        };
        let at = session.last_checked + interval;
        if at <= now {
            session.last_checked = now;
            due.push(DueCheck {
                key: *key,
                id,
                slot: Arc::clone(&session.slot),
                lock: lock.clone(),
                runtime: session.runtime.clone(),
            });
            next = Some(next.map_or(now + interval, |next| next.min(now + interval)));
        } else {
            next = Some(next.map_or(at, |next| next.min(at)));
        }
    }
    (due, next)
}

/// Whether the entry `id` of `key` still holds its lock and keeps it
/// (not released nor being released, not lost): what a background check
/// queued a moment ago may still ask about.
pub(crate) fn still_kept(key: SessionKey, id: EntryId) -> bool {
    book().get(&key).is_some_and(|session| {
        session.entries.iter().any(|entry| {
            entry.id == id
                && !entry.releasing
                && entry.lock.as_ref().is_some_and(|lock| !lock.is_lost())
        })
    })
}

/// Marks every lock the session holds lost: its connection failed or was
/// closed in the middle of a statement.
pub(crate) fn lose_all(key: SessionKey) {
    if let Some(session) = book().get(&key) {
        for lock in session
            .entries
            .iter()
            .filter_map(|entry| entry.lock.as_ref())
        {
            lock.mark_lost();
        }
    }
}

/// Which task of this process holds `server_name` on connection
/// `connection_id`, and for how long, for [`Error::Timeout`]'s holder.
pub(crate) fn holder_in_process(server_name: &str, connection_id: u64) -> Option<String> {
    book().iter().find_map(|(key, session)| {
        session.entries.iter().find_map(|entry| {
            let lock = entry.lock.as_ref()?;
            (&*entry.name == server_name
                && lock.connection_id() == connection_id
                && !lock.is_lost())
            .then(|| {
                format!(
                    "{} of this process, holding it for {:.1?}",
                    key.owner,
                    lock.held_for()
                )
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key no pool can have (the book is global: tests use their own),
    /// for this thread on the runtime entered.
    fn key(pool: usize) -> SessionKey {
        SessionKey {
            owner: Owner::current(),
            pool,
        }
    }

    /// A runtime to enter: a session records the runtime of its task.
    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
    }

    fn sessions_of(key: SessionKey) -> usize {
        book().get(&key).map_or(0, |session| session.entries.len())
    }

    #[test]
    fn a_name_is_entered_once_until_released() {
        let runtime = runtime();
        let _entered = runtime.enter();
        let key = key(1);
        let name: Arc<str> = "test.a".into();
        let second = Duration::from_secs(1);
        let (first, slot) = enter(key, &name, second).unwrap();
        let refused = enter(key, &name, second).map(|_| ());
        assert!(
            matches!(refused, Err(Error::Reentrant { .. })),
            "{refused:?}"
        );
        // Another name shares the session's connection.
        let (other, other_slot) = enter(key, &"test.b".into(), second).unwrap();
        assert!(Arc::ptr_eq(&slot, &other_slot));
        // Released (or dropped): taken again at once, as a new entry.
        releasing(key, first);
        let (again, _) = enter(key, &name, second).unwrap();
        assert_ne!(again, first);
        assert_eq!(sessions_of(key), 3);
        assert!(!leave(key, first));
        assert!(!leave(key, other));
        assert!(leave(key, again), "the last leave empties the session");
        assert_eq!(sessions_of(key), 0);
        assert!(!book().contains_key(&key));
    }

    #[test]
    fn other_owners_and_pools_are_other_sessions() {
        let runtime = runtime();
        let _entered = runtime.enter();
        let name: Arc<str> = "test.c".into();
        let second = Duration::from_secs(1);
        let (here, slot) = enter(key(2), &name, second).unwrap();
        let (there, other_slot) = enter(key(3), &name, second).unwrap();
        assert!(!Arc::ptr_eq(&slot, &other_slot));
        assert!(leave(key(2), here));
        assert!(leave(key(3), there));
    }
}
