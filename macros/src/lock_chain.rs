//! Recognising the library's `Lock` in a body: `Lock::new("name")`, the
//! builder calls after it (`.timeout(..)`, `.wait_forever()`,
//! `.using(..)`), and the `.acquire()` or `.try_acquire()` that takes it.
//!
//! Only the library's `Lock` counts: `mysql_lock::Lock` (or through the
//! crate path given with `crate = ".."`), or a bare name that is it where
//! the macro can see the imports (another `Lock` imported or declared
//! where the macro sees it is not).

use std::collections::HashSet;

use mysql_lock_core::DEFAULT_ALIAS;
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Expr, ExprCall, ExprLit, ExprMethodCall, Lit, UseTree};

use crate::syntax::{peel, segment_names};

/// Which paths name the library's `Lock`.
#[derive(Clone)]
pub(crate) struct LockPaths {
    /// Bare names that mean `mysql_lock::Lock`: `Lock`, unless another
    /// `Lock` is imported or declared; and the names it is imported as.
    bare: HashSet<String>,
    /// The names the library's crate goes by: `mysql_lock`, and the last
    /// segment of a `crate = ".."` path.
    roots: HashSet<String>,
}

impl Default for LockPaths {
    fn default() -> Self {
        LockPaths {
            bare: HashSet::from(["Lock".to_owned()]),
            roots: HashSet::from(["mysql_lock".to_owned()]),
        }
    }
}

impl LockPaths {
    /// Another name of the library's crate (`crate = "deps::lock"`).
    pub(crate) fn add_root(&mut self, path: &syn::Path) {
        if let Some(last) = path.segments.last() {
            self.roots.insert(last.ident.to_string());
        }
    }

    /// An item named `Lock` declared where the calls are: not ours.
    pub(crate) fn declared(&mut self, name: &str) {
        self.bare.remove(name);
    }

    /// Applies the `use` declarations of one scope: globs first, since an
    /// explicit import wins over a glob.
    pub(crate) fn apply_uses<'a>(&mut self, trees: impl Iterator<Item = &'a UseTree> + Clone) {
        for pass_globs in [true, false] {
            for tree in trees.clone() {
                self.apply_use(tree, &mut Vec::new(), pass_globs);
            }
        }
    }

    fn apply_use(&mut self, tree: &UseTree, prefix: &mut Vec<String>, globs: bool) {
        match tree {
            UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.apply_use(&path.tree, prefix, globs);
                prefix.pop();
            }
            UseTree::Group(group) => {
                for tree in &group.items {
                    self.apply_use(tree, prefix, globs);
                }
            }
            // Another crate's glob may bring its own `Lock`.
            UseTree::Glob(_) if globs && !self.is_root(prefix) => {
                self.bare.remove("Lock");
            }
            UseTree::Name(name) if !globs && name.ident == "Lock" => {
                if self.is_root(prefix) {
                    self.bare.insert("Lock".to_owned());
                } else {
                    self.bare.remove("Lock");
                }
            }
            UseTree::Rename(rename) if !globs => {
                let renamed = rename.rename.to_string();
                if rename.ident == "Lock" && self.is_root(prefix) {
                    self.bare.insert(renamed);
                } else {
                    self.bare.remove(&renamed);
                }
            }
            _ => {}
        }
    }

    /// Whether `prefix` is the library's crate: `mysql_lock`,
    /// `::mysql_lock`, or `crate`'s override.
    fn is_root(&self, prefix: &[String]) -> bool {
        prefix.last().is_some_and(|last| self.roots.contains(last))
    }

    /// The lock of `Lock::new(<literal>)`, when `call` is one.
    pub(crate) fn lock_new(&self, call: &ExprCall) -> Option<LockSpec> {
        let Expr::Path(path) = peel(&call.func) else {
            return None;
        };
        if path.qself.is_some() || call.args.len() != 1 {
            return None;
        }
        let segments = segment_names(&path.path);
        let is_ours = match segments.as_slice() {
            [ty, new] => new == "new" && self.bare.contains(ty),
            [.., root, ty, new] => new == "new" && ty == "Lock" && self.roots.contains(root),
            _ => false,
        };
        if !is_ours {
            return None;
        }
        Some(LockSpec {
            name: string_value(&call.args[0]),
            alias: Some(DEFAULT_ALIAS.to_owned()),
            zero_timeout: false,
            at: call.to_token_stream(),
        })
    }
}

