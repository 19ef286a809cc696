//! Compile-fail tests of `#[mysql_lock]` and `#[mysql_lock::jobs]`, run by
//! trybuild: every `ui/fail/*.rs` must fail to build with exactly the
//! errors in the `.stderr` file beside it. Its name says what the mistake
//! is.
//!
//! This binary holds only compile-fail cases, so that trybuild checks them
//! all in one `cargo check --keep-going` (the pass cases, which trybuild
//! builds and runs one at a time, are in `ui_pass.rs`).
//!
//! After a change to the macro's messages (or a new compiler, whose wording
//! may differ), regenerate the `.stderr` files with
//!
//! ```text
//! TRYBUILD=overwrite cargo test -p mysql-lock-trybuild --test ui_fail
//! ```
//!
//! and read every changed one as a user would before committing it: one
//! clear error, at the right place, saying what is wrong and how to fix it.

#[test]
fn ui_fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/fail/*.rs");
}
