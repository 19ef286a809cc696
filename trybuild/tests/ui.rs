//! Compile tests of `#[mysql_lock]`, run by trybuild:
//!
//! - every `ui/pass/*.rs` must build, and is run: its `main` only names the
//!   locked functions, never calls them, so nothing connects to a server;
//! - every `ui/fail/*.rs` must fail to build with exactly the errors in the
//!   `.stderr` file beside it. Its name says what the mistake is.
//!
//! After a change to the macro's messages (or a new compiler, whose wording
//! may differ), regenerate the `.stderr` files with
//!
//! ```text
//! TRYBUILD=overwrite cargo test -p mysql-lock-trybuild --test ui
//! ```
//!
//! and read every changed one as a user would before committing it: one
//! clear error, at the right place, saying what is wrong and how to fix it.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
