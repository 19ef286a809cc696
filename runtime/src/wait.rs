//! How long a lock waits: the one representation of a timeout inside the
//! crate. Users give a [`Duration`]; from here on it is a [`Wait`], and a
//! wait without limit is [`Wait::Unlimited`] everywhere until the server
//! needs a number ([`Wait::server_secs`]).

use mysql_lock_core::{is_unlimited, UNLIMITED_SECS};
use std::time::{Duration, Instant};

/// A timeout as the crate uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Give up after this long; [`Duration::ZERO`] is one attempt.
    Within(Duration),
    /// Wait without limit (any timeout of
    /// [`UNLIMITED_SECS`](mysql_lock_core::UNLIMITED_SECS) or more).
    Unlimited,
}

impl Wait {
    pub(crate) fn from_timeout(timeout: Duration) -> Self {
        if is_unlimited(timeout.as_secs_f64()) {
            Wait::Unlimited
        } else {
            Wait::Within(timeout)
        }
    }

    /// The moment this wait, starting now, runs out.
    pub(crate) fn deadline(self) -> Deadline {
        self.deadline_from(Instant::now())
    }

    /// The moment this wait, starting at `start`, runs out.
    pub(crate) fn deadline_from(self, start: Instant) -> Deadline {
        Deadline(match self {
            Wait::Within(timeout) => start.checked_add(timeout),
            Wait::Unlimited => None,
        })
    }

    /// The seconds to send as `GET_LOCK`'s timeout: the only place where
    /// "without limit" becomes a number. Neither server has a "forever"
    /// value both accept (MariaDB answers a negative timeout with NULL), so
    /// both get `UNLIMITED_SECS`, about 3 years.
    pub(crate) fn server_secs(self) -> f64 {
        match self {
            Wait::Within(timeout) => timeout.as_secs_f64(),
            Wait::Unlimited => UNLIMITED_SECS,
        }
    }
}

/// When a wait runs out; `None`: never.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// What is left of the wait (zero once it ran out).
    pub(crate) fn remaining(self) -> Wait {
        match self.0 {
            Some(at) => Wait::Within(at.saturating_duration_since(Instant::now())),
            None => Wait::Unlimited,
        }
    }

    pub(crate) fn instant(self) -> Option<Instant> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_from_the_shared_threshold_on() {
        assert_eq!(Wait::from_timeout(Duration::MAX), Wait::Unlimited);
        assert_eq!(
            Wait::from_timeout(Duration::from_secs(100_000_000)),
            Wait::Unlimited
        );
        let below = Duration::from_secs(99_999_999);
        assert_eq!(Wait::from_timeout(below), Wait::Within(below));
        assert_eq!(Wait::Unlimited.server_secs(), 1e8);
        assert_eq!(Wait::Within(Duration::from_millis(500)).server_secs(), 0.5);
        assert!(Wait::Unlimited.deadline().instant().is_none());
        assert_eq!(
            Wait::Within(Duration::ZERO).deadline().remaining(),
            Wait::Within(Duration::ZERO)
        );
    }
}
