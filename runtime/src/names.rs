//! The lock-name scheme: how a logical name becomes the name sent to the
//! server, so that it locks the same thing on MySQL 8 and on MariaDB, and
//! the same thing django-mysql locks.
//!
//! The two servers disagree about names. MariaDB compares them byte for byte
//! and accepts up to 192 bytes; MySQL 5.7+ accepts at most 64 characters and
//! folds them to lower case, so `Job` and `job` are one lock there and two on
//! MariaDB. The scheme keeps a name as it is when both servers would treat it
//! alike, and encodes it otherwise. Only the user's part of a name is judged:
//! the database prefix is fixed per alias, so it is sent as the server names
//! it, as django-mysql sends it.
//!
//! 1. The full name is `<database>.<name>` when the alias's connection names a
//!    database (as django-mysql does), else `<name>`.
//! 2. The database prefix is kept exactly as written, case included, when it
//!    is safe: printable ASCII (`!` to `~`, and spaces that are not
//!    trailing), no `#`, and at most 46 bytes, so that the prefix, `.` and an
//!    encoded part (`#` and 16 hex digits at least) fit in 64 bytes.
//! 3. The name is sent unchanged ("plain") when the full name is at most 64
//!    bytes and the user's part is printable ASCII with no upper-case letter,
//!    no `#` and no trailing space. Such names are the ones django-mysql
//!    sends, so a Python worker using django-mysql and a Rust worker exclude
//!    each other, whatever the database's case.
//! 4. Otherwise the user's part is encoded: the safe prefix and `.`, then
//!    the user's part with ASCII letters lower-cased and every other
//!    character that is not plain replaced by `_`, cut so that 17 bytes are
//!    left, then `#` and the first 16 hex digits (64 bits) of the SHA-256 of
//!    the full name's UTF-8 bytes (database prefix included).
//! 5. When the database prefix is not safe (non-ASCII, `#`, or longer than
//!    46 bytes), the whole full name is judged as in 3 and, when not plain,
//!    encoded as in 4 with no kept prefix: its first 47 characters, adjusted
//!    the same way, `#` and the hash. This was the rule for every name
//!    before the database's case was kept; for a lower-case database both
//!    rules give the same names, so those did not change.
//!
//! | database | name | sent |
//! | --- | --- | --- |
//! | `test` | `job` | `test.job` |
//! | `test` | `Job` | `test.job#62a8020568ac428b` |
//! | `IfxApp` | `ifx-job` | `IfxApp.ifx-job` (as django-mysql) |
//! | `IfxApp` | `Ifx-Job` | `IfxApp.ifx-job#…` |
//! | 50 × `D` | `job` | `ddd…d.job#…` (64 bytes, whole name encoded) |
//!
//! A plain name never contains `#` and an encoded one always does (a kept
//! prefix has none), so no two different full names share a server name (up
//! to a 64-bit hash collision). An encoded name is at most 64 bytes of ASCII
//! with no upper-case letter after the database prefix. Case variants
//! (`Job`, `job`) stay distinct locks, as Rust strings are, on both servers.
//! On MySQL two databases whose names differ only in case share their locks
//! (MySQL folds the whole name), exactly as they do for django-mysql: they
//! exclude each other too much, never too little.
//!
//! The macro crate relies on the `#` rule: it compares names as written, on
//! the same alias, without this encoding.
//!
//! An alias registered with [`NameScheme::Exact`] skips all of this and sends
//! `<database>.<name>` as given.

use crate::Error;
use mysql_lock_core::check_name;
use sha2::{Digest, Sha256};

/// The longest name both servers accept (MySQL counts characters, MariaDB
/// bytes; a plain name is ASCII, so both agree).
const PORTABLE_MAX: usize = 64;
/// Hex digits of the hash in an encoded name.
const HASH_HEX: usize = 16;
/// Bytes an encoded part needs at the least: `#` and the hash.
const ENCODED_MIN: usize = 1 + HASH_HEX;
/// The longest database prefix kept as written: with `.` and the shortest
/// encoded part, 46 + 1 + 17 = 64.
const KEPT_PREFIX_MAX: usize = PORTABLE_MAX - 1 - ENCODED_MIN;

