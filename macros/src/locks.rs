//! Which locks are the same lock: the same name on the same alias.
//!
//! That is exactly how the server tells them apart. The runtime sends a
//! name unchanged when both servers treat it alike ("plain": it never
//! contains `#`) and encodes it otherwise (an encoded name always contains
//! `#`), after the same database prefix for one alias; so two names reach
//! the server as one only when they are equal.
//!
//! A name with placeholders (`name = "invoice:{id}"`) is a different lock
//! for each value of its arguments: it is provably the same as nothing
//! another function takes (the other function's arguments are other
//! values), so it has no `LockName` and takes part in no re-entrance or
//! lock-order check across functions; taking one again at run time is the
//! runtime's `Error::Reentrant`, at once. The one case that is provable,
//! the same template stacked twice on one function (the same arguments,
//! formatted one after the other before the body runs), is reported by
//! the expansion (`expand::same_templates`).

use std::collections::HashSet;

use mysql_lock_core::DEFAULT_ALIAS;
use syn::{Attribute, ImplItem, Item, LitStr, Meta, UseTree};

use crate::args::{self, Args, Timeout};

/// A lock as the server sees it. Two functions exclude each other exactly
/// when their `LockId`s are equal: same alias (different aliases may be
/// different servers), and same name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct LockId {
    alias: String,
    name: String,
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
        mysql_lock_core::check_name(name).ok()?;
        Some(LockName {
            id: LockId {
                alias: alias.to_owned(),
                name: name.to_owned(),
            },
            name: name.to_owned(),
            alias: alias.to_owned(),
        })
    }

    /// The lock an attribute's arguments take; `None` for a name with
    /// placeholders, which no other function's lock is provably equal to.
    pub(crate) fn of(args: &Args) -> Option<Self> {
        if args.template.is_some() {
            return None;
        }
        LockName::new(&args.name, args.using.as_deref().unwrap_or(DEFAULT_ALIAS))
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
    is_lock_attr_named(attr, &AttrNames::default())
}

/// The names `#[mysql_lock]` goes by where the macro can see the imports:
/// `mysql_lock`, and `exclusive` after `use mysql_lock::mysql_lock as
/// exclusive;`.
#[derive(Clone)]
pub(crate) struct AttrNames(HashSet<String>);

impl Default for AttrNames {
    fn default() -> Self {
        AttrNames(HashSet::from(["mysql_lock".to_owned()]))
    }
}

impl AttrNames {
    /// Adds the names a `use` gives the attribute.
    pub(crate) fn apply_use(&mut self, tree: &UseTree) {
        match tree {
            UseTree::Path(path) => self.apply_use(&path.tree),
            UseTree::Group(group) => group.items.iter().for_each(|tree| self.apply_use(tree)),
            UseTree::Rename(rename) if rename.ident == "mysql_lock" => {
                self.0.insert(rename.rename.to_string());
            }
            _ => {}
        }
    }
}

fn is_lock_attr_named(attr: &Attribute, names: &AttrNames) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| names.0.contains(&segment.ident.to_string()))
}

/// A lock of a `#[mysql_lock]` attribute, held while its function runs.
#[derive(Clone)]
pub(crate) struct AttrLock {
    pub(crate) lock: LockName,
    /// The literal of its name, for errors about this attribute.
    pub(crate) lit: LitStr,
    /// Taking it may wait: its timeout is not zero.
    pub(crate) waits: bool,
    /// Written `#[mysql_lock]` (or a path ending so): the first such
    /// attribute expands the others with it, in the order written; one
    /// under another name expands by itself, around them.
    pub(crate) by_own_name: bool,
    /// The path of the runtime crate it names (`crate = ".."`).
    pub(crate) krate: syn::Path,
}

impl AttrLock {
    /// The lock `args` take; `None` for a name the runtime refuses, and
    /// for a name with placeholders (see the module's docs).
    pub(crate) fn of(args: &Args) -> Option<Self> {
        Some(AttrLock {
            lock: LockName::of(args)?,
            lit: args.name_lit.clone(),
            // `if_busy = "skip"` waits zero unless told otherwise.
            waits: args.effective_timeout() != Some(Timeout::Seconds(0.0)),
            by_own_name: true,
            krate: args.krate.clone(),
        })
    }
}

