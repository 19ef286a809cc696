//! Compile tests of `#[mysql_lock]`, in `tests/`:
//!
//! - `tests/ui.rs` compiles every `tests/ui/pass/*.rs` (must build) and
//!   `tests/ui/fail/*.rs` (must fail with the errors in the `.stderr` beside
//!   it) with trybuild;
//! - `tests/lints.rs` is annotated code under `#![deny(warnings)]` and
//!   clippy's groups, checked by `cargo clippy --all-targets`: the expansion
//!   must not trigger a lint in user code.
