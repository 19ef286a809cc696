//! Mutually exclusive work across threads, processes and machines, with the
//! named user locks of a MySQL or MariaDB server (`GET_LOCK`,
//! `RELEASE_LOCK`, `IS_USED_LOCK`). If your workers already share a
//! database, they already share a lock service.
//!
//! ```toml
//! [dependencies]
//! mysql-lock = "0.1"
//! ```
//!
//! # The attribute
//!
//! The main way in: [`#[mysql_lock]`](macro@mysql_lock) makes a function run
//! only while it holds a named lock, released on every way out.
//!
//! ```no_run
//! use mysql_lock::mysql_lock;
//!
//! #[mysql_lock(name = "nightly-report", timeout = 2.0)]
//! fn nightly_report(day: u32) -> Result<usize, mysql_lock::Error> {
//!     // Runs on one worker at a time, fleet-wide.
//!     Ok(day as usize)
//! }
//!
//! mysql_lock::register("default", "mysql://app:secret@db:3306/jobs")?;
//! match nightly_report(20261130) {
//!     Ok(rows) => println!("{rows} rows"),
//!     Err(mysql_lock::Error::Timeout { .. }) => println!("another worker has it"),
//!     Err(other) => return Err(other),
//! }
//! # Ok::<(), mysql_lock::Error>(())
//! ```
//!
//! The function returns a `Result` whose error type converts from
//! [`Error`]: when the lock can't be had, the body does not run and the
//! caller gets `Err(E::from(error))`; when the lock was lost while the body
//! ran, a successful result becomes [`Error::LockLost`]. Re-entrance that
//! the macro can see is a compile error; [`macro@jobs`] on a module checks
//! the calls between its functions, and the order of their locks.
//!
//! With the feature `async`, it goes on an `async fn` as well: the lock is
//! awaited without blocking the thread, and released when the body's
//! future is done (or dropped):
//!
//! ```no_run
//! # #[cfg(feature = "async")]
//! # mod with_async {
//! use mysql_lock::mysql_lock;
//!
//! #[mysql_lock(name = "nightly-report", timeout = 2.0)]
//! async fn nightly_report(day: u32) -> Result<usize, mysql_lock::Error> {
//!     Ok(day as usize)
//! }
//! # }
//! ```
//!
//! See [the attribute's docs](macro@mysql_lock#async-functions) for how it
//! combines with `#[tokio::main]` and `#[tracing::instrument]`, and why a
//! spawned task is another holder.
//!
//! # The `Lock` API
//!
//! For code that decides at run time what to lock, or holds a lock across
//! calls:
//!
//! ```no_run
//! use mysql_lock::{Error, Lock};
//! use std::time::Duration;
//!
//! let lock = Lock::new("nightly-report").timeout(Duration::from_secs(2));
//! match lock.acquire() {
//!     Ok(guard) => {
//!         // Only one holder in the whole fleet runs this at a time.
//!         guard.release()?;
//!     }
//!     Err(Error::Timeout { .. }) => println!("another worker has it"),
//!     Err(other) => return Err(other),
//! }
//! # Ok::<(), mysql_lock::Error>(())
//! ```
//!
//! # Configuration
//!
//! Databases are registered under aliases, like Django's `DATABASES`:
//! [`register`] takes a URL, [`register_opts`] ready-made driver options. A
//! lock uses [`DEFAULT_ALIAS`] unless told otherwise with
//! [`Lock::using`]; when the default alias was never registered, it comes
//! from the `DATABASE_URL` environment variable.
//!
//! TLS needs one of the features `rustls-tls-ring` (no system library),
//! `native-tls` (the system's OpenSSL) or `rustls-tls` (aws-lc); without
//! one, the crate builds no TLS code at all.
//!
//! # Lock sessions
//!
//! The locks one thread holds through one alias live on one connection,
//! taken from the alias's pool with the first lock and given back after the
//! last release. Consequences:
//!
//! - taking a lock the thread already holds is [`Error::Reentrant`] at once,
//!   also through another alias of the same running server and database;
//! - two threads taking two locks in opposite orders get [`Error::Deadlock`]
//!   from the server at once, instead of waiting for their timeouts;
//! - another thread is another holder, even one the holder started (a
//!   scoped thread, a rayon task): it waits, and when it times out because
//!   its holder is in this process, [`Error::Timeout`] says which thread;
//! - a connection goes back to the pool only when `RELEASE_LOCK` answered 1
//!   for every lock it held; otherwise it is closed, so the server frees
//!   whatever it held, and the release reports [`Error::LockLost`];
//! - after a `fork()`, the child holds none of its parent's locks (its
//!   copies of the guards are lost at once) and never uses the parent's
//!   connections: its first use of the library closes its copies of their
//!   sockets (so a parent that dies frees its locks at once) and its first
//!   lock opens its own. Fork while no other thread is inside the library:
//!   a mutex held at that moment stays locked in the child.
//!
//! An uncontended acquire + release costs two round trips (`GET_LOCK`,
//! `RELEASE_LOCK`): the pool neither pings nor resets connections.
//!
//! # Faults
//!
//! - **Every wait is bounded.** An acquire returns within its timeout plus
//!   one second whatever the server does (the answer margin, which also
//!   bounds opening a connection), with three exceptions, each bounded by
//!   the alias's statement timeout (the driver's `read_timeout`, default
//!   5 s): when the server stopped answering, killing the abandoned session
//!   first (a fresh connection and one `KILL`: up to two statement
//!   timeouts); when a wait timed out, asking who holds the lock (one
//!   statement); and when a background check is in flight on a connection
//!   that stopped answering (one statement). Every other statement waits at
//!   most the statement timeout (a release right after a lock wait of up
//!   to 14 s keeps that wait's bound, which saves two system calls per
//!   cycle), and the statement timeout never cuts a lock's own wait short.
//!   A server that does not answer is [`Error::Unanswered`].
//! - **Lost locks are noticed.** A background thread per alias confirms
//!   every [check interval](set_check_interval) (default 5 s) that each
//!   holding connection still owns its locks, so [`HeldLock::is_lost`] lags
//!   a loss by at most one interval plus a round trip. One rule for the
//!   check, [`LockGuard::verify`] and releases: a connection error, an
//!   unanswered statement or an answer that the lock is not ours closes the
//!   connection, and every lock on it is lost; any other error (a killed
//!   query) claims nothing.
//! - **No session is left behind.** When the client gives up on a
//!   statement (a `GET_LOCK` in flight included), the server session is
//!   killed from a fresh connection (outside the pool's limit) before the
//!   error is returned, so that the server never grants, or keeps, a lock
//!   nobody will release. When the server can't be reached for that
//!   either, the session ends when its wait does, or when the server
//!   notices the closed connection.
//! - **Fence what must not run twice.** A lost lock can't be un-lost: work
//!   that must never overlap can make its writes conditional on the lock,
//!   `... WHERE IS_USED_LOCK(name) = <guard.connection_id()>`, as the
//!   stress test does.
//!
//! # Tracing
//!
//! With the feature `tracing`, waits are spans and acquisitions, timeouts
//! (naming the holder), releases and losses (the background check's too)
//! are events, at target `mysql_lock`: acquisitions and releases at DEBUG,
//! timeouts at INFO, losses and failures at WARN. Without the feature
//! nothing of it is compiled.
//!
//! # Lock names
//!
//! The name sent to the server is `<database>.<name>` when the alias's URL
//! names a database (as django-mysql does), else `<name>`. MySQL folds names
//! to lower case and allows 64 characters; MariaDB is case-sensitive and
//! allows 192 bytes. So that one name locks one thing on both, the user's
//! part is sent unchanged only when it is plain (printable ASCII without
//! upper-case letters, `#` or a trailing space, and 64 bytes in all), and is
//! otherwise sent as a readable prefix, `#` and 16 hex digits of the full
//! name's SHA-256 (`Job` becomes `test.job#62a8020568ac428b`). The database
//! prefix is kept as the server names it, case included (`IfxApp.ifx-job`),
//! unless it is not printable ASCII, has a `#` or is over 46 bytes: then the
//! whole name is judged and encoded. Plain names are sent exactly as
//! django-mysql sends them, so the two exclude each other.
//!
//! An alias registered with `lock_names=exact` in its URL (or
//! [`NameScheme::Exact`]) sends every name as given, never encoded: for
//! MariaDB-only fleets sharing mixed-case, `#` or long names with
//! django-mysql. MySQL would fold such names and refuse long ones.
//!
//! # Async
//!
//! With the feature `async` (on tokio), a [`Lock`] is taken without
//! blocking the thread: `Lock::acquire_async`,
//! `Lock::try_acquire_async`, `Lock::is_held_async` and
//! `Lock::holding_connection_id_async`; the guard is an
//! `AsyncLockGuard` (`release().await`, `verify().await`, and the same
//! [`HeldLock`] view as the sync guard). Aliases are shared: one
//! [`register`] serves both.
//!
//! ```toml
//! [dependencies]
//! mysql-lock = { version = "0.1", features = ["async"] }
//! ```
//!
//! ```no_run
//! # #[cfg(feature = "async")]
//! # async fn run() -> Result<(), mysql_lock::Error> {
//! use mysql_lock::{Error, Lock};
//! use std::time::Duration;
//!
//! let lock = Lock::new("nightly-report").timeout(Duration::from_secs(2));
//! match lock.acquire_async().await {
//!     Ok(guard) => {
//!         // Only one holder in the whole fleet runs this at a time.
//!         guard.release().await?;
//!     }
//!     Err(Error::Timeout { .. }) => println!("another worker has it"),
//!     Err(other) => return Err(other),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! (The items named here exist only with the feature: see
//! `Lock::acquire_async` and `AsyncLockGuard` in a build with it.)
//!
//! What holds:
//!
//! - **The attribute** goes on an `async fn` (see
//!   [The attribute](#the-attribute)); on a sync function returning a
//!   future, it is a compile error that says so.
//! - **Locks belong to tasks.** A task's async locks of one alias live on
//!   one connection: one server session per task, as a thread's sync
//!   locks share one. So a task that takes a lock it holds gets
//!   [`Error::Reentrant`] at once, without a query; two tasks are two
//!   holders even on one thread (the second waits); the server detects a
//!   deadlock between two tasks ([`Error::Deadlock`]) as between two
//!   threads; and a task keeps its session when the runtime moves it to
//!   another worker thread. Nothing needs wrapping: the session is found
//!   from tokio's task id (code outside any task, the future `block_on`
//!   runs, is keyed by its thread). A task's statements run one at a time:
//!   a release it issues while it waits for another lock (in a `join!`)
//!   runs after that wait.
//! - **A spawned task is another holder.** A task holding `job` that
//!   spawns a child taking `job` and awaits it waits for itself until the
//!   timeout; the [`Error::Timeout`] then says the holder is a task of this
//!   process. Pass the work down instead of taking the lock again.
//! - **Its own pool.** Async locks use connections of their own, from a
//!   pool beside the alias's sync one (same options, same `pool_max`),
//!   which never pings and never resets a connection (a reset frees user
//!   locks): an uncontended acquire + release is two statements, as with
//!   sync locks, and runs in the caller's future (no task is spawned). A
//!   connection goes back to the pool only when its session holds no
//!   lock, and serves only the tokio runtime that opened it.
//! - **Cancellation leaks nothing.** The future of an acquire (or of an
//!   annotated `async fn`) may be dropped at any point
//!   (`tokio::time::timeout`, `select!`, `JoinHandle::abort`, runtime
//!   shutdown). A task holding no other lock of the alias waits in its
//!   own future: dropped before the answer, it closes its connection and
//!   has the server session ended with `KILL CONNECTION` from another
//!   connection (on a std thread with the sync driver, so it happens even
//!   while the runtime shuts down: measured, the session stops waiting a
//!   few milliseconds after the cancellation), which also frees a lock
//!   granted meanwhile. A task that holds other locks waits on a task of
//!   its own that owns the session's connection: a cancelled wait is ended
//!   with `KILL QUERY`, so the session and its other locks stay, no other
//!   statement starts on it before that kill is over, and a lock granted
//!   just as the caller gave up is released.
//! - **Dropping a guard frees the lock**: released on a task of the current
//!   runtime (after its minimum hold time, if any), or, without a runtime,
//!   by closing the connection, which frees the task's other locks of the
//!   alias too (they are then reported lost). A runtime that shuts down
//!   while a lock is held (or kept for its minimum hold time) closes the
//!   connection: measured, the lock was free 1.5 ms after the shutdown.
//! - **A task's nested locks stay in step**: a nested release, and a
//!   nested timeout's question about the holder, never run on the
//!   session's connection in a way a cancellation could cut (the release
//!   runs on a task of its own, the question on another connection).
//! - **Every wait is bounded** as for sync locks: `GET_LOCK` by its timeout
//!   plus one second, other statements by the statement timeout
//!   (`read_timeout`, default 5 s), opening a connection by the connect
//!   timeout; "forever" is sent as 10^8 seconds, which both servers take.
//! - **The background check** covers async locks as sync ones: every
//!   [check interval](check_interval), each task session holding a lock
//!   confirms on its own connection (through a task on its runtime) that
//!   it still owns it, or its locks are marked lost
//!   ([`is_lost`](HeldLock::is_lost), and `Error::LockLost` from the
//!   release, so from an annotated `async fn`).
//! - **TLS** as for sync locks: the alias's root certificate, client
//!   identity and checks, with the backend the crate's TLS feature picks.
//! - **`tracing` events** (feature `tracing`) as for sync locks: the
//!   acquire's span (entered at each poll, never across an `.await`),
//!   acquired, timed out, released, lost.
//! - **Sync locks inside a runtime.** A sync [`Lock::acquire`] (or a sync
//!   annotated function) that may wait, called on a worker thread of a
//!   multi-thread runtime, waits in `tokio::task::block_in_place`, so the
//!   worker's other tasks move to another thread instead of stalling. On
//!   a current-thread runtime nothing can take the thread's tasks over: a
//!   contended sync lock stalls every task for as long as it waits. Call
//!   sync locks there through `tokio::task::spawn_blocking`, or use the
//!   async API. There is no warning: tokio does not tell its own thread
//!   from a `spawn_blocking` one, where sync locks are right.
//!
//! What doesn't, yet:
//!
//! - [`current`] sees only sync locks (an async task's are not in a
//!   thread-local; ask the guard).
//! - A wait without limit (`Lock::FOREVER`) has no client-side bound on
//!   its answer; a server gone from the network is noticed by TCP
//!   keepalive only.
//!
//! Futures must run on a tokio runtime with timers enabled (tokio's
//! timers panic elsewhere).
//!
//! # Server caveats
//!
//! - **Statement-based replication** (`binlog_format=STATEMENT`) logs user
//!   locks with a warning, and on a replica's applier thread `GET_LOCK`
//!   returns 1 without locking: take locks on the primary.
//! - **Clusters** such as Galera: each node has its own locks; every worker
//!   must reach the same node, and a node with `wsrep_on` refuses user locks
//!   ([`Error::Unsupported`]).
//! - **Connection proxies** that multiplex sessions (ProxySQL, MaxScale in
//!   some modes) break session-bound locks unless they pin the session.
//! - **`wait_timeout`** closes an idle connection and frees its locks; the
//!   background check keeps a holder's connection busy enough.

