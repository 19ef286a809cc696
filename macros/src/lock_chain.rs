//! Recognising `Lock::new("name")...acquire()`: the call chains that take
//! a lock known by its literal name, on a known alias.

use mysql_lock_core::DEFAULT_ALIAS;
use syn::{Expr, ExprCall, ExprLit, ExprMethodCall, Lit};

use crate::syntax::peel;

/// `Lock::new("name").timeout(..).using("alias").acquire()`, seen from its
/// `.acquire()` or `.try_acquire()`.
pub(crate) struct AcquireChain<'a> {
    /// The `Lock::new(..)` call.
    pub(crate) root: &'a ExprCall,
    pub(crate) name: String,
    /// The alias in effect (the last `using`); `None` when not a literal.
    pub(crate) alias: Option<String>,
    /// `.acquire()`, which waits; not `.try_acquire()`.
    pub(crate) waits: bool,
}

/// The chain that `call` ends, when it is one: only `timeout`,
/// `wait_forever` and `using` may come between `Lock::new` and the
/// acquiring call.
pub(crate) fn acquire_chain(call: &ExprMethodCall) -> Option<AcquireChain<'_>> {
    if !(call.method == "acquire" || call.method == "try_acquire") || !call.args.is_empty() {
        return None;
    }
    let mut alias: Option<Option<String>> = None;
    let mut receiver = &*call.receiver;
    loop {
        match peel(receiver) {
            Expr::MethodCall(link) => {
                match link.method.to_string().as_str() {
                    "using" if link.args.len() == 1 => {
                        if alias.is_none() {
                            alias = Some(string_literal(&link.args[0]));
                        }
                    }
                    "timeout" | "wait_forever" => {}
                    _ => return None,
                }
                receiver = &link.receiver;
            }
            Expr::Call(root) => {
                return Some(AcquireChain {
                    root,
                    name: lock_new_name(root)?,
                    alias: alias.unwrap_or_else(|| Some(DEFAULT_ALIAS.to_owned())),
                    waits: call.method == "acquire",
                });
            }
            _ => return None,
        }
    }
}

/// The name of `Lock::new("name")` (any path ending in `Lock::new`: the
/// runtime may be imported or renamed), when it is a literal: `"name"`,
/// `"name".to_string()` (`to_owned`, `into`) or `String::from("name")`.
pub(crate) fn lock_new_name(call: &ExprCall) -> Option<String> {
    let Expr::Path(path) = peel(&call.func) else {
        return None;
    };
    let segments: Vec<_> = path.path.segments.iter().collect();
    let [.., ty, new] = segments.as_slice() else {
        return None;
    };
    if ty.ident != "Lock" || new.ident != "new" || call.args.len() != 1 {
        return None;
    }
    string_value(&call.args[0])
}

fn string_literal(expr: &Expr) -> Option<String> {
    match peel(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit.value()),
        _ => None,
    }
}

/// A string literal, or a `String` made of one.
fn string_value(expr: &Expr) -> Option<String> {
    match peel(expr) {
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
        other => string_literal(other),
    }
}
