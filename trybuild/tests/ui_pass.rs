//! Compile-pass tests of `#[mysql_lock]` and `#[mysql_lock::jobs]`, run by
//! trybuild: every `ui/pass/*.rs` must build, and is run. Its `main` only
//! names the locked functions, never calls them, so nothing connects to a
//! server.

#[test]
fn ui_pass() {
    trybuild::TestCases::new().pass("tests/ui/pass/*.rs");
}
