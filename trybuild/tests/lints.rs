//! Annotated functions under the strictest lint levels: `cargo clippy
//! --all-targets` fails if the expansion triggers any lint in user code
//! (rustc's lints are also checked by `ui/pass/deny-warnings.rs`).
//!
//! The functions are only named by the test, never called: calling them
//! would need a database.

#![deny(
    warnings,
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    clippy::cargo
)]
#![deny(unused, unused_qualifications, unused_results, unsafe_code)]
#![deny(
    rust_2018_idioms,
    single_use_lifetimes,
    trivial_casts,
    let_underscore_drop
)]
#![deny(unreachable_pub, missing_debug_implementations, non_ascii_idents)]
#![allow(clippy::cargo_common_metadata, clippy::multiple_crate_versions)]

use mysql_lock::{mysql_lock, Error};
use std::fmt;

#[mysql_lock(name = "lints-free")]
fn free(id: u64) -> Result<u64, Error> {
    Ok(id + 1)
}

#[mysql_lock(name = "lints-early-return", timeout = 0)]
fn early_return(input: &str) -> Result<usize, Error> {
    if input.is_empty() {
        return Ok(0);
    }
    let parsed: Result<usize, Error> = Ok(input.len());
    let length = parsed?;
    Ok(length)
}

#[mysql_lock(name = "lints-items", timeout = "forever")]
fn with_items() -> Result<u32, Error> {
    use std::convert::identity;
    const BASE: u32 = 40;
    const fn two() -> u32 {
        2
    }
    Ok(identity(BASE) + two())
}

#[mysql_lock(name = "lints-generic", timeout = 0.25, using = "other")]
fn generic<T>(items: &[T]) -> anyhow::Result<String>
where
    T: fmt::Display,
{
    Ok(items.iter().map(ToString::to_string).collect())
}

fn compute(id: u64) -> Result<u64, Error> {
    id.checked_add(1).ok_or_else(|| Error::InvalidName {
        name: id.to_string(),
        reason: "too large",
    })
}

// A body that is one call: no `redundant_closure` on the closure that
// runs it.
#[mysql_lock(name = "lints-one-call")]
fn one_call(id: u64) -> Result<u64, Error> {
    compute(id)
}

// A body that ends with a `match` of `return`s, and one whose `?` is its
// only fallible step.
#[mysql_lock(name = "lints-returns")]
fn returns(flag: Option<bool>) -> Result<u8, Error> {
    let value = compute(1)?;
    match flag {
        Some(true) => return Ok(1),
        Some(false) => return Ok(2),
        None => {}
    }
    Ok(u8::try_from(value).unwrap_or(u8::MAX))
}

// `impl Trait` in the return type, and an argument moved into it.
#[mysql_lock(name = "lints-impl-trait")]
fn evens(values: Vec<u32>) -> Result<impl Iterator<Item = u32>, Error> {
    Ok(values.into_iter().filter(|v| v % 2 == 0))
}

// A name formatted from the arguments; skipping when busy, with a
// minimum hold time.
#[mysql_lock(name = "lints-invoice:{tenant}:{id}", timeout = 2)]
fn settle(tenant: &str, id: u64) -> Result<u64, Error> {
    Ok(id + u64::try_from(tenant.len()).unwrap_or(0))
}

// A parameter used only in the name is used.
#[mysql_lock(name = "lints-by-key:{key}")]
fn by_key(key: &str) -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "lints-sync", if_busy = "skip", min_hold = 60)]
fn hourly_sync() -> Result<Option<u32>, Error> {
    Ok(Some(1))
}

#[derive(Debug)]
enum AppError {
    Lock,
}

impl From<Error> for AppError {
    fn from(_: Error) -> Self {
        Self::Lock
    }
}

#[derive(Debug, Default)]
struct Counter {
    count: u32,
}

impl Counter {
    #[mysql_lock(name = "lints-method")]
    fn bump(&mut self) -> Result<u32, AppError> {
        self.count += 1;
        Ok(self.count)
    }

    #[mysql_lock(name = "lints-consume", timeout = 3)]
    fn into_count(self) -> Result<u32, AppError> {
        Ok(self.count)
    }

    // A reborrow of `&mut self`, returned; `Self` in the body.
    #[mysql_lock(name = "lints-reborrow")]
    fn count_mut(&mut self) -> Result<&mut u32, AppError> {
        if self.count == 0 {
            *self = Self::default();
        }
        Ok(&mut self.count)
    }

    #[mysql_lock(name = "lints-counter:{self.count}", if_busy = "skip")]
    fn bump_unless_busy(&mut self) -> Result<Option<u32>, AppError> {
        self.count += 1;
        Ok(Some(self.count))
    }

    #[mysql_lock(name = "lints-associated")]
    fn fresh() -> Result<Self, AppError> {
        Ok(Self::default())
    }
}

#[test]
fn locked_functions_build() {
    let _ = free;
    let _ = early_return;
    let _ = with_items;
    let _ = generic::<u8>;
    let _ = Counter::bump;
    let _ = Counter::into_count;
    let _ = Counter::count_mut;
    let _ = Counter::fresh;
    let _ = one_call;
    let _ = returns;
    let _ = evens;
    let _ = settle;
    let _ = by_key;
    let _ = hourly_sync;
    let _ = Counter::bump_unless_busy;
}
