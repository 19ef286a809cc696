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

/// A wait in progress: its span and its start. Empty without the feature.
#[cfg(feature = "tracing")]
pub(crate) struct Waiting {
    _span: tracing::span::EnteredSpan,
    started: Instant,
}
#[cfg(not(feature = "tracing"))]
pub(crate) struct Waiting;

#[cfg(feature = "tracing")]
pub(crate) fn waiting(name: &str, alias: &str) -> Waiting {
    Waiting {
        _span: tracing::debug_span!(
            target: "mysql_lock",
            "mysql_lock::acquire",
            lock = name,
            alias = alias
        )
        .entered(),
        started: Instant::now(),
    }
}

#[cfg(feature = "tracing")]
pub(crate) fn acquired(waiting: &Waiting, held: &HeldLock) {
    let started = waiting.started;
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
pub(crate) fn failed(waiting: &Waiting, name: &str, alias: &str, error: &Error) {
    let started = waiting.started;
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
    Waiting
}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn acquired(_: &Waiting, _: &HeldLock) {}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn failed(_: &Waiting, _: &str, _: &str, _: &Error) {}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn released(_: &HeldLock, _: &Result<(), Error>) {}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn lost_by_check(_: &HeldLock) {}