/// A `Lock` as built: its name and alias when literals, and whether its
/// timeout is zero.
#[derive(Clone)]
pub(crate) struct LockSpec {
    /// `None` when not a literal: nothing is known about the lock.
    pub(crate) name: Option<String>,
    /// The alias in effect; `None` when not a literal.
    pub(crate) alias: Option<String>,
    /// `.timeout(Duration::ZERO)` or the like: acquiring never waits.
    pub(crate) zero_timeout: bool,
    /// The `Lock::new(..)` call, for errors.
    pub(crate) at: TokenStream,
}

/// The builder calls on a receiver (`.timeout(..)`, `.wait_forever()`,
/// `.using(..)`), innermost first, and the receiver they start from.
pub(crate) struct Builders<'a> {
    pub(crate) root: &'a Expr,
    pub(crate) links: Vec<&'a ExprMethodCall>,
}

/// `expr` as builder calls on a root; `None` when another method comes in
/// between.
pub(crate) fn builders(expr: &Expr) -> Option<Builders<'_>> {
    let mut links = Vec::new();
    let mut receiver = peel(expr);
    while let Expr::MethodCall(link) = receiver {
        match link.method.to_string().as_str() {
            "using" | "timeout" if link.args.len() == 1 => {}
            "wait_forever" if link.args.is_empty() => {}
            _ => return None,
        }
        links.push(link);
        receiver = peel(&link.receiver);
    }
    links.reverse();
    Some(Builders {
        root: receiver,
        links,
    })
}

impl Builders<'_> {
    /// `spec` with these builder calls applied: the last one of a kind wins.
    pub(crate) fn apply(&self, mut spec: LockSpec) -> LockSpec {
        for link in &self.links {
            match link.method.to_string().as_str() {
                "using" => spec.alias = string_value(&link.args[0]),
                "timeout" => spec.zero_timeout = is_zero_duration(&link.args[0]),
                _ => spec.zero_timeout = false,
            }
        }
        spec
    }
}

/// `.acquire()` or `.try_acquire()` (or `.acquire_async()`,
/// `.try_acquire_async()`) on builder calls: the receiver's chain, and
/// whether the call may wait (`acquire`, `acquire_async`).
pub(crate) fn acquire_call(call: &ExprMethodCall) -> Option<(Builders<'_>, bool)> {
    let method = call.method.to_string();
    let waits = match method.as_str() {
        "acquire" | "acquire_async" => true,
        "try_acquire" | "try_acquire_async" => false,
        _ => return None,
    };
    if !call.args.is_empty() {
        return None;
    }
    Some((builders(&call.receiver)?, waits))
}

/// Whether `call` is one of the async acquiring methods, which take the
/// lock only when their future is awaited.
pub(crate) fn is_async_acquire(call: &ExprMethodCall) -> bool {
    call.method == "acquire_async" || call.method == "try_acquire_async"
}

/// A string literal, or a `String` made of one: `"name"`,
/// `"name".to_string()` (`to_owned`, `into`) or `String::from("name")`.
fn string_value(expr: &Expr) -> Option<String> {
    match peel(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit.value()),
        Expr::MethodCall(call)
            if call.args.is_empty()
                && ["to_string", "to_owned", "into"].contains(&&*call.method.to_string()) =>
        {
            string_value(&call.receiver)
        }
        Expr::Call(call) if call.args.len() == 1 => match peel(&call.func) {
            Expr::Path(path) if path.path.segments.len() == 2 => {
                let from = &path.path.segments;
                (from[0].ident == "String" && from[1].ident == "from")
                    .then(|| string_value(&call.args[0]))
                    .flatten()
            }
            _ => None,
        },
        _ => None,
    }
}

