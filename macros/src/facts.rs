//! What a function does that matters for nesting locks, as `scan` finds
//! it: the locks of its attributes, the calls it makes, the `Lock`s it
//! acquires, and the functions declared in its body.

use proc_macro2::TokenStream;

use crate::locks::{AttrLock, LockName};

/// A function, as far as nesting is concerned.
pub(crate) struct FnFacts {
    pub(crate) ident: syn::Ident,
    /// The locks of its `#[mysql_lock]` attributes, held while it runs.
    pub(crate) locks: Vec<AttrLock>,
    pub(crate) body: BodyFacts,
    /// An `async fn`: a call runs its body only when awaited.
    pub(crate) is_async: bool,
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
    /// Locks taken by hand and held for a stretch of the body: `let guard =
    /// Lock::new("x").acquire()?;` and the statements after it in its
    /// block, up to the first mention of `guard`.
    pub(crate) holds: Vec<Hold>,
    /// Free functions declared in the body: callable by their name.
    pub(crate) fns: Vec<FnFacts>,
    /// Methods of impls and traits declared in the body.
    pub(crate) methods: Vec<FnFacts>,
    /// A `return;` of the body itself (not of a closure in it), which
    /// returns `()`.
    pub(crate) bare_return: bool,
}

/// `Lock::new("name")...acquire()` (or `.try_acquire()`, or their async
/// forms awaited), possibly with `.using("alias")` in between.
#[derive(Clone)]
pub(crate) struct LockNew {
    /// `None` when the alias is not a literal, or the name is invalid:
    /// then nothing is known about the lock.
    pub(crate) lock: Option<LockName>,
    /// The call, for errors.
    pub(crate) at: TokenStream,
    /// Acquired in a way that may wait: `.acquire()` without a zero
    /// timeout (`.try_acquire()`, or a zero timeout, never waits, so takes
    /// no part in lock-order inversions).
    pub(crate) waits: bool,
}

/// A lock taken by hand and certainly held while some calls are made.
pub(crate) struct Hold {
    pub(crate) lock: LockName,
    /// The `Lock::new(..)` call, for errors.
    pub(crate) at: TokenStream,
    pub(crate) waits: bool,
    /// What runs while it is held.
    pub(crate) calls: Vec<Call>,
    pub(crate) lock_news: Vec<LockNew>,
}

#[derive(Clone)]
pub(crate) struct Call {
    pub(crate) callee: Callee,
    /// The callee as written (`f`, `Self::f`, `self.f`), for errors.
    pub(crate) at: TokenStream,
    /// The call is awaited where it is made (`f(..).await`): only then
    /// does an `async fn` callee run, here, while the caller's locks are
    /// held (a future made and handed on, to `spawn` or anything else,
    /// runs elsewhere, later, or never).
    pub(crate) awaited: bool,
}

#[derive(Clone)]
pub(crate) enum Callee {
    /// `f(..)`, `self::f(..)`, `Self::f(..)`, `Type::f(..)`: the segments.
    Path(Vec<String>),
    /// `<Type as Trait>::f(..)` (`trait_` is `None` for `<Type>::f(..)`).
    Qualified {
        ty: String,
        trait_: Option<String>,
        name: String,
    },
    /// `self.f(..)`.
    SelfMethod(String),
}
