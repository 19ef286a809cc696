//! The facts that [mysql-lock](https://docs.rs/mysql-lock)'s runtime and its
//! `#[mysql_lock]` macro must agree on, in one place: what a lock name may
//! be, the default alias, the default timeout, and from which timeout on a
//! wait has no limit.
//!
//! Use them through the `mysql-lock` crate, which re-exports what users need
//! ([`MAX_NAME_BYTES`], [`DEFAULT_ALIAS`], `Lock::DEFAULT_TIMEOUT`). The
//! macro checks a literal name with [`check_name`] at compile time, with the
//! same words the runtime uses at run time.
//!
//! ```
//! assert!(mysql_lock_core::check_name("nightly-report").is_ok());
//! assert!(mysql_lock_core::check_name("").is_err());
//! assert_eq!(mysql_lock_core::DEFAULT_ALIAS, "default");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::time::Duration;

/// The alias a lock uses when it names none: `"default"`. When it was never
/// registered, the runtime registers it on first use from the
/// `DATABASE_URL` environment variable.
///
/// ```
/// assert_eq!(mysql_lock_core::DEFAULT_ALIAS, "default");
/// ```
pub const DEFAULT_ALIAS: &str = "default";

/// How long a lock waits when no timeout is given: 10 seconds, as
/// django-mysql's `acquire_timeout`.
///
/// ```
/// assert_eq!(mysql_lock_core::DEFAULT_TIMEOUT.as_secs(), 10);
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Timeouts of this many seconds or more (10^8 s, about 3 years) wait
/// without limit. The runtime sends such a wait to the server as exactly
/// this many seconds, a value both servers honour (MariaDB has no "forever"
/// value, and returns at once above about 9.2e9 s); the macro asks for
/// `timeout = "forever"` instead of a number this large.
///
/// ```
/// assert_eq!(mysql_lock_core::UNLIMITED_SECS, 1e8);
/// ```
pub const UNLIMITED_SECS: f64 = 1.0e8;

/// The longest lock name accepted, in bytes. Longer names are refused
/// rather than hashed: a name that long is a bug.
///
/// ```
/// let longest = "x".repeat(mysql_lock_core::MAX_NAME_BYTES);
/// assert!(mysql_lock_core::check_name(&longest).is_ok());
/// assert!(mysql_lock_core::check_name(&format!("{longest}x")).is_err());
/// ```
pub const MAX_NAME_BYTES: usize = 4096;

/// Refuses names no server can lock faithfully, saying why and what to do:
/// an empty name, a NUL byte (MariaDB cuts the name there and would lock
/// another one), more than [`MAX_NAME_BYTES`].
///
/// # Errors
///
/// The reason, a sentence for an error message.
///
/// ```
/// let reason = mysql_lock_core::check_name("a\0b").unwrap_err();
/// assert!(reason.contains("NUL"));
/// ```
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("a lock name must not be empty; give the job a name such as \"nightly-report\"")
    } else if name.contains('\0') {
        Err(
            "a lock name must not contain a NUL byte (MariaDB would cut the name there and \
             lock a different one); remove it",
        )
    } else if name.len() > MAX_NAME_BYTES {
        Err(
            "a lock name may be at most MAX_NAME_BYTES (4096) bytes; use a shorter, stable \
             name such as a job kind plus an id",
        )
    } else {
        Ok(())
    }
}

/// Whether a timeout of `secs` seconds waits without limit.
///
/// ```
/// assert!(mysql_lock_core::is_unlimited(1e8));
/// assert!(!mysql_lock_core::is_unlimited(99_999_999.9));
/// ```
pub fn is_unlimited(secs: f64) -> bool {
    secs >= UNLIMITED_SECS
}