/// How an alias sends lock names to the server: chosen when the alias is
/// registered, with `lock_names=portable` or `lock_names=exact` in the URL
/// ([`register`](crate::register)) or with
/// [`register_opts_with`](crate::register_opts_with).
///
/// ```
/// use mysql_lock::{Lock, NameScheme};
/// assert_eq!(NameScheme::default(), NameScheme::Portable);
/// mysql_lock::register("docs-exact", "mysql://root@127.0.0.1:3306/test?lock_names=exact")?;
/// assert_eq!(Lock::new("Job#7").using("docs-exact").server_name()?, "test.Job#7");
/// # Ok::<(), mysql_lock::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum NameScheme {
    /// The default: a name locks the same thing on MySQL and MariaDB.
    /// Plain lower-case names go out as `<database>.<name>`, exactly as
    /// django-mysql sends them; names with upper-case letters, `#`,
    /// characters outside printable ASCII or more than 64 bytes in all are
    /// encoded with a hash (see the [crate docs](crate#lock-names)), so they
    /// never interoperate with django-mysql.
    #[default]
    Portable,
    /// `<database>.<name>` (or `<name>` without a database) exactly as given,
    /// never encoded, as DistributedLock's `exactName`: mixed-case, `#` and
    /// long names then lock what django-mysql locks with the same name.
    ///
    /// **For MariaDB-only fleets.** MySQL folds names to lower case and
    /// refuses names over 64 characters, so there `Job` and `job` are one
    /// lock and a long name is an error; MariaDB keeps case and refuses
    /// names over 192 bytes (an [`Error::Mysql`] at acquire). Names are
    /// still checked: not empty, no NUL, at most
    /// [`MAX_NAME_BYTES`](crate::MAX_NAME_BYTES).
    Exact,
}

impl NameScheme {
    /// The URL query parameter that selects a scheme in
    /// [`register`](crate::register): `lock_names=portable` or
    /// `lock_names=exact`. [`register`](crate::register) removes it before
    /// the driver reads the URL.
    ///
    /// ```
    /// assert_eq!(mysql_lock::NameScheme::URL_PARAMETER, "lock_names");
    /// ```
    pub const URL_PARAMETER: &'static str = "lock_names";

    /// The scheme a `lock_names=` value names: `portable` or `exact`.
    pub(crate) fn from_url_value(value: &str) -> Option<Self> {
        match value {
            "portable" => Some(Self::Portable),
            "exact" => Some(Self::Exact),
            _ => None,
        }
    }
}

/// Checks a name and returns the name to send to the server.
///
/// # Errors
///
/// [`Error::InvalidName`], saying why (see [`check_name`]).
pub(crate) fn server_name(
    database: Option<&str>,
    name: &str,
    scheme: NameScheme,
) -> Result<String, Error> {
    check_name(name).map_err(|reason| Error::InvalidName {
        name: Error::display_name(name),
        reason,
    })?;
    let database = database.filter(|db| !db.is_empty());
    let full = match database {
        Some(db) => format!("{db}.{name}"),
        None => name.to_owned(),
    };
    if scheme == NameScheme::Exact {
        return Ok(full);
    }
    // The part of `full` sent as written: a safe database prefix and `.`.
    let kept = database
        .filter(|db| is_safe_prefix(db))
        .map_or(0, |db| db.len() + 1);
    let (prefix, user) = full.split_at(kept);
    if full.len() <= PORTABLE_MAX && is_plain(user) {
        Ok(full)
    } else {
        Ok(encode(prefix, user, &full))
    }
}

fn is_plain_char(c: u8) -> bool {
    (b' '..=b'~').contains(&c) && !c.is_ascii_uppercase() && c != b'#'
}

