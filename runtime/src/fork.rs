//! Telling a child process after `fork()` from its parent, cheaply: a
//! generation counter that a `pthread_atfork` handler bumps in every child.
//! Comparing it is an atomic load, where asking for the process id is a
//! system call, and it is asked on every lock and release.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static REGISTERED: Once = Once::new();

/// This process's generation: different in a child than in its parent.
/// Whatever was made with another generation (a connection, a held lock,
/// a background thread) belongs to a parent process.
pub(crate) fn generation() -> u64 {
    REGISTERED.call_once(register);
    GENERATION.load(Ordering::Acquire)
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn register() {
    extern "C" fn in_child() {
        // Async-signal-safe: an atomic increment, nothing else.
        GENERATION.fetch_add(1, Ordering::AcqRel);
    }
    // SAFETY: registers a handler (for children only) that touches nothing
    // but an atomic; it is never unregistered, and `in_child` lives as long
    // as the program.
    let result = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
    // Without the handler (out of memory), a child could use its parent's
    // connections: refuse to go on rather than risk it.
    assert_eq!(result, 0, "pthread_atfork failed: {result}");
}

#[cfg(not(unix))]
fn register() {}
