// The expansion adds no warning to the user's code, whatever the lints
// (clippy's own lints are checked in tests/lints.rs, by cargo clippy).
#![deny(warnings)]
#![deny(clippy::all)]
#![deny(unused, unused_qualifications, unused_results, unsafe_code)]
#![deny(rust_2018_idioms, single_use_lifetimes, trivial_casts)]
#![deny(unreachable_pub, missing_debug_implementations)]

use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "lint-free", timeout = 0.5)]
fn lint_free(input: &str) -> Result<usize, Error> {
    let length = input.len();
    Ok(length)
}

#[mysql_lock(name = "generic-lint-free", timeout = "forever")]
fn generic_lint_free<T: Default>() -> anyhow::Result<T> {
    Ok(T::default())
}

fn main() {
    let _ = lint_free;
    let _ = generic_lint_free::<u8>;
}

/// Built as a crate root of its own (an integration test), and run.
#[test]
fn builds() {
    main();
}