// The only `unsafe` code is in `server.rs`, on the connection's socket:
// setting its receive timeout per statement (the driver offers one only at
// connect time), and, in a child process after a fork(), recognising and
// closing its copy of a parent's socket.
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "async")]
mod async_lock;
mod error;
mod fork;
mod held;
mod inspect;
mod linger;
mod lock;
mod monitor;
mod names;
mod pool;
mod registry;
mod server;
mod session;
#[cfg(feature = "async")]
mod task_session;
mod trace;
mod wait;

#[cfg(feature = "async")]
pub use async_lock::AsyncLockGuard;
pub use error::{Error, Holder};
pub use held::HeldLock;
pub use inspect::{
    held_locks, held_locks_with_prefix, kill_holder, lock_holder, LockSource, ServerLock,
};
pub use lock::{current, Lock, LockGuard};
pub use monitor::{check_interval, set_check_interval, DEFAULT_CHECK_INTERVAL};
pub use mysql_lock_core::{DEFAULT_ALIAS, MAX_NAME_BYTES};
pub use names::NameScheme;
pub use pool::PoolStatus;
pub use registry::{
    close_idle_connections, pool_status, register, register_opts, register_opts_with,
};

/// The driver, re-exported so that [`register_opts`] can be called without
/// a separate dependency on a matching `mysql` version.
pub use mysql;

pub use mysql_lock_macros::{jobs, mysql_lock};

// What code generated by `#[mysql_lock]` calls. Not a public API: it may
// change in any release (the macro crate is pinned to this exact version).
#[doc(hidden)]
pub mod __private;

/// The README's examples, compiled as doc tests so they stay true.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[cfg(test)]
mod thread_safety {
    /// What users rely on: a `Lock` is shared by threads, a guard may be
    /// sent to another thread (and released there), errors cross threads
    /// (`anyhow`, `std::thread::JoinHandle`).
    #[test]
    fn public_types_are_send_and_sync_where_it_matters() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<crate::Lock>();
        send::<crate::LockGuard>();
        send_sync::<crate::HeldLock>();
        send_sync::<crate::Error>();
        send_sync::<crate::PoolStatus>();
    }
}
