//! The `#[mysql_lock]` and `#[jobs]` attributes. Use them through the
//! `mysql-lock` crate, which re-exports them: `use mysql_lock::mysql_lock;`,
//! `#[mysql_lock::jobs]`.

#![forbid(unsafe_code)]

// How it is built, parse → validate → expand:
//
// - `args`: the arguments, parsed and checked; `item`: the annotated
//   function, with its body kept as tokens; `validate`: what the function
//   must be; `expand`: the code generated;
// - `locks`: which locks are the same lock, and the attribute's names;
//   `facts`: what a function does that matters for nesting, found by the
//   walk in `scan` (with `scopes` for what names mean where it walks, and
//   `lock_chain` for the library's `Lock::new(..)...acquire()`); `graph`:
//   the calls between functions, and the locks taken again or in both
//   orders;
// - `nesting`: re-entrance within one annotated function; `jobs`:
//   `#[jobs]`, re-entrance and lock order across a module;
// - `errors`: every mistake collected, to report them all at once;
//   `syntax`: small questions about syn's trees.

mod args;
mod errors;
mod expand;
mod facts;
mod graph;
mod item;
mod jobs;
mod lock_chain;
mod locks;
mod nesting;
mod scan;
mod scopes;
mod syntax;
mod template;
mod validate;

use proc_macro::TokenStream;

