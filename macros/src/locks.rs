//! Which locks are the same lock: compared as the server will compare
//! them, through the runtime's own name scheme (`name_scheme.rs`, the same
//! file), and on the same database alias.

use syn::{Attribute, LitStr, Meta};

use crate::args::{self, DEFAULT_ALIAS};
use crate::name_scheme;

/// A lock as the server sees it. Two functions exclude each other exactly
/// when their `LockId`s are equal: same alias (different aliases may be
/// different servers), and same name as sent to the server. The database
/// prefix the runtime adds is the same for one alias, so it is left out.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct LockId {
    alias: String,
    server_name: String,
}

/// A lock, with its name as written, for messages.
#[derive(Clone, Debug)]
pub(crate) struct LockName {
    pub(crate) id: LockId,
    name: String,
    alias: String,
}

impl LockName {
    /// `None` for a name the runtime refuses (reported where it is written).
    pub(crate) fn new(name: &str, alias: &str) -> Option<Self> {
        let server_name = name_scheme::server_name(None, name).ok()?;
        Some(LockName {
            id: LockId {
                alias: alias.to_owned(),
                server_name,
            },
            name: name.to_owned(),
            alias: alias.to_owned(),
        })
    }

    /// `"job"`, or `"job" (using "reports")` on another alias.
    pub(crate) fn describe(&self) -> String {
        if self.alias == DEFAULT_ALIAS {
            format!("{:?}", self.name)
        } else {
            format!("{:?} (using {:?})", self.name, self.alias)
        }
    }
}

/// Whether `attr` is a `#[mysql_lock(...)]`, by the last segment of its
/// path: `#[mysql_lock]`, `#[mysql_lock::mysql_lock]`, or through a
/// renamed crate or a re-export.
pub(crate) fn is_lock_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "mysql_lock")
}

/// The lock an attribute takes, and the literal of its name; `None` when
/// `attr` is no `#[mysql_lock]` or its arguments are wrong (its own
/// expansion reports them).
pub(crate) fn attr_lock(attr: &Attribute) -> Option<(LockName, LitStr)> {
    if !is_lock_attr(attr) {
        return None;
    }
    let Meta::List(list) = &attr.meta else {
        return None;
    };
    let args = args::parse(list.tokens.clone()).ok()?;
    Some((args.lock()?, args.name_lit))
}

/// The locks of every `#[mysql_lock]` among `attrs`, in order.
pub(crate) fn attr_locks(attrs: &[Attribute]) -> Vec<(LockName, LitStr)> {
    attrs.iter().filter_map(attr_lock).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str, alias: &str) -> LockId {
        LockName::new(name, alias).expect("valid").id
    }

    #[test]
    fn compared_as_the_server_does() {
        assert_eq!(id("job", "default"), id("job", "default"));
        // The scheme keeps case variants apart, on MySQL as on MariaDB.
        assert_ne!(id("job", "default"), id("Job", "default"));
        assert_ne!(id("job", "default"), id("job ", "default"));
        // Another alias may be another server.
        assert_ne!(id("job", "default"), id("job", "other"));
        assert!(LockName::new("", "default").is_none());
    }

    #[test]
    fn descriptions() {
        let lock = LockName::new("job", "default").expect("valid");
        assert_eq!(lock.describe(), "\"job\"");
        let lock = LockName::new("job", "reports").expect("valid");
        assert_eq!(lock.describe(), "\"job\" (using \"reports\")");
    }
}
