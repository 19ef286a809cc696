//! The lock-name scheme: how a logical name becomes the name sent to the
//! server, so that it locks the same thing on MySQL 8 and on MariaDB.
//!
//! The two servers disagree about names. MariaDB compares them byte for byte
//! and accepts up to 192 bytes; MySQL 5.7+ accepts at most 64 characters and
//! folds them to lower case, so `Job` and `job` are one lock there and two on
//! MariaDB. The scheme keeps a name as it is when both servers would treat it
//! alike, and encodes it otherwise:
//!
//! 1. The full name is `<database>.<name>` when the alias's connection names a
//!    database (as django-mysql does), else `<name>`.
//! 2. It is sent unchanged ("plain") when it is at most 64 bytes of printable
//!    ASCII (`!` to `~`, and spaces that are not trailing), with no upper-case
//!    letter and no `#`. Such names are the ones django-mysql sends, so a
//!    Python worker using django-mysql and a Rust worker exclude each other.
//! 3. Otherwise it is encoded as a readable prefix, `#`, and the first 16 hex
//!    digits (64 bits) of the SHA-256 of the full name's UTF-8 bytes. The
//!    prefix is the first 47 characters of the full name with ASCII letters
//!    lower-cased and every other character that is not plain replaced by
//!    `_`. The result is at most 64 bytes of lower-case ASCII.
//!
//! A plain name never contains `#` and an encoded one always does, so no two
//! different full names share a server name (up to a 64-bit hash collision).
//! Case variants (`Job`, `job`) stay distinct locks, as Rust strings are, on
//! both servers.
//!
//! The macro crate relies on the last point: it compares names as written,
//! on the same alias, without this encoding.

use crate::Error;
use mysql_lock_core::check_name;
use sha2::{Digest, Sha256};

/// The longest name both servers accept (MySQL counts characters, MariaDB
/// bytes; a plain name is ASCII, so both agree).
const PORTABLE_MAX: usize = 64;
/// Hex digits of the hash in an encoded name.
const HASH_HEX: usize = 16;
/// Characters of readable prefix in an encoded name: 47 + `#` + 16 = 64.
const PREFIX_MAX: usize = PORTABLE_MAX - 1 - HASH_HEX;

/// Checks a name and returns the name to send to the server.
///
/// # Errors
///
/// [`Error::InvalidName`], saying why (see [`check_name`]).
pub(crate) fn server_name(database: Option<&str>, name: &str) -> Result<String, Error> {
    check_name(name).map_err(|reason| Error::InvalidName {
        name: Error::display_name(name),
        reason,
    })?;
    let full = match database {
        Some(db) if !db.is_empty() => format!("{db}.{name}"),
        _ => name.to_owned(),
    };
    if is_plain(&full) {
        Ok(full)
    } else {
        Ok(encode(&full))
    }
}

fn is_plain_char(c: u8) -> bool {
    (b' '..=b'~').contains(&c) && !c.is_ascii_uppercase() && c != b'#'
}

fn is_plain(full: &str) -> bool {
    full.len() <= PORTABLE_MAX && full.bytes().all(is_plain_char) && !full.ends_with(' ')
}

fn encode(full: &str) -> String {
    let mut out: String = full
        .chars()
        .take(PREFIX_MAX)
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            c if c.is_ascii() && is_plain_char(c as u8) => c,
            _ => '_',
        })
        .collect();
    out.push('#');
    let digest = Sha256::digest(full.as_bytes());
    for byte in &digest[..HASH_HEX / 2] {
        out.push(char::from_digit(u32::from(byte >> 4), 16).expect("nibble"));
        out.push(char::from_digit(u32::from(byte & 0xf), 16).expect("nibble"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_lock_core::MAX_NAME_BYTES;

    /// Fixed vectors: changing any of these changes which lock old and new
    /// versions of a program take, so they must never change silently.
    /// The hashes were checked with `printf %s NAME | sha256sum | cut -c1-16`.
    #[test]
    fn fixed_vectors() {
        let cases: &[(Option<&str>, &str, &str)] = &[
            (Some("test"), "job", "test.job"),
            (None, "job", "job"),
            (Some(""), "job", "job"),
            (
                Some("test"),
                "it's a 100% \"quoted\" \\ job_x",
                "test.it's a 100% \"quoted\" \\ job_x",
            ),
            (Some("test"), "Job", "test.job#62a8020568ac428b"),
            (Some("test"), "JOB", "test.job#0e90b1dfbd7eeb94"),
            (None, "café", "caf_#850f7dc43910ff89"),
            (None, "a#b", "a_b#8187fc8f7f007036"),
            (None, "trailing ", "trailing #b1635c0aaf963326"),
        ];
        for (db, name, want) in cases {
            assert_eq!(server_name(*db, name).unwrap(), *want, "{db:?} {name:?}");
        }
    }

    #[test]
    fn length_boundaries() {
        let n64 = "a".repeat(64);
        assert_eq!(server_name(None, &n64).unwrap(), n64);
        let n65 = "a".repeat(65);
        let enc = server_name(None, &n65).unwrap();
        assert_eq!(enc.len(), 64);
        assert!(enc.starts_with(&"a".repeat(47)));
        assert_eq!(enc.as_bytes()[47], b'#');
        // Database prefix counts toward the 64.
        let n59 = "b".repeat(59);
        assert_eq!(
            server_name(Some("test"), &n59).unwrap(),
            format!("test.{n59}")
        );
        assert_ne!(
            server_name(Some("test"), &format!("{n59}b")).unwrap().len(),
            65
        );
        for n in [192usize, 193, 4096] {
            let s = server_name(None, &"é".repeat(n / 2)).unwrap();
            assert_eq!(s.len(), 64);
            assert!(s.is_ascii() && !s.bytes().any(|b| b.is_ascii_uppercase()));
        }
    }

    #[test]
    fn case_variants_stay_distinct() {
        let a = server_name(Some("test"), "job").unwrap();
        let b = server_name(Some("test"), "Job").unwrap();
        let c = server_name(Some("test"), "jOb").unwrap();
        assert!(a != b && b != c && a != c);
    }

    #[test]
    fn invalid_names() {
        for bad in ["", "a\0b", &"x".repeat(MAX_NAME_BYTES + 1)] {
            let err = server_name(Some("test"), bad).unwrap_err();
            assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");
            assert!(
                err.to_string().len() < 400,
                "{bad:?}: the message stays short"
            );
        }
        assert!(server_name(None, &"x".repeat(MAX_NAME_BYTES)).is_ok());
    }
}