/// The lock an attribute takes; `None` when `attr` is no `#[mysql_lock]`
/// or its arguments are wrong (its own expansion reports them).
fn attr_lock(attr: &Attribute, names: &AttrNames) -> Option<AttrLock> {
    if !is_lock_attr_named(attr, names) {
        return None;
    }
    let Meta::List(list) = &attr.meta else {
        return None;
    };
    let mut taken = AttrLock::of(&args::parse(list.tokens.clone()).ok()?)?;
    taken.by_own_name = is_lock_attr(attr);
    Some(taken)
}

/// Whether a function of the module `items` (free, or in an impl block)
/// has a `#[mysql_lock]`, by the names the module's `use`s give it; with
/// or without a lock the checks compare (a name with placeholders has
/// none, see the module's docs).
pub(crate) fn any_lock_attr(items: &[Item]) -> bool {
    let mut names = AttrNames::default();
    for item in items {
        if let Item::Use(item) = item {
            names.apply_use(&item.tree);
        }
    }
    let marked = |attrs: &[Attribute]| attrs.iter().any(|attr| is_lock_attr_named(attr, &names));
    items.iter().any(|item| match item {
        Item::Fn(f) => marked(&f.attrs),
        Item::Impl(block) => block.items.iter().any(|item| match item {
            ImplItem::Fn(f) => marked(&f.attrs),
            _ => false,
        }),
        _ => false,
    })
}

/// The locks of every `#[mysql_lock]` among `attrs` (by the names in
/// `names`), in order.
pub(crate) fn attr_locks_named(attrs: &[Attribute], names: &AttrNames) -> Vec<AttrLock> {
    attrs
        .iter()
        .filter_map(|attr| attr_lock(attr, names))
        .collect()
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
        // The runtime's name scheme keeps case variants apart, on MySQL as
        // on MariaDB.
        assert_ne!(id("job", "default"), id("Job", "default"));
        assert_ne!(id("job", "default"), id("job ", "default"));
        // Another alias may be another server.
        assert_ne!(id("job", "default"), id("job", "other"));
        assert!(LockName::new("", "default").is_none());
    }

    #[test]
    fn templates_are_no_provable_lock() {
        let args = |tokens| args::parse(tokens).expect("valid");
        assert!(AttrLock::of(&args(quote::quote!(name = "invoice:{id}"))).is_none());
        // Braces only escaped: one constant name.
        let constant = AttrLock::of(&args(quote::quote!(name = "a{{b}}"))).expect("constant");
        assert_eq!(constant.lock.id, id("a{b}", "default"));
        // Skipping waits zero unless given a timeout.
        assert!(
            !AttrLock::of(&args(quote::quote!(name = "j", if_busy = "skip")))
                .expect("constant")
                .waits
        );
        assert!(
            AttrLock::of(&args(quote::quote!(
                name = "j",
                if_busy = "skip",
                timeout = 1
            )))
            .expect("constant")
            .waits
        );
    }

    #[test]
    fn lock_attributes_of_a_module() {
        let items = |tokens| syn::parse2::<syn::File>(tokens).expect("items").items;
        assert!(any_lock_attr(&items(quote::quote!(
            #[mysql_lock(name = "a:{id}")]
            fn f(id: u8) {}
        ))));
        assert!(any_lock_attr(&items(quote::quote!(
            use mysql_lock::mysql_lock as exclusive;
            impl T {
                #[exclusive(name = "a:{id}")]
                fn f(id: u8) {}
            }
        ))));
        assert!(!any_lock_attr(&items(quote::quote!(
            #[exclusive(name = "a")]
            fn f() {}
        ))));
    }

    #[test]
    fn descriptions() {
        let lock = LockName::new("job", "default").expect("valid");
        assert_eq!(lock.describe(), "\"job\"");
        let lock = LockName::new("job", "reports").expect("valid");
        assert_eq!(lock.describe(), "\"job\" (using \"reports\")");
    }
}
