//! Minimum hold times (ShedLock's `lockAtLeastFor`): a lock released
//! before its [`min_hold`](crate::Lock::min_hold) has passed is kept until
//! then and released by a background thread, so that a job scheduled on
//! several machines with skewed clocks runs once per period. The caller is
//! not held up; a process that exits meanwhile frees the lock anyway (the
//! server ends its sessions). While the thread that took the lock waits in
//! `GET_LOCK` for another lock on the same connection, the release waits for
//! that wait to end (one connection runs one statement at a time).

use crate::held::HeldLock;
use crate::session::Session;
use crate::trace;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How soon a release is tried again when its session's connection is busy.
const RETRY: Duration = Duration::from_millis(10);

/// A release to make later.
struct Due {
    at: Instant,
    seq: u64,
    session: Arc<Session>,
    lock: HeldLock,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    due: BinaryHeap<Reverse<Due>>,
    seq: u64,
    /// The process generation whose thread serves the queue (none yet, or
    /// a parent's before a `fork()`).
    served_by: Option<u64>,
}

static QUEUE: Mutex<Queue> = Mutex::new(Queue {
    due: BinaryHeap::new(),
    seq: 0,
    served_by: None,
});
static WAKE: Condvar = Condvar::new();

/// Releases `lock` of `session` at `at`.
pub(crate) fn release_at(at: Instant, session: Arc<Session>, lock: HeldLock) {
    let mut queue = QUEUE.lock().unwrap_or_else(PoisonError::into_inner);
    let generation = crate::fork::generation();
    if queue.served_by != Some(generation) {
        // A parent's entries are not this process's locks.
        queue.due.clear();
        let started = thread::Builder::new()
            .name("mysql-lock-min-hold".into())
            .spawn(serve);
        if started.is_err() {
            // Without the thread, release now rather than never.
            drop(queue);
            let result = session.release(&lock);
            trace::released(&lock, &result);
            return;
        }
        queue.served_by = Some(generation);
    }
    queue.seq += 1;
    let seq = queue.seq;
    queue.due.push(Reverse(Due {
        at,
        seq,
        session,
        lock,
    }));
    WAKE.notify_one();
}

fn serve() {
    let mut queue = QUEUE.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let now = Instant::now();
        match queue.due.peek() {
            Some(Reverse(next)) if next.at <= now => {
                let Reverse(mut due) = queue.due.pop().expect("peeked");
                drop(queue);
                // Never wait for one session (its thread may be inside a
                // long GET_LOCK) while other releases are due: try again a
                // moment later. A panic in a release must not end the
                // thread, or no later release would happen.
                let released =
                    panic::catch_unwind(AssertUnwindSafe(|| due.session.try_release(&due.lock)));
                queue = QUEUE.lock().unwrap_or_else(PoisonError::into_inner);
                match released {
                    Ok(Some(result)) => trace::released(&due.lock, &result),
                    Ok(None) => {
                        due.at = now + RETRY;
                        queue.due.push(Reverse(due));
                    }
                    Err(_) => {}
                }
            }
            Some(Reverse(next)) => {
                let wait = next.at - now;
                queue = WAKE
                    .wait_timeout(queue, wait)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            None => {
                queue = WAKE.wait(queue).unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}
