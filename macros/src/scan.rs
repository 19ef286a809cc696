//! What a function body does that matters for nesting locks: the calls it
//! makes, the `Lock::new("...")` it creates, and the functions declared in
//! it.
//!
//! What runs as part of the body is walked: statements, closures and async
//! blocks (they may run while the lock is held), and the arguments of
//! macro calls when they parse as expressions or statements (`println!`,
//! `assert!`, `vec!`, ...). Functions declared in the body are separate
//! functions: they are recorded with their own facts, and only count when
//! called. Other nested items (consts, statics, types) run no code of the
//! body.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{
    Attribute, Block, Expr, ExprCall, ExprLit, ExprMethodCall, ImplItem, Item, Lit, LitStr, Macro,
    Signature, Stmt, Token, TraitItem,
};

use crate::args::DEFAULT_ALIAS;
use crate::locks::{self, LockName};

/// A function, as far as nesting is concerned.
pub(crate) struct FnFacts {
    pub(crate) ident: syn::Ident,
    /// The locks of its `#[mysql_lock]` attributes, held while it runs,
    /// with the literals of their names.
    pub(crate) locks: Vec<(LockName, LitStr)>,
    pub(crate) body: BodyFacts,
}

impl FnFacts {
    pub(crate) fn new(attrs: &[Attribute], sig: &Signature, body: BodyFacts) -> Self {
        FnFacts {
            ident: sig.ident.clone(),
            locks: locks::attr_locks(attrs),
            body,
        }
    }

    fn of_block(attrs: &[Attribute], sig: &Signature, block: &Block) -> Self {
        FnFacts::new(attrs, sig, scan(&block.stmts))
    }

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
    /// `Lock::new("...")` calls with a literal name, in order.
    pub(crate) lock_news: Vec<LockNew>,
    /// Calls that may reach a function the analysis knows, in order.
    pub(crate) calls: Vec<Call>,
    /// Free functions declared in the body: callable by their name.
    pub(crate) fns: Vec<FnFacts>,
    /// Methods of impls and traits declared in the body.
    pub(crate) methods: Vec<FnFacts>,
}

