//! The `#[mysql_lock]` attribute. Use it through the `mysql-lock` crate,
//! which re-exports it: `use mysql_lock::mysql_lock;`.
//!
//! - `args`: the arguments, parsed and checked;
//! - `item`: the annotated function, with its body kept as tokens;
//! - `validate`: what the function must be;
//! - `expand`: the code generated;
//! - `errors`: every mistake collected, to report them all at once.

mod args;
mod errors;
mod expand;
mod item;
mod validate;

use proc_macro::TokenStream;

/// Makes a function mutually exclusive across threads, processes and
/// machines: it runs only while holding a named MySQL/MariaDB user lock
/// (`GET_LOCK`), which is released when it returns.
///
/// ```ignore
/// use mysql_lock::mysql_lock;
///
/// #[mysql_lock(name = "nightly-report", timeout = 2)]
/// fn nightly_report(day: u32) -> Result<Summary, AppError> {
///     // Only one caller in the whole fleet runs this at a time.
///     let summary = compute(day)?;
///     Ok(summary)
/// }
/// ```
///
/// # Arguments
///
/// - `name = "..."` (required): the lock's name, a non-empty string literal
///   without NUL byte. Every function (and every `mysql_lock::Lock`) using
///   the same name and database excludes the others.
/// - `timeout = ...`: how long to wait for the lock, in seconds: an integer
///   or float literal, like `2` or `0.5`; `0` tries once without waiting;
///   `"forever"` waits without limit. Default: `10`. Anything under 10^8
///   seconds (about 3 years); longer is written `"forever"`.
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
/// The guard lives until the function exits, so the lock is released
/// however it exits: at the end, by `return`, by `?`, or by a panic.
///
/// When the lock can't be had (another holder for the whole timeout,
/// `Error::Timeout`; the thread already holds it, `Error::Reentrant`; no
/// database, ...), the body does not run and the function returns
/// `Err(From::from(error))`. So the function must return a `Result` whose
/// error type implements `From<mysql_lock::Error>`: `mysql_lock::Error`
/// itself, `anyhow::Error`, `Box<dyn std::error::Error + Send + Sync>`, or
/// an error type of your own with a `From` impl (`#[from]` with thiserror).
/// Type aliases such as `anyhow::Result<T>` are fine.
///
/// The lock belongs to the calling thread (see `mysql_lock::Lock`):
/// calling a locked function from inside itself, or from another function
/// holding the same lock, returns `Error::Reentrant` at once.
///
/// Only the body changes: the signature, generics, `where` clauses,
/// receivers, visibility, attributes and doc comments are kept as written.
///
/// # Not supported
///
/// `async fn` (the lock blocks its thread; call a locked sync function
/// through `spawn_blocking`), `const fn`, `extern "C"` functions, functions
/// without a body, and functions returning `()` or another type that can't
/// be a `Result`. Each is a compile error that says so.
#[proc_macro_attribute]
pub fn mysql_lock(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::mysql_lock(args.into(), item.into()).into()
}