/// `Duration::ZERO`, or `Duration::from_secs(0)` and its kin.
fn is_zero_duration(expr: &Expr) -> bool {
    match peel(expr) {
        Expr::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == "ZERO"),
        Expr::Call(call) if call.args.len() == 1 => {
            let is_constructor = matches!(peel(&call.func), Expr::Path(path)
                if path.path.segments.last().is_some_and(|last| last.ident.to_string().starts_with("from_")));
            let is_zero = match peel(&call.args[0]) {
                Expr::Lit(ExprLit {
                    lit: Lit::Int(int), ..
                }) => int.base10_digits().chars().all(|c| c == '0'),
                Expr::Lit(ExprLit {
                    lit: Lit::Float(float),
                    ..
                }) => float.base10_parse::<f64>().is_ok_and(|secs| secs == 0.0),
                _ => false,
            };
            is_constructor && is_zero
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::{parse_quote, ItemUse};

    fn paths_after(uses: &[ItemUse]) -> LockPaths {
        let mut paths = LockPaths::default();
        paths.apply_uses(uses.iter().map(|item| &item.tree));
        paths
    }

    fn is_ours(paths: &LockPaths, call: ExprCall) -> bool {
        paths.lock_new(&call).is_some()
    }

    #[test]
    fn which_lock_is_the_librarys() {
        let bare: ExprCall = parse_quote!(Lock::new("x"));
        let renamed: ExprCall = parse_quote!(MysqlLock::new("x"));
        assert!(is_ours(&LockPaths::default(), bare.clone()));
        assert!(is_ours(
            &LockPaths::default(),
            parse_quote!(::mysql_lock::Lock::new("x"))
        ));
        assert!(!is_ours(
            &LockPaths::default(),
            parse_quote!(filelock::Lock::new("x"))
        ));
        // Another crate's `Lock`, or a glob that may bring one.
        assert!(!is_ours(
            &paths_after(&[parse_quote!(
                use filelock::Lock;
            )]),
            bare.clone()
        ));
        assert!(!is_ours(
            &paths_after(&[parse_quote!(
                use super::*;
            )]),
            bare.clone()
        ));
        assert!(is_ours(
            &paths_after(&[parse_quote!(
                use mysql_lock::*;
            )]),
            bare.clone()
        ));
        // An explicit import wins over a glob, in any order.
        let both = [
            parse_quote!(
                use mysql_lock::Lock;
            ),
            parse_quote!(
                use super::*;
            ),
        ];
        assert!(is_ours(&paths_after(&both), bare.clone()));
        let renames = [parse_quote!(
            use mysql_lock::{Lock as MysqlLock};
        )];
        assert!(is_ours(&paths_after(&renames), renamed));
        let mut declared = LockPaths::default();
        declared.declared("Lock");
        assert!(!is_ours(&declared, bare));
    }

    #[test]
    fn zero_durations() {
        for zero in [
            quote::quote!(Duration::ZERO),
            quote::quote!(std::time::Duration::from_secs(0)),
            quote::quote!(Duration::from_millis(0_0)),
            quote::quote!(Duration::from_secs_f64(0.0)),
        ] {
            assert!(
                is_zero_duration(&syn::parse2(zero.clone()).expect("expr")),
                "{zero}"
            );
        }
        for other in [
            quote::quote!(Duration::from_secs(1)),
            quote::quote!(timeout),
            quote::quote!(Duration::MAX),
        ] {
            assert!(
                !is_zero_duration(&syn::parse2(other.clone()).expect("expr")),
                "{other}"
            );
        }
    }
}
