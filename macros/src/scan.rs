//! The walk over a function body that finds its facts (see `facts`).
//!
//! What runs as part of the body is walked: statements, closures and async
//! blocks (they may run while the lock is held), and the arguments of the
//! standard macros that evaluate them (`println!`, `assert!`, `vec!`, ...).
//! When unsure, nothing is recorded: code behind `#[cfg]`, other macros
//! (`stringify!`, user macros), closures handed to `spawn` (another
//! thread), a `Lock` created but not acquired, and bare calls of a name
//! bound in the body (`let`, patterns, parameters, `use`): they may not
//! call the function of that name. Functions declared in the body are
//! separate functions: they are recorded with their own facts, and only
//! count when called. Other nested items (consts, statics, types) run no
//! code of the body.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{
    Arm, Attribute, Block, Expr, ExprAsync, ExprCall, ExprClosure, ExprMethodCall, ExprReturn,
    FnArg, ImplItem, Item, Macro, PatIdent, Signature, Stmt, Token, TraitItem, UseTree,
};

use crate::facts::{BodyFacts, Call, Callee, FnFacts, LockNew};
use crate::lock_chain::{acquire_chain, lock_new_name};
use crate::locks::{self, LockName};
use crate::syntax::{expr_attrs, has_cfg, is_self, item_attrs, peel};

/// The facts of a function: its attributes' locks, and its body's facts
/// without the bare calls of names its parameters or body bind.
pub(crate) fn function(attrs: &[Attribute], sig: &Signature, stmts: &[Stmt]) -> FnFacts {
    let mut body = scan(stmts);
    body.drop_shadowed(&parameters(sig));
    FnFacts {
        ident: sig.ident.clone(),
        locks: locks::attr_locks(attrs),
        body,
    }
}

/// The names the parameters of `sig` bind.
pub(crate) fn parameters(sig: &Signature) -> HashSet<String> {
    let mut params = Scanner::default();
    for input in &sig.inputs {
        if let FnArg::Typed(typed) = input {
            params.visit_pat(&typed.pat);
        }
    }
    params.facts.bound
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
    /// How many closures and async blocks the walk is in: a `return`
    /// there leaves them, not the body.
    in_closure: usize,
}

impl Scanner {
    /// Records the methods of an impl or trait block declared in a body,
    /// skipping those behind `#[cfg]`.
    fn push_methods<'a>(
        &mut self,
        methods: impl Iterator<Item = (&'a Vec<Attribute>, &'a Signature, &'a Block)>,
    ) {
        for (attrs, sig, block) in methods {
            if !has_cfg(attrs) {
                self.facts.methods.push(function(attrs, sig, &block.stmts));
            }
        }
    }

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

    fn visit_args(&mut self, args: &Punctuated<Expr, Token![,]>) {
        for arg in args {
            self.visit_expr(arg);
        }
    }

    fn visit_args_but_closures(&mut self, args: &Punctuated<Expr, Token![,]>) {
        for arg in args {
            if !matches!(peel(arg), Expr::Closure(_) | Expr::Async(_)) {
                self.visit_expr(arg);
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

    fn visit_expr_closure(&mut self, closure: &'ast ExprClosure) {
        self.in_closure += 1;
        visit::visit_expr_closure(self, closure);
        self.in_closure -= 1;
    }

    fn visit_expr_async(&mut self, block: &'ast ExprAsync) {
        self.in_closure += 1;
        visit::visit_expr_async(self, block);
        self.in_closure -= 1;
    }

    fn visit_expr_return(&mut self, ret: &'ast ExprReturn) {
        if ret.expr.is_none() && self.in_closure == 0 {
            self.facts.bare_return = true;
        }
        visit::visit_expr_return(self, ret);
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
                let facts = function(&f.attrs, &f.sig, &f.block.stmts);
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
            self.visit_args(&call.args);
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
                    self.visit_args_but_closures(&call.args);
                    return;
                }
            }
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        if let Some(chain) = acquire_chain(call) {
            self.push_lock_new(&chain.name, chain.alias, chain.root, chain.waits);
            // Everything else in the chain: the arguments.
            let mut link = call;
            loop {
                self.visit_args(&link.args);
                match peel(&link.receiver) {
                    Expr::MethodCall(inner) => link = inner,
                    _ => break,
                }
            }
            self.visit_args(&chain.root.args);
            return;
        }
        if is_spawn(&call.method.to_string()) {
            self.visit_expr(&call.receiver);
            self.visit_args_but_closures(&call.args);
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
