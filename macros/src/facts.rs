//! What a function does that matters for nesting locks, as `scan` finds
//! it: the locks of its attributes, the calls it makes, the `Lock`s it
//! acquires, and the functions declared in its body.

use std::collections::HashSet;

use proc_macro2::TokenStream;

use crate::locks::{AttrLock, LockName};

/// A function, as far as nesting is concerned.
pub(crate) struct FnFacts {
    pub(crate) ident: syn::Ident,
    /// The locks of its `#[mysql_lock]` attributes, held while it runs.
    pub(crate) locks: Vec<AttrLock>,
    pub(crate) body: BodyFacts,
}

impl FnFacts {
    /// Every function declared in this one's body, at any depth.
    pub(crate) fn declared_within(&self) -> Vec<&FnFacts> {
        let mut all = Vec::new();
        let mut pending: Vec<&FnFacts> = vec![self];
        while let Some(facts) = pending.pop() {
            for nested in facts.body.fns.iter().chain(&facts.body.methods) {
                all.push(nested);
                pending.push(nested);
            }
        }
        all
    }
}

#[derive(Default)]
pub(crate) struct BodyFacts {
    /// `Lock::new("...")` acquired, with a literal name, in order.
    pub(crate) lock_news: Vec<LockNew>,
    /// Calls that may reach a function the analysis knows, in order.
    pub(crate) calls: Vec<Call>,
    /// Free functions declared in the body: callable by their name.
    pub(crate) fns: Vec<FnFacts>,
    /// Methods of impls and traits declared in the body.
    pub(crate) methods: Vec<FnFacts>,
    /// Every name bound in the body by a pattern (`let`, parameters of
    /// closures, `match` arms, `for`, ...) or a `use`: a bare call of such
    /// a name may not call the function of that name.
    pub(crate) bound: HashSet<String>,
    /// A glob `use` in the body: any bare name may come from it.
    pub(crate) glob: bool,
    /// A `return;` of the body itself (not of a closure in it), which
    /// returns `()`.
    pub(crate) bare_return: bool,
}

impl BodyFacts {
    /// Drops the bare calls `f(..)` whose name is bound in the body or in
    /// `params`: they may call the binding, not the function.
    pub(crate) fn drop_shadowed(&mut self, params: &HashSet<String>) {
        let (bound, glob) = (&self.bound, self.glob);
        self.calls.retain(|call| match &call.callee {
            Callee::Path(path) if path.len() == 1 => {
                !glob && !bound.contains(&path[0]) && !params.contains(&path[0])
            }
            _ => true,
        });
    }
}

/// `Lock::new("name")...acquire()` (or `.try_acquire()`), possibly with
/// `.using("alias")` in between.
pub(crate) struct LockNew {
    /// `None` when the alias is not a literal, or the name is invalid:
    /// then nothing is known about the lock.
    pub(crate) lock: Option<LockName>,
    /// The call, for errors.
    pub(crate) at: TokenStream,
    /// Acquired with `.acquire()`, which waits (`.try_acquire()` does
    /// not, so it takes no part in lock-order inversions).
    pub(crate) waits: bool,
}

pub(crate) struct Call {
    pub(crate) callee: Callee,
    /// The callee as written (`f`, `Self::f`, `self.f`), for errors.
    pub(crate) at: TokenStream,
}

pub(crate) enum Callee {
    /// `f(..)`, `self::f(..)`, `Self::f(..)`, `Type::f(..)`: the segments.
    Path(Vec<String>),
    /// `self.f(..)`.
    SelfMethod(String),
}
