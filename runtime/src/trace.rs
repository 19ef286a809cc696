//! What the crate tells [`tracing`](https://docs.rs/tracing), with the
//! feature `tracing` (target `mysql_lock`):
//!
//! | when | level | fields |
//! | --- | --- | --- |
//! | a wait for a lock (a span around it) | DEBUG span `mysql_lock::acquire` | `lock`, `alias` |
//! | acquired | DEBUG | `lock`, `alias`, `connection_id`, `waited` |
//! | timed out | INFO | `lock`, `alias`, `waited`, `holder` |
//! | failed otherwise | WARN | `lock`, `alias`, `error` |
//! | released | DEBUG | `lock`, `held_for` |
//! | lost, found by a release or `verify` | WARN | `lock`, `held_for` |
//! | lost, found by the background check | WARN | `lock`, `connection_id` |
//!
//! Without the feature every function here is empty and inlined away: the
//! hot path is unchanged (and still two statements per lock).

use crate::{Error, HeldLock};
#[cfg(feature = "tracing")]
use std::time::Instant;

/// When a wait started. Empty without the feature.
#[cfg(feature = "tracing")]
#[derive(Clone, Copy)]
pub(crate) struct Started(Instant);
#[cfg(not(feature = "tracing"))]
#[derive(Clone, Copy)]
pub(crate) struct Started;

/// A sync wait in progress: its entered span and its start.
#[cfg(feature = "tracing")]
pub(crate) struct Waiting {
    _span: tracing::span::EnteredSpan,
    pub(crate) started: Started,
}
#[cfg(not(feature = "tracing"))]
pub(crate) struct Waiting {
    pub(crate) started: Started,
}

#[cfg(feature = "tracing")]
fn span(name: &str, alias: &str) -> tracing::Span {
    tracing::debug_span!(
        target: "mysql_lock",
        "mysql_lock::acquire",
        lock = name,
        alias = alias
    )
}

#[cfg(feature = "tracing")]
pub(crate) fn waiting(name: &str, alias: &str) -> Waiting {
    Waiting {
        _span: span(name, alias).entered(),
        started: Started(Instant::now()),
    }
}

/// An async wait: `wait` inside the span (entered at each poll, never
/// held across an `.await`), and its start.
#[cfg(all(feature = "tracing", feature = "async"))]
pub(crate) fn waiting_async<F: std::future::Future>(
    name: &str,
    alias: &str,
    wait: F,
) -> (impl std::future::Future<Output = F::Output>, Started) {
    use tracing::Instrument;
    (wait.instrument(span(name, alias)), Started(Instant::now()))
}

#[cfg(all(not(feature = "tracing"), feature = "async"))]
#[inline(always)]
pub(crate) fn waiting_async<F: std::future::Future>(_: &str, _: &str, wait: F) -> (F, Started) {
    (wait, Started)
}

#[cfg(feature = "tracing")]
pub(crate) fn acquired(started: Started, held: &HeldLock) {
    let Started(started) = started;
    tracing::debug!(
        target: "mysql_lock",
        lock = held.server_name(),
        alias = held.alias(),
        connection_id = held.connection_id(),
        waited = ?started.elapsed(),
        "lock acquired"
    );
}

#[cfg(feature = "tracing")]
pub(crate) fn failed(started: Started, name: &str, alias: &str, error: &Error) {
    let Started(started) = started;
    match error {
        Error::Timeout { holder, .. } => tracing::info!(
            target: "mysql_lock",
            lock = name,
            alias = alias,
            waited = ?started.elapsed(),
            holder = holder.as_deref().map(tracing::field::display),
            "lock not acquired in time"
        ),
        other => tracing::warn!(
            target: "mysql_lock",
            lock = name,
            alias = alias,
            error = %other,
            "lock not acquired"
        ),
    }
}

#[cfg(feature = "tracing")]
pub(crate) fn released(held: &HeldLock, result: &Result<(), Error>) {
    match result {
        Ok(()) => tracing::debug!(
            target: "mysql_lock",
            lock = held.server_name(),
            held_for = ?held.held_for(),
            "lock released"
        ),
        Err(error) => tracing::warn!(
            target: "mysql_lock",
            lock = held.server_name(),
            held_for = ?held.held_for(),
            error = %error,
            "lock lost while held"
        ),
    }
}

#[cfg(feature = "tracing")]
pub(crate) fn lost_by_check(held: &HeldLock) {
    tracing::warn!(
        target: "mysql_lock",
        lock = held.server_name(),
        connection_id = held.connection_id(),
        "lock lost: the background check found its connection gone or not owning it"
    );
}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn waiting(_: &str, _: &str) -> Waiting {
    Waiting { started: Started }
}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn acquired(_: Started, _: &HeldLock) {}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn failed(_: Started, _: &str, _: &str, _: &Error) {}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn released(_: &HeldLock, _: &Result<(), Error>) {}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn lost_by_check(_: &HeldLock) {}
