//! What a function body does that matters for nesting locks: the calls it
//! makes, the `Lock::new("...")` it acquires, and the functions declared
//! in it.
//!
//! What runs as part of the body is walked: statements, closures and async
//! blocks (they may run while the lock is held), and the arguments of the
//! standard macros that evaluate them (`println!`, `assert!`, `vec!`, ...).
//! When unsure, nothing is recorded: code behind `#[cfg]`, other macros
//! (`stringify!`, user macros), closures handed to `spawn` (another
//! thread), a `Lock` created but not acquired, and bare calls of a name
//! bound in the body (`let`, patterns, parameters, `use`): they may not
//! call the function of that name. Functions declared in the body are separate
//! functions: they are recorded with their own facts, and only count when
//! called. Other nested items (consts, statics, types) run no code of the
//! body.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use std::collections::HashSet;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};

use syn::{
    Arm, Attribute, Block, Expr, ExprCall, ExprLit, ExprMethodCall, FnArg, ImplItem, Item, Lit,
    LitStr, Macro, PatIdent, Signature, Stmt, Token, TraitItem, UseTree,
};

use crate::locks::{self, LockName};
use mysql_lock_core::DEFAULT_ALIAS;

/// A function, as far as nesting is concerned.
pub(crate) struct FnFacts {
    pub(crate) ident: syn::Ident,
    /// The locks of its `#[mysql_lock]` attributes, held while it runs,
    /// with the literals of their names.
    pub(crate) locks: Vec<(LockName, LitStr)>,
    pub(crate) body: BodyFacts,
}