/// Makes a function mutually exclusive across threads, processes and
/// machines: it runs only while holding a named MySQL/MariaDB user lock
/// (`GET_LOCK`), which is released when it returns.
///
/// ```no_run
/// use mysql_lock::mysql_lock;
///
/// # #[derive(Debug)] struct Summary;
/// # fn compute(day: u32) -> anyhow::Result<Summary> { Ok(Summary) }
/// #[mysql_lock(name = "nightly-report", timeout = 2)]
/// fn nightly_report(day: u32) -> anyhow::Result<Summary> {
///     // Only one caller in the whole fleet runs this at a time.
///     let summary = compute(day)?;
///     Ok(summary)
/// }
///
/// fn main() -> anyhow::Result<()> {
///     mysql_lock::register("default", "mysql://root@127.0.0.1:3306/test")?;
///     println!("{:?}", nightly_report(7)?);
///     Ok(())
/// }
/// ```
///
/// # Arguments
///
/// - `name = "..."` (required): the lock's name, a non-empty string literal
///   without NUL byte. Every function (and every `mysql_lock::Lock`) using
///   the same name and database excludes the others. It may name the
///   function's arguments: `name = "invoice:{id}"` (see
///   [Per-entity locks](#per-entity-locks-names-from-the-arguments)); write
///   `{{` and `}}` for literal braces.
/// - `timeout = ...`: how long to wait for the lock, in seconds: an integer
///   or float literal, like `2` or `0.5`; `0` tries once without waiting;
///   `"forever"` waits without limit. Default: `10` (`0` with
///   `if_busy = "skip"`). Anything under 10^8 seconds (about 3 years);
///   longer is written `"forever"`.
/// - `if_busy = "skip"`: when another holder keeps the lock for the whole
///   timeout, the function returns `Ok(None)` instead of
///   `Err(E::from(Error::Timeout { .. }))`; it must return
///   `Result<Option<T>, E>` (see [Scheduled jobs](#scheduled-jobs-skip-and-hold-at-least)).
/// - `min_hold = ...`: the lock stays held at least this many seconds from
///   its acquisition, even when the function returns sooner
///   (`mysql_lock::Lock::min_hold`, ShedLock's `lockAtLeastFor`); the same
///   number forms as `timeout`, but never `"forever"`. Default: `0`.
/// - `using = "..."`: the alias of the database to lock on, as registered
///   with `mysql_lock::register`. Default: `"default"`.
/// - `crate = "..."`: the path of the `mysql_lock` crate, when it is not
///   `::mysql_lock` (a renamed dependency, or a re-export). Default:
///   `"::mysql_lock"`.
///
/// # Semantics
///
/// Before the first statement of the body, the function takes the lock
/// (one `mysql_lock::Lock` per annotated function, created on first call
/// and shared by every call and every instantiation of a generic function).
/// The body then runs, and the lock is released when it is done, however it
/// ends: at the end, by `return`, by `?`, or by a panic.
///
/// When the lock can't be had (another holder for the whole timeout,
/// `Error::Timeout`; the thread already holds it, `Error::Reentrant`; no
/// database, ...), the body does not run and the function returns
/// `Err(E::from(error))`.
///
/// When the lock was lost while the body ran (its connection died or was
/// killed, so another worker may have run at the same time), a successful
/// result becomes `Err(E::from(mysql_lock::Error::LockLost { .. }))`; an
/// error from the body is returned as is.
///
/// So the function must return a `Result` whose error type `E` implements
/// `From<mysql_lock::Error>`: `mysql_lock::Error` itself, `anyhow::Error`,
/// `Box<dyn std::error::Error + Send + Sync>`, or an error type of your own
/// with a `From` impl (`#[from]` with thiserror). Type aliases such as
/// `anyhow::Result<T>` are fine, and so is `impl Trait` inside the
/// `Result`: `-> Result<impl Iterator<Item = u32>, E>`.
///
/// **Lazy values run unlocked.** The lock covers the body, not what the
/// caller does with its value: a returned iterator adapter, closure or
/// future does its work when the caller uses it, after the lock was
/// released. `Ok((0..n).map(|i| charge(i)))` charges nobody under the
/// lock; collect inside the body instead:
///
/// ```no_run
/// use mysql_lock::{mysql_lock, Error};
///
/// # fn charge(i: u32) -> u32 { i }
/// #[mysql_lock(name = "billing")]
/// fn charge_all(n: u32) -> Result<impl Iterator<Item = u32>, Error> {
///     // `collect` runs `charge` now, while the lock is held; returning
///     // the `map` itself would run it later, unlocked.
///     let charged: Vec<u32> = (0..n).map(charge).collect();
///     Ok(charged.into_iter())
/// }
/// ```
///
/// A sync function returning a future (`impl Future`, `Pin<Box<dyn
/// Future>>`, `BoxFuture`, also inside the `Result`) is refused at compile
/// time for that reason: write it as an `async fn` (see
/// [Async functions](#async-functions)).
///
/// The body runs in a closure (`move`, called once; an `async move` block
/// in an `async fn`), so `return` and `?` in it leave the body, and the
/// lock is released before the function returns their value. It may move arguments and `self` out, and return
/// borrows of them. A `#[track_caller]` function is the exception: its
/// body stays in the function, so that panics report the caller's
/// location (a closure can't be `#[track_caller]`); its lock is released
/// when it returns, and a lock lost meanwhile is not reported.
///
/// Several `#[mysql_lock]` on one function hold all their locks while the
/// body runs: they are taken in the order written (top first) and
/// released in reverse.
///
/// # Async functions
///
/// With the feature `async` of mysql-lock (on tokio), the attribute goes
/// on an `async fn` too, with the same arguments and semantics: the lock
/// is awaited (`Lock::acquire_async`, the thread is never blocked) when
/// the future first runs, and held while its body runs; the body is an
/// `async move` block whose every way out (its end, `return`, `?`) goes
/// through the release, which is awaited before the function returns.
///
/// ```toml
/// [dependencies]
/// mysql-lock = { version = "0.1", features = ["async"] }
/// ```
///
/// ```no_run
/// use mysql_lock::{mysql_lock, Error};
///
/// #[mysql_lock(name = "invoice:{id}", timeout = 2)]
/// async fn settle(id: u64) -> Result<u64, Error> {
///     // Awaits here don't block the thread; the lock stays held.
///     tokio::time::sleep(std::time::Duration::from_millis(10)).await;
///     Ok(id)
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), Error> {
///     mysql_lock::register("default", "mysql://root@127.0.0.1:3306/test")?;
///     // The future is `Send` whenever its body's is: it can be spawned.
///     let settled = tokio::spawn(settle(42)).await.expect("no panic")?;
///     println!("{settled}");
///     Ok(())
/// }
/// ```
///
/// Without the feature, an annotated `async fn` is one compile error that
/// names it.
///
/// - **Dropped futures release.** A future dropped while it waits (a
///   `tokio::time::timeout`, a `select!`, an aborted task) leaves no lock
///   held and no wait on the server; dropped while the body runs (or by a
///   panic in it), its guard frees the lock on a task of the runtime.
/// - **Locks belong to the task**, as sync locks belong to the thread:
///   taking a lock the task already holds is `Error::Reentrant`. **A
///   spawned task is another holder**: a task holding `job` that spawns a
///   task calling a `job` function and awaits its `JoinHandle` waits for
///   itself until the child's timeout (`Error::Timeout`). Call the
///   function in the task itself, or release first.
/// - **Other attributes**: attributes apply from the top down, each to
///   what the ones above produced. With `#[tracing::instrument]` above
///   `#[mysql_lock]`, the span covers the wait for the lock and the body;
///   below it, the span covers the body only. `#[tokio::main]` (or
///   `#[tokio::test]`) above `#[mysql_lock]` turns the function into a
///   sync one first, which then takes a *sync* lock around the runtime
///   running the body; below it, the `async fn` takes an async lock inside
///   the runtime. On `fn main`, prefer locking a function that `main`
///   awaits.
/// - In a trait, an `async fn` default body is locked like any function
///   with a body; whether its future is `Send` follows the trait's own
///   rules (`async fn` in traits names no `Send` bound).
///
/// What the macro checks at compile time (re-entrance, and lock order with
/// [`macro@jobs`]) follows awaited calls: `step().await` and
/// `lock.acquire_async().await` run under the caller's locks, while a
/// future that is only made (stored, handed to `tokio::spawn`, returned),
/// an `async` block not awaited where it is written, and async closures
/// are not followed.
///
/// # Per-entity locks: names from the arguments
///
/// A name may hold placeholders: `{id}` names a parameter of the function
/// (bound to a plain identifier: `id: u64`, `mut id: u64`), `{self.tenant}`
/// a field of `self`, `{order.id}` or `{pair.0}` a field of a parameter.
/// Each call formats the name with `Display` before the body runs (so no
/// argument has been moved yet) and takes the lock of that name: calls
/// with different values run in parallel, calls with equal values exclude
/// each other, across processes and machines too.
///
/// ```no_run
/// use mysql_lock::{mysql_lock, Error};
///
/// struct Ledger {
///     tenant: String,
/// }
///
/// impl Ledger {
///     // "invoice:acme:42" and "invoice:acme:43" are two locks.
///     #[mysql_lock(name = "invoice:{self.tenant}:{id}", timeout = 2)]
///     fn settle(&self, id: u64, amount_cents: i64) -> Result<i64, Error> {
///         Ok(amount_cents)
///     }
/// }
/// ```
///
/// A placeholder that names no parameter is a compile error that lists
/// them; `Debug` and format specs (`{id:?}`) are refused, as is
/// `name = format!(..)`, whose equivalent template the error shows.
/// A formatted name the runtime refuses (empty, with a NUL byte, over
/// `mysql_lock::MAX_NAME_BYTES`) is `Err(E::from(Error::InvalidName { .. }))`,
/// the body not run, never a panic. The function keeps one `Lock` for the
/// alias, timeout and minimum hold time; each call only formats the name
/// (tens of nanoseconds, no extra round trip).
///
/// A name with placeholders is not compared at compile time with other
/// functions' locks (their arguments are other values): taking one while
/// the thread holds it already is the runtime's `Error::Reentrant`, at
/// once. Only the same template stacked twice on one function, which is
/// always the same name, is a compile error.
///
/// # Scheduled jobs: skip, and hold at least
///
/// A job that several workers (or machines) are scheduled to run, and that
/// must run once: `if_busy = "skip"` makes the function return `Ok(None)`
/// when another worker holds the lock, at once (or after `timeout`, when
/// given), without an error to match on. The body returns
/// `Result<Option<T>, E>` itself, `Ok(Some(..))` when it ran: the caller
/// tells "skipped" (`Ok(None)`) from "ran" (`Ok(Some(..))`) from "failed"
/// (`Err`: every other lock error, such as the database being down, stays
/// an error).
///
/// `min_hold` keeps the lock at least that long from its acquisition,
/// even when the job ends sooner: a worker whose clock is a little behind,
/// and that fires the same run a moment later, finds the lock still held
/// and skips. The caller is not held up: the function returns at once,
/// and a background thread releases the lock when the time is up (a
/// process that exits meanwhile frees it at once: the server ends its
/// session). Until then the lock is busy for everyone, the same thread
/// too.
///
/// ```no_run
/// use mysql_lock::{mysql_lock, Error};
///
/// # fn sync_accounts() -> Result<usize, Error> { Ok(0) }
/// // Fired every hour on each machine: runs once an hour in the fleet, as
/// // long as the machines' clocks differ by less than 5 minutes.
/// #[mysql_lock(name = "hourly-sync", if_busy = "skip", min_hold = 300)]
/// fn hourly_sync() -> Result<Option<usize>, Error> {
///     let synced = sync_accounts()?;
///     Ok(Some(synced))
/// }
///
/// fn on_tick() {
///     match hourly_sync() {
///         Ok(Some(synced)) => println!("synced {synced} accounts"),
///         Ok(None) => println!("another worker has it; skipped"),
///         Err(err) => eprintln!("sync failed: {err}"),
///     }
/// }
/// ```
///
/// A return type that is a `Result` of something other than an `Option`
/// is a compile error at the return type. `if_busy = "skip"` with
/// `timeout = "forever"` (which never skips) is refused, and so is
/// `min_hold = "forever"`.
///
/// The lock belongs to the calling thread (see `mysql_lock::Lock`):
/// calling a locked function from inside itself, or from another function
/// holding the same lock, returns `Error::Reentrant` at once.
///
/// # Re-entrance rejected at compile time
///
/// Where the macro can see it, taking a lock the function already holds is
/// a compile error, at the place that takes it again (names with
/// placeholders aside: see
/// [Per-entity locks](#per-entity-locks-names-from-the-arguments)). In the
/// function's body (closures included):
///
/// - a function declared in it with `#[mysql_lock]` of the same lock;
/// - `Lock::new("same").acquire()` (or `.try_acquire()`, through
///   `.timeout(..)`, `.wait_forever()`, `.using(..)`) with the same name as
///   a literal (on the same alias: `.using("other")` makes it another lock;
///   creating a `Lock` or asking about it takes nothing);
/// - two `#[mysql_lock]` of the same lock on one function.
///
/// In the body, only what certainly runs while the lock is held counts:
/// closures called there (at once, by the name they are bound to, or by
/// a standard adaptor such as `map` or `unwrap_or_else`), the arguments of
/// the standard macros that evaluate them, a `Lock` bound to a name and
/// acquired later in its scope. What the macro can't be sure of is not
/// reported (see [the limits](macro@jobs#limits)), and is refused at run
/// time instead.
///
/// Calls of the function itself, and calls across functions, are checked
/// by [`macro@jobs`] on an inline module holding the functions: one
/// function's attribute can't tell whether a bare `f(..)` is itself or a
/// free function (in an impl), nor whether `self.f(..)` in a trait impl is
/// itself or an inherent method of the same name.
///
/// Locks are compared as the server will compare them, through the
/// runtime's name scheme and on the same alias: `"Job"` and `"job"` are
/// two locks (as they are on MariaDB and, through the scheme, on MySQL),
/// and so are one name on two aliases.
///
/// Only the body changes: the signature, generics, `where` clauses,
/// receivers, visibility, attributes and doc comments are kept as written.
///
/// # Not supported
///
/// Sync functions returning a future, and `async fn`s whose value is one
/// (it would run after the release), `const fn`, `extern "C"` functions,
/// functions without a body, and functions returning `()` or another type
/// that can't be a `Result`. Each is a compile error that says so.
#[proc_macro_attribute]
pub fn mysql_lock(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::mysql_lock(args.into(), item.into()).into()
}

/// Checks, at compile time, the `#[mysql_lock]` functions of an inline
/// module together: no function holding a lock may reach, through the
/// calls between them, a function taking the same lock again; and no two
/// locks may be taken in both orders.
///
/// ```compile_fail
/// #[mysql_lock::jobs]
/// mod jobs {
///     use mysql_lock::{mysql_lock, Error};
///
///     #[mysql_lock(name = "report")]
///     pub fn report() -> Result<(), Error> {
///         collect()?; // error: `export` takes lock "report", which
///         Ok(())      // `report` already holds (report → collect → export)
///     }
///
///     fn collect() -> Result<(), Error> {
///         export()
///     }
///
///     #[mysql_lock(name = "report")]
///     pub fn export() -> Result<(), Error> {
///         Ok(())
///     }
/// }
/// ```
///
/// # What it sees
///
/// The module's free functions and the methods of its impl blocks, as
/// written in it (not those generated by macro calls, nor those of nested
/// modules), annotated or not (a function without lock passes on the locks
/// held by its callers), and the functions declared in their bodies. A
/// call is followed when its callee is named: `f(..)` and `self::f(..)`
/// for a free function, `Self::f(..)`, `Type::f(..)` and `self.f(..)` for
/// an inherent method of the module, `<Type as Trait>::f(..)` (or `<Self
/// as Trait>::f(..)`) for a method of a trait impl of the module.
///
/// A lock is taken by a `#[mysql_lock]` attribute (also under another
/// name, when the module imports it as `use mysql_lock::mysql_lock as
/// name;`), and by `.acquire()` or `.try_acquire()` on the library's
/// `Lock` with a literal name: `Lock::new("x")...acquire()`, or `let lock =
/// Lock::new("x")...; lock.acquire()` in the binding's scope. A plain
/// function that binds a guard, `let guard = Lock::new("x").acquire()?;`
/// (or `.unwrap()`, `.expect(..)`), holds that lock for the calls that
/// follow in the block, up to the first mention of `guard`.
///
/// # What it reports
///
/// - **Re-entrance**: a function holding a lock reaches, through other
///   functions (`a → b → c`), one that takes the same lock again, which
///   would fail at run time with `Error::Reentrant`. The error is at the
///   call (or the `Lock`) that takes it again, and names the chain.
/// - **Lock-order inversion**: one path takes `x` then `y`, another `y`
///   then `x` (stacked `#[mysql_lock]`s take theirs top first). Two workers running both at once can deadlock (the server
///   then fails one of them with `Error::Deadlock`). The error names both
///   paths. A lock taken without waiting (`timeout = 0`, `try_acquire`,
///   `.timeout(Duration::ZERO)`) can't complete such a cycle, and takes no
///   part.
///
/// Locks are compared as `#[mysql_lock]` compares them: the same name on
/// the same alias. A function calling itself is reported here; the rest
/// of what stays within one function is reported by that function's own
/// `#[mysql_lock]`.
///
/// A module in which the macro finds no lock held at all is an error: it
/// would check nothing, most likely because the attribute goes by a name
/// imported outside the module.
///
/// # Limits
///
/// The checks never guess: what the macros can't resolve for certain is
/// not reported, and the runtime covers it. A lock taken again by the
/// thread that holds it fails at once with `Error::Reentrant` (nothing
/// waits); two workers waiting for each other's locks are broken up by
/// the server, which fails one with `Error::Deadlock`, or by the
/// timeout, with `Error::Timeout`. Not followed:
///
/// - calls through function pointers, trait objects, generic parameters,
///   closures handed in as arguments, and methods called on values other
///   than `self` (their type is unknown to a macro);
/// - functions outside the module: other modules (nested ones too), other
///   crates, and functions generated by macros;
/// - `self.f(..)`, `Self::f(..)` and `Type::f(..)` naming a trait method
///   (an inherent method of the same name, anywhere in the crate, would
///   win): write `<Self as Trait>::f(..)` to have it followed; and
///   methods of types whose last name segment is shared by two impls
///   (`W<u8>` and `W<u16>`, two `Worker`s);
/// - calls of a name that something in scope may mean instead of the
///   module's function: a binding (`let`, parameters, patterns, from
///   where it is made), a `use` or a type declared in the body, a glob
///   `use` in the body;
/// - closures not certainly called while the lock is held: stored and
///   never called by their name, returned, boxed, pushed, put in fields,
///   handed to `spawn` (they run on another thread) or to a function
///   other than the standard adaptors that call them at once (`map`,
///   `for_each`, `and_then`, `unwrap_or_else`, `thread::scope`, ...), and
///   async blocks; a closure handed to a lazy adaptor (`iter.map(..)`)
///   counts, as if the iterator were consumed in the body;
/// - code behind `#[cfg(..)]` (or a `#[cfg_attr(.., cfg(..))]`), and the
///   arguments of macros other than the standard ones that evaluate them
///   (`format!`, `println!`, `write!`, `assert!`, `matches!`, `vec!`,
///   `unreachable!`, `todo!`, ...);
/// - a `Lock` whose name or alias is not a literal, one made elsewhere
///   (returned by a function, kept in a field), and another type named
///   `Lock` (another crate's, or one the module or body imports or
///   declares); a bare `Lock` is taken for the library's unless the macro
///   sees otherwise, so a function's own attribute, which can't see the
///   file's imports, takes `Lock` for `mysql_lock::Lock`;
/// - locks held by hand other than through a guard bound by `let` in a
///   plain function of the module (a guard kept in a field, returned, or
///   from `try_acquire`, which may hold nothing), and by-hand locks in a
///   function's own attribute check;
/// - `#[mysql_lock]` imported under another name outside the module, and
///   the order of stacked attributes when one goes by another name (it
///   expands by itself, so the order written is not the order taken).
///
/// The module is emitted unchanged, errors or not: its `#[mysql_lock]`
/// functions expand as usual, and the rest of the crate still type-checks.
/// It takes no arguments, and needs its items inline (`mod jobs { ... }`,
/// not `mod jobs;`).
#[proc_macro_attribute]
pub fn jobs(args: TokenStream, item: TokenStream) -> TokenStream {
    jobs::jobs(args.into(), item.into()).into()
}