fn is_plain(part: &str) -> bool {
    part.bytes().all(is_plain_char) && !part.ends_with(' ')
}

/// A database name sent as written: printable ASCII without `#` or a
/// trailing space (upper case allowed), short enough to leave room for an
/// encoded part.
fn is_safe_prefix(db: &str) -> bool {
    db.len() <= KEPT_PREFIX_MAX
        && db.bytes().all(|c| (b' '..=b'~').contains(&c) && c != b'#')
        && !db.ends_with(' ')
}

/// `prefix` (kept as written), then `user` made plain and cut to fit, `#`
/// and the hash of `full`: at most 64 bytes.
fn encode(prefix: &str, user: &str, full: &str) -> String {
    let readable = PORTABLE_MAX - prefix.len() - ENCODED_MIN;
    let mut out = String::with_capacity(PORTABLE_MAX);
    out.push_str(prefix);
    out.extend(user.chars().take(readable).map(|c| match c {
        'A'..='Z' => c.to_ascii_lowercase(),
        c if c.is_ascii() && is_plain_char(c as u8) => c,
        _ => '_',
    }));
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

    fn portable(db: Option<&str>, name: &str) -> String {
        server_name(db, name, NameScheme::Portable).unwrap()
    }

    /// Fixed vectors: changing any of these changes which lock old and new
    /// versions of a program take, so they must never change silently.
    /// The hashes were checked with `printf %s FULL_NAME | sha256sum | cut -c1-16`.
    #[test]
    fn fixed_vectors() {
        let long_db = "Reporting_Warehouse_Archive_2026_Quarterly_Shard7"; // 49 bytes
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
            // A mixed-case database is sent as the server names it, as
            // django-mysql sends it; only the user's part is encoded.
            (Some("IfxApp"), "ifx-job", "IfxApp.ifx-job"),
            (Some("IfxApp"), "Ifx-Job", "IfxApp.ifx-job#1ed3f9fd9ae5fe3a"),
            (Some("IfxApp"), "Job", "IfxApp.job#6e4ecede1a281344"),
            (Some("IfxApp"), "a#b", "IfxApp.a_b#40623e6406cc9a90"),
            // A database with no room left for an encoded part, with `#`,
            // or not ASCII: the whole name is judged and encoded, as before.
            (
                Some(long_db),
                "job",
                "reporting_warehouse_archive_2026_quarterly_shar#667c26ad68c19f37",
            ),
            (Some("db#1"), "job", "db_1.job#97e1d1fa9577fee6"),
            (Some("café"), "job", "caf_.job#73297fd9d53a1886"),
        ];
        for (db, name, want) in cases {
            assert_eq!(portable(*db, name), *want, "{db:?} {name:?}");
        }
    }

    #[test]
    fn exact_names_are_sent_as_given() {
        let exact = |db, name| server_name(db, name, NameScheme::Exact).unwrap();
        assert_eq!(exact(Some("IfxApp"), "Ifx-Job#7"), "IfxApp.Ifx-Job#7");
        assert_eq!(exact(None, "Job"), "Job");
        assert_eq!(exact(Some(""), "Job"), "Job");
        let long = "é".repeat(100);
        assert_eq!(exact(Some("test"), &long), format!("test.{long}"));
        for bad in ["", "a\0b", &"x".repeat(MAX_NAME_BYTES + 1)] {
            let err = server_name(Some("test"), bad, NameScheme::Exact).unwrap_err();
            assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");
        }
    }

    #[test]
    fn length_boundaries() {
        let n64 = "a".repeat(64);
        assert_eq!(portable(None, &n64), n64);
        let n65 = "a".repeat(65);
        let enc = portable(None, &n65);
        assert_eq!(enc.len(), 64);
        assert!(enc.starts_with(&"a".repeat(47)));
        assert_eq!(enc.as_bytes()[47], b'#');
        // Database prefix counts toward the 64.
        let n59 = "b".repeat(59);
        assert_eq!(portable(Some("test"), &n59), format!("test.{n59}"));
        assert_ne!(portable(Some("test"), &format!("{n59}b")).len(), 65);
        for n in [192usize, 193, 4096] {
            let s = portable(None, &"é".repeat(n / 2));
            assert_eq!(s.len(), 64);
            assert!(s.is_ascii() && !s.bytes().any(|b| b.is_ascii_uppercase()));
        }
        // The longest kept database prefix leaves room for `#` and the hash
        // only; one byte more and the whole name is encoded.
        let db46 = format!("Db{}", "x".repeat(44));
        let enc = portable(Some(&db46), "Job");
        assert_eq!(enc.len(), 64);
        assert!(enc.starts_with(&format!("{db46}.#")), "{enc}");
        let db47 = format!("Db{}", "x".repeat(45));
        let enc = portable(Some(&db47), "Job");
        assert_eq!(enc.len(), 64);
        assert!(enc.starts_with("dbxxx"), "{enc}");
        // A long lower-case database with a short plain name stays plain.
        let db50 = "d".repeat(50);
        assert_eq!(portable(Some(&db50), "job"), format!("{db50}.job"));
    }

    /// The invariants the macro crate and the servers rely on, over many
    /// databases and names: plain names have no `#`; encoded names have one
    /// and are at most 64 bytes of ASCII with no upper case after the kept
    /// database prefix.
    #[test]
    fn invariants() {
        let dbs = [
            None,
            Some("test"),
            Some("IfxApp"),
            Some("a b"),
            Some("db#1"),
            Some("café"),
            Some("x"),
        ];
        let long_dbs: Vec<String> = (40..52).map(|n| format!("D{}", "b".repeat(n))).collect();
        let names: Vec<String> = [
            "job",
            "Job",
            "a#b",
            "café",
            "trailing ",
            "日本語",
            "x y",
            "ÄBC#",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain((60..70).map(|n| "q".repeat(n)))
        .chain((60..70).map(|n| "Q".repeat(n)))
        .collect();
        let all_dbs = dbs
            .iter()
            .copied()
            .chain(long_dbs.iter().map(|s| Some(s.as_str())));
        for db in all_dbs {
            for name in &names {
                let sent = portable(db, name);
                let full = db.map_or(name.clone(), |db| format!("{db}.{name}"));
                if sent == full {
                    assert!(!sent.contains('#'), "{db:?} {name:?}: {sent}");
                    assert!(sent.len() <= 64, "{db:?} {name:?}: {sent}");
                } else {
                    assert!(sent.contains('#'), "{db:?} {name:?}: {sent}");
                    assert!(
                        sent.len() <= 64 && sent.is_ascii(),
                        "{db:?} {name:?}: {sent}"
                    );
                    let kept = db
                        .filter(|db| is_safe_prefix(db))
                        .map_or(0, |db| db.len() + 1);
                    assert!(
                        !sent[kept..].bytes().any(|b| b.is_ascii_uppercase()),
                        "{db:?} {name:?}: {sent}"
                    );
                }
            }
        }
    }

    #[test]
    fn case_variants_stay_distinct() {
        for db in [Some("test"), Some("IfxApp"), None] {
            let a = portable(db, "job");
            let b = portable(db, "Job");
            let c = portable(db, "jOb");
            assert!(a != b && b != c && a != c, "{db:?}");
        }
    }

    #[test]
    fn invalid_names() {
        for bad in ["", "a\0b", &"x".repeat(MAX_NAME_BYTES + 1)] {
            let err = server_name(Some("test"), bad, NameScheme::Portable).unwrap_err();
            assert!(matches!(err, Error::InvalidName { .. }), "{err:?}");
            assert!(
                err.to_string().len() < 400,
                "{bad:?}: the message stays short"
            );
        }
        assert!(server_name(None, &"x".repeat(MAX_NAME_BYTES), NameScheme::Portable).is_ok());
    }
}