impl FnFacts {
    pub(crate) fn new(attrs: &[Attribute], sig: &Signature, mut body: BodyFacts) -> Self {
        body.drop_shadowed(sig);
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
    bound: HashSet<String>,
    /// A glob `use` in the body: any bare name may come from it.
    glob: bool,
}

impl BodyFacts {
    /// Drops the bare calls `f(..)` whose name is bound in the body or by
    /// a parameter of `sig`: they may call the binding, not the function.
    pub(crate) fn drop_shadowed(&mut self, sig: &Signature) {
        let mut params = Scanner::default();
        for input in &sig.inputs {
            if let FnArg::Typed(typed) = input {
                params.visit_pat(&typed.pat);
            }
        }
        let bound: HashSet<String> = self.bound.union(&params.facts.bound).cloned().collect();
        let glob = self.glob;
        self.calls.retain(|call| match &call.callee {
            Callee::Path(path) if path.len() == 1 => !glob && !bound.contains(&path[0]),
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

impl Scanner {
    /// Records the methods of an impl or trait block declared in a body,
    /// skipping those behind `#[cfg]`.
    fn push_methods<'a>(
        &mut self,
        methods: impl Iterator<Item = (&'a Vec<syn::Attribute>, &'a syn::Signature, &'a syn::Block)>,
    ) {
        for (attrs, sig, block) in methods {
            if !has_cfg(attrs) {
                self.facts
                    .methods
                    .push(FnFacts::of_block(attrs, sig, block));
            }
        }
    }
}

impl<'ast> Visit<'ast> for Scanner {
    fn visit_stmt(&mut self, stmt: &'ast Stmt) {
        let attrs: &[Attribute] = match stmt {
            Stmt::Local(local) => &local.attrs,
            Stmt::Macro(mac) => &mac.attrs,
            Stmt::Item(item) => item_attrs(item),
            Stmt::Expr(expr, _) => expr_attrs(expr),
        };
        // Compiled or not, we can't know: skipped.
        if has_cfg(attrs) {
            return;
        }
        visit::visit_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        if has_cfg(expr_attrs(expr)) {
            return;
        }
        visit::visit_expr(self, expr);
    }

    fn visit_arm(&mut self, arm: &'ast Arm) {
        if has_cfg(&arm.attrs) {
            return;
        }
        visit::visit_arm(self, arm);
    }

    fn visit_pat_ident(&mut self, pat: &'ast PatIdent) {
        self.facts.bound.insert(pat.ident.to_string());
        visit::visit_pat_ident(self, pat);
    }

    fn visit_item(&mut self, item: &'ast Item) {
        if has_cfg(item_attrs(item)) {
            return;
        }
        match item {
            Item::Fn(f) => {
                let facts = FnFacts::of_block(&f.attrs, &f.sig, &f.block);
                self.facts.fns.push(facts);
            }
            Item::Impl(block) => {
                self.push_methods(block.items.iter().filter_map(|item| match item {
                    ImplItem::Fn(f) => Some((&f.attrs, &f.sig, &f.block)),
                    _ => None,
                }))
            }
            // Trait methods with a default body; those without have no code.
            Item::Trait(block) => {
                self.push_methods(block.items.iter().filter_map(|item| match item {
                    TraitItem::Fn(f) => f.default.as_ref().map(|body| (&f.attrs, &f.sig, body)),
                    _ => None,
                }))
            }
            Item::Use(use_item) => self.bind_use(&use_item.tree),
            // No code of the body: const and static initializers, types,
            // `macro_rules!`, ...
            _ => {}
        }
    }

    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        if lock_new_name(call).is_some() {
            // Creating a `Lock` takes nothing: only `.acquire()` does.
            visit_args(self, &call.args);
            return;
        }
        if let Expr::Path(path) = peel(&call.func) {
            if path.qself.is_none() {
                let segments: Vec<String> = path
                    .path
                    .segments
                    .iter()
                    .map(|segment| segment.ident.to_string())
                    .collect();
                let spawns = segments.last().is_some_and(|last| is_spawn(last));
                self.facts.calls.push(Call {
                    callee: Callee::Path(segments),
                    at: path.to_token_stream(),
                });
                if spawns {
                    // Runs on another thread: not while this one holds
                    // its lock as far as re-entrance goes.
                    visit_args_but_closures(self, &call.args);
                    return;
                }
            }
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        if let Some((root, name, alias)) = acquire_chain(call) {
            self.push_lock_new(&name, alias, root, call.method == "acquire");
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
        if is_spawn(&call.method.to_string()) {
            self.visit_expr(&call.receiver);
            visit_args_but_closures(self, &call.args);
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
        // Only macros known to evaluate their arguments as expressions;
        // others (`stringify!`, `concat!`, user macros, ...) may not run
        // them at all.
        let Some(last) = mac.path.segments.last() else {
            return;
        };
        if !EVALUATING_MACROS.contains(&&*last.ident.to_string()) {
            return;
        }
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

/// Macros whose arguments are evaluated as expressions.
const EVALUATING_MACROS: &[&str] = &[
    "format",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "vec",
    "panic",
    "dbg",
];

/// Calls whose closure runs on another thread: `thread::spawn`,
/// `scope.spawn`, `Builder::spawn`, `rayon::spawn`, `spawn_blocking`...
fn is_spawn(name: &str) -> bool {
    matches!(name, "spawn" | "spawn_blocking" | "spawn_scoped")
}

pub(crate) fn has_cfg(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .any(|attr| attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr"))
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn expr_attrs(expr: &Expr) -> &[Attribute] {
    match expr {
        Expr::Array(e) => &e.attrs,
        Expr::Assign(e) => &e.attrs,
        Expr::Async(e) => &e.attrs,
        Expr::Await(e) => &e.attrs,
        Expr::Binary(e) => &e.attrs,
        Expr::Block(e) => &e.attrs,
        Expr::Break(e) => &e.attrs,
        Expr::Call(e) => &e.attrs,
        Expr::Cast(e) => &e.attrs,
        Expr::Closure(e) => &e.attrs,
        Expr::Const(e) => &e.attrs,
        Expr::Continue(e) => &e.attrs,
        Expr::Field(e) => &e.attrs,
        Expr::ForLoop(e) => &e.attrs,
        Expr::Group(e) => &e.attrs,
        Expr::If(e) => &e.attrs,
        Expr::Index(e) => &e.attrs,
        Expr::Let(e) => &e.attrs,
        Expr::Lit(e) => &e.attrs,
        Expr::Loop(e) => &e.attrs,
        Expr::Macro(e) => &e.attrs,
        Expr::Match(e) => &e.attrs,
        Expr::MethodCall(e) => &e.attrs,
        Expr::Paren(e) => &e.attrs,
        Expr::Path(e) => &e.attrs,
        Expr::Range(e) => &e.attrs,
        Expr::Reference(e) => &e.attrs,
        Expr::Repeat(e) => &e.attrs,
        Expr::Return(e) => &e.attrs,
        Expr::Struct(e) => &e.attrs,
        Expr::Try(e) => &e.attrs,
        Expr::TryBlock(e) => &e.attrs,
        Expr::Tuple(e) => &e.attrs,
        Expr::Unary(e) => &e.attrs,
        Expr::Unsafe(e) => &e.attrs,
        Expr::While(e) => &e.attrs,
        Expr::Yield(e) => &e.attrs,
        _ => &[],
    }
}

impl Scanner {
    fn push_lock_new(&mut self, name: &str, alias: Option<String>, call: &ExprCall, waits: bool) {
        let lock = alias.and_then(|alias| LockName::new(name, &alias));
        self.facts.lock_news.push(LockNew {
            lock,
            at: call.to_token_stream(),
            waits,
        });
    }

    /// The names a `use` in the body brings in.
    fn bind_use(&mut self, tree: &UseTree) {
        match tree {
            UseTree::Path(path) => self.bind_use(&path.tree),
            UseTree::Name(name) => {
                self.facts.bound.insert(name.ident.to_string());
            }
            UseTree::Rename(rename) => {
                self.facts.bound.insert(rename.rename.to_string());
            }
            UseTree::Glob(_) => self.facts.glob = true,
            UseTree::Group(group) => {
                for tree in &group.items {
                    self.bind_use(tree);
                }
            }
        }
    }
}

fn visit_args_but_closures(scanner: &mut Scanner, args: &Punctuated<Expr, Token![,]>) {
    for arg in args {
        if !matches!(peel(arg), Expr::Closure(_) | Expr::Async(_)) {
            scanner.visit_expr(arg);
        }
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
/// its `.acquire()` or `.try_acquire()`: the `Lock::new` call, its name,
/// and the alias in effect (the last `using`; `None` when not a literal).
/// Only `timeout`, `wait_forever` and `using` may come in between.
fn acquire_chain(call: &ExprMethodCall) -> Option<(&ExprCall, String, Option<String>)> {
    if !(call.method == "acquire" || call.method == "try_acquire") || !call.args.is_empty() {
        return None;
    }
    let mut alias: Option<Option<String>> = None;
    let mut receiver = &*call.receiver;
    loop {
        match peel(receiver) {
            Expr::MethodCall(link) => {
                let method = link.method.to_string();
                match method.as_str() {
                    "using" if link.args.len() == 1 => {
                        if alias.is_none() {
                            alias = Some(match peel(&link.args[0]) {
                                Expr::Lit(ExprLit {
                                    lit: Lit::Str(lit), ..
                                }) => Some(lit.value()),
                                _ => None,
                            });
                        }
                    }
                    "timeout" | "wait_forever" => {}
                    _ => return None,
                }
                receiver = &link.receiver;
            }
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
            let c = ::mysql_lock::Lock::new(String::from("c")).using(ALIAS).try_acquire();
            let d = || Lock::new("d").using("x").using("default").wait_forever().acquire();
            println!("{:?}", Lock::new("e").acquire());
            let f = Lock::new(name).acquire();
            let g = Other::new("g").acquire();
            // Not taken: created, or asked about.
            let h = Lock::new("h");
            let i = Lock::new("i").is_held();
            let j = Lock::new("j").using("x").logical_name();
            let k = Lock::new("k").acquire_later().acquire();
            stringify!(Lock::new("l").acquire());
            #[cfg(feature = "x")]
            let m = Lock::new("m").acquire();
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
        let waits: Vec<bool> = facts.lock_news.iter().map(|new| new.waits).collect();
        assert_eq!(waits, [true, true, false, true, true]);
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
            fn inner() -> Result<(), E> { Lock::new("x").acquire(); Ok(()) }
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