/// `Lock::new("name")`, possibly followed by `.using("alias")`.
pub(crate) struct LockNew {
    /// `None` when the alias is not a literal, or the name is invalid:
    /// then nothing is known about the lock.
    pub(crate) lock: Option<LockName>,
    /// The call, for errors.
    pub(crate) at: TokenStream,
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

/// The facts of a block's statements.
pub(crate) fn scan(stmts: &[Stmt]) -> BodyFacts {
    let mut scanner = Scanner::default();
    for stmt in stmts {
        scanner.visit_stmt(stmt);
    }
    scanner.facts
}

/// The facts of a body kept as tokens, or `None` if it does not parse
/// (then the compiler reports what is wrong with it).
pub(crate) fn scan_tokens(tokens: TokenStream) -> Option<BodyFacts> {
    let stmts = Block::parse_within.parse2(tokens).ok()?;
    Some(scan(&stmts))
}

#[derive(Default)]
struct Scanner {
    facts: BodyFacts,
}

impl<'ast> Visit<'ast> for Scanner {
    fn visit_item(&mut self, item: &'ast Item) {
        match item {
            Item::Fn(f) => {
                let facts = FnFacts::of_block(&f.attrs, &f.sig, &f.block);
                self.facts.fns.push(facts);
            }
            Item::Impl(block) => {
                for item in &block.items {
                    if let ImplItem::Fn(f) = item {
                        let facts = FnFacts::of_block(&f.attrs, &f.sig, &f.block);
                        self.facts.methods.push(facts);
                    }
                }
            }
            Item::Trait(block) => {
                for item in &block.items {
                    if let TraitItem::Fn(f) = item {
                        if let Some(default) = &f.default {
                            let facts = FnFacts::of_block(&f.attrs, &f.sig, default);
                            self.facts.methods.push(facts);
                        }
                    }
                }
            }
            // No code of the body: const and static initializers, types,
            // `use`, `macro_rules!`, ...
            _ => {}
        }
    }

    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        if let Some(name) = lock_new_name(call) {
            self.push_lock_new(&name, Some(DEFAULT_ALIAS.to_owned()), call);
            visit_args(self, &call.args);
            return;
        }
        if let Expr::Path(path) = peel(&call.func) {
            if path.qself.is_none() {
                let segments = path
                    .path
                    .segments
                    .iter()
                    .map(|segment| segment.ident.to_string())
                    .collect();
                self.facts.calls.push(Call {
                    callee: Callee::Path(segments),
                    at: path.to_token_stream(),
                });
            }
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        if let Some((root, name, alias)) = lock_new_chain(call) {
            self.push_lock_new(&name, alias, root);
            // Everything else in the chain: the arguments.
            let mut link = call;
            loop {
                visit_args(self, &link.args);
                match peel(&link.receiver) {
                    Expr::MethodCall(inner) => link = inner,
                    _ => break,
                }
            }
            visit_args(self, &root.args);
            return;
        }
        if is_self(&call.receiver) {
            let (receiver, dot, method) = (&call.receiver, &call.dot_token, &call.method);
            self.facts.calls.push(Call {
                callee: Callee::SelfMethod(call.method.to_string()),
                at: quote!(#receiver #dot #method),
            });
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        let exprs = Punctuated::<Expr, Token![,]>::parse_terminated;
        if let Ok(exprs) = exprs.parse2(mac.tokens.clone()) {
            for expr in &exprs {
                self.visit_expr(expr);
            }
        } else if let Ok(stmts) = Block::parse_within.parse2(mac.tokens.clone()) {
            for stmt in &stmts {
                self.visit_stmt(stmt);
            }
        }
    }
}

impl Scanner {
    fn push_lock_new(&mut self, name: &str, alias: Option<String>, call: &ExprCall) {
        let lock = alias.and_then(|alias| LockName::new(name, &alias));
        self.facts.lock_news.push(LockNew {
            lock,
            at: call.to_token_stream(),
        });
    }
}

fn visit_args(scanner: &mut Scanner, args: &Punctuated<Expr, Token![,]>) {
    for arg in args {
        scanner.visit_expr(arg);
    }
}

/// The expression inside parentheses and invisible groups.
fn peel(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => peel(&group.expr),
        Expr::Paren(paren) => peel(&paren.expr),
        other => other,
    }
}

fn is_self(expr: &Expr) -> bool {
    matches!(peel(expr), Expr::Path(path) if path.qself.is_none() && path.path.is_ident("self"))
}

/// The name of `Lock::new("name")` (any path ending in `Lock::new`: the
/// runtime may be imported or renamed), when it is a literal: `"name"`,
/// `"name".to_string()` (`to_owned`, `into`) or `String::from("name")`.
fn lock_new_name(call: &ExprCall) -> Option<String> {
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

/// For `Lock::new("name").timeout(..).using("alias").acquire()` seen from
/// its outermost method call: the `Lock::new` call, its name, and the
/// alias in effect (the last `using`; `None` when not a literal).
fn lock_new_chain(call: &ExprMethodCall) -> Option<(&ExprCall, String, Option<String>)> {
    let mut alias: Option<Option<String>> = None;
    let mut link = call;
    loop {
        if alias.is_none() && link.method == "using" && link.args.len() == 1 {
            alias = Some(match peel(&link.args[0]) {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(lit), ..
                }) => Some(lit.value()),
                _ => None,
            });
        }
        match peel(&link.receiver) {
            Expr::MethodCall(inner) => link = inner,
            Expr::Call(root) => {
                let name = lock_new_name(root)?;
                let alias = alias.unwrap_or_else(|| Some(DEFAULT_ALIAS.to_owned()));
                return Some((root, name, alias));
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(body: TokenStream) -> BodyFacts {
        scan_tokens(body).expect("parses")
    }

    fn names(facts: &BodyFacts) -> Vec<Option<String>> {
        facts
            .lock_news
            .iter()
            .map(|new| new.lock.as_ref().map(LockName::describe))
            .collect()
    }

    #[test]
    fn lock_news_and_their_aliases() {
        let facts = facts(quote! {
            let a = Lock::new("a").acquire()?;
            let b = mysql_lock::Lock::new("b".to_string()).timeout(t).using("other").acquire();
            let c = ::mysql_lock::Lock::new(String::from("c")).using(ALIAS);
            let d = || Lock::new("d").using("x").using("default");
            println!("{:?}", Lock::new("e"));
            let f = Lock::new(name);
            let g = Other::new("g");
        });
        assert_eq!(
            names(&facts),
            [
                Some("\"a\"".to_owned()),
                Some("\"b\" (using \"other\")".to_owned()),
                None,
                Some("\"d\"".to_owned()),
                Some("\"e\"".to_owned()),
            ]
        );
    }

    #[test]
    fn calls() {
        let facts = facts(quote! {
            a();
            self::b(1);
            Self::c();
            Worker::d(x).e();
            self.f(g(2));
            let h = |x| i(x);
            assert!(j());
            vec![k(); 2];
        });
        let callees: Vec<String> = facts
            .calls
            .iter()
            .map(|call| match &call.callee {
                Callee::Path(path) => path.join("::"),
                Callee::SelfMethod(method) => format!("self.{method}"),
            })
            .collect();
        assert_eq!(
            callees,
            [
                "a",
                "self::b",
                "Self::c",
                "Worker::d",
                "self.f",
                "g",
                "i",
                "j",
                "k"
            ]
        );
    }

    #[test]
    fn nested_functions_are_kept_apart() {
        let facts = facts(quote! {
            #[mysql_lock(name = "inner")]
            fn inner() -> Result<(), E> { Lock::new("x"); Ok(()) }
            impl T { fn m(&self) { helper(); } }
            const C: u8 = f();
            inner()
        });
        assert!(facts.lock_news.is_empty());
        assert_eq!(facts.calls.len(), 1);
        assert_eq!(facts.fns.len(), 1);
        assert_eq!(facts.fns[0].locks.len(), 1);
        assert_eq!(facts.fns[0].body.lock_news.len(), 1);
        assert_eq!(facts.methods.len(), 1);
        assert_eq!(facts.methods[0].body.calls.len(), 1);
    }
}
