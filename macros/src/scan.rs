//! The walk over a function body that finds its facts (see `facts`).
//!
//! What certainly runs as part of the body, while its locks are held, is
//! walked: statements, the arguments of the standard macros that evaluate
//! them (`println!`, `assert!`, `matches!`, `vec!`, ...), and closures
//! that are certainly called there: called at once, called later by the
//! name they were bound to (`let task = || ..; task()`), or handed to a
//! standard adaptor that calls them before it returns (`map`,
//! `for_each`, `and_then`, `unwrap_or_else`, `thread::scope`, ...).
//!
//! When unsure, nothing is recorded: code behind `#[cfg]`, other macros
//! (`stringify!`, user macros), closures stored, returned, boxed, handed
//! to `spawn` or to any other function (they may run later, elsewhere,
//! or never), async blocks, a `Lock` created but not acquired, and calls
//! of a name that a binding or a `use` in scope may mean instead of the
//! function (`let`, parameters, patterns, `use`, types declared in the
//! body). Bindings are in scope from where they are made, as in Rust:
//! `let report = report()?;` calls the function `report`.
//!
//! Functions declared in the body are separate functions: they are
//! recorded with their own facts, and only count when called. Other
//! nested items (consts, statics, types) run no code of the body.

use std::collections::HashSet;
use std::rc::Rc;

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{
    Arm, Attribute, Block, Expr, ExprAsync, ExprCall, ExprClosure, ExprForLoop, ExprIf, ExprLet,
    ExprMethodCall, ExprPath, ExprReturn, ExprWhile, FnArg, ImplItem, Item, Local, Macro, Pat,
    Signature, Stmt, Token, TraitItem,
};

use crate::facts::{BodyFacts, Call, Callee, FnFacts, Hold, LockNew};
use crate::lock_chain::{acquire_call, builders, is_async_acquire, Builders, LockPaths, LockSpec};
use crate::locks::{self, AttrNames, LockName};
use crate::scopes::{simple_binding, Binding, ClosureFacts, Scope, Scopes};
use crate::syntax::{expr_attrs, has_cfg, is_self, item_attrs, peel, segment_names, type_name};

/// What names mean where a function is declared, as far as the macro can
/// see its imports.
#[derive(Clone, Default)]
pub(crate) struct Context {
    /// Which `Lock` is the library's.
    pub(crate) paths: LockPaths,
    /// The names of the `#[mysql_lock]` attribute.
    pub(crate) attrs: AttrNames,
}

/// The facts of a function: its attributes' locks and its body's facts.
pub(crate) fn function(
    attrs: &[Attribute],
    sig: &Signature,
    stmts: &[Stmt],
    cx: &Context,
) -> FnFacts {
    FnFacts {
        ident: sig.ident.clone(),
        locks: locks::attr_locks_named(attrs, &cx.attrs),
        body: body(sig, stmts, cx),
        is_async: sig.asyncness.is_some(),
    }
}

/// The facts of the body `stmts` of the function `sig`.
pub(crate) fn body(sig: &Signature, stmts: &[Stmt], cx: &Context) -> BodyFacts {
    let mut scanner = Scanner {
        facts: BodyFacts::default(),
        cx: cx.clone(),
        scopes: Scopes::default(),
        in_closure: 0,
        open_holds: Vec::new(),
        consumed: HashSet::new(),
        awaited_calls: HashSet::new(),
        awaited_methods: HashSet::new(),
    };
    for input in &sig.inputs {
        if let FnArg::Typed(typed) = input {
            scanner.bind(&typed.pat);
        }
    }
    scanner.visit_stmts(stmts);
    scanner.facts
}

/// The facts of a body kept as tokens, or `None` if it does not parse
/// (then the compiler reports what is wrong with it).
pub(crate) fn body_tokens(sig: &Signature, tokens: TokenStream, cx: &Context) -> Option<BodyFacts> {
    let stmts = Block::parse_within.parse2(tokens).ok()?;
    Some(body(sig, &stmts, cx))
}

struct Scanner {
    facts: BodyFacts,
    /// Which `Lock` and attribute names are the library's, as the `use`s
    /// in scope say.
    cx: Context,
    /// What names mean, innermost scope last.
    scopes: Scopes,
    /// How many closures and async blocks the walk is in: a `return`
    /// there leaves them, not the body.
    in_closure: usize,
    /// The holds of `facts.holds` still in force.
    open_holds: Vec<OpenHold>,
    /// Lazy adaptor calls whose chain is consumed where it stands (see
    /// `LAZY_METHODS`).
    consumed: HashSet<*const ExprMethodCall>,
    /// Calls awaited where they are made (`f(..).await`, `self.f(..).await`,
    /// `lock.acquire_async().await`): the only ones whose future certainly
    /// runs here.
    awaited_calls: HashSet<*const ExprCall>,
    awaited_methods: HashSet<*const ExprMethodCall>,
}

struct OpenHold {
    /// Index in `facts.holds`.
    index: usize,
    /// The guard's binding: its first mention ends the hold.
    guard: String,
    /// The scope it was opened in: it ends with that scope.
    depth: usize,
}

impl Scanner {
    fn record_call(&mut self, call: Call) {
        // (Inside a stored closure, the open holds are stand-ins, with no
        // hold of their own: see `stored_closure`.)
        for open in &self.open_holds {
            if let Some(hold) = self.facts.holds.get_mut(open.index) {
                hold.calls.push(call.clone());
            }
        }
        self.facts.calls.push(call);
    }

    fn record_lock_new(&mut self, new: LockNew) {
        for open in &self.open_holds {
            if let Some(hold) = self.facts.holds.get_mut(open.index) {
                hold.lock_news.push(new.clone());
            }
        }
        self.facts.lock_news.push(new);
    }

    /// A stored closure called: what it does happens here.
    fn record_closure(&mut self, closure: &ClosureFacts) {
        for call in &closure.calls {
            self.record_call(call.clone());
        }
        for new in &closure.lock_news {
            self.record_lock_new(new.clone());
        }
    }

    fn binding(&self, name: &str) -> Option<&Binding> {
        self.scopes.binding(name)
    }

    /// Binds every name of `pat` in the innermost scope.
    fn bind(&mut self, pat: &Pat) {
        self.scopes.bind(pat);
    }

    fn in_scope(&mut self, walk: impl FnOnce(&mut Self)) {
        self.in_given_scope(Scope::default(), walk);
    }

    /// Walks in `scope`; the locks held by hand in it end with it.
    fn in_given_scope(&mut self, scope: Scope, walk: impl FnOnce(&mut Self)) {
        self.scopes.push(scope);
        walk(self);
        let depth = self.scopes.depth();
        self.open_holds.retain(|open| open.depth < depth);
        self.scopes.pop();
    }

    /// The statements of a block, in a scope of their own. Its items are
    /// visible throughout it, before them too.
    fn visit_stmts(&mut self, stmts: &[Stmt]) {
        let (scope, uses) = Scope::of_items(stmts);
        let saved = (!uses.is_empty() || scope.types.contains("Lock")).then(|| {
            let saved = self.cx.clone();
            self.cx.paths.apply_uses(uses.iter().copied());
            for tree in &uses {
                self.cx.attrs.apply_use(tree);
            }
            if scope.types.contains("Lock") {
                self.cx.paths.declared("Lock");
            }
            saved
        });
        self.in_given_scope(scope, |this| {
            for stmt in stmts {
                this.visit_stmt(stmt);
            }
        });
        if let Some(saved) = saved {
            self.cx = saved;
        }
    }

    /// A closure that certainly runs here: its body as part of this one.
    fn run_closure(&mut self, closure: &ExprClosure) {
        self.in_closure += 1;
        self.in_scope(|this| {
            for input in &closure.inputs {
                this.bind(input);
            }
            this.visit_expr(&closure.body);
        });
        self.in_closure -= 1;
    }

    /// A closure that may run later, or never: what it would do, kept
    /// apart. The functions declared in it are still recorded.
    fn stored_closure(&mut self, walk: impl FnOnce(&mut Self)) -> ClosureFacts {
        let outer = std::mem::take(&mut self.facts);
        let holds = std::mem::take(&mut self.open_holds);
        // Which of the open holds' guards the closure mentions: moved into
        // it (or released in it), a guard is no longer known to be held.
        let guards: Vec<String> = holds.iter().map(|open| open.guard.clone()).collect();
        self.open_holds = holds
            .iter()
            .map(|open| OpenHold {
                index: usize::MAX,
                guard: open.guard.clone(),
                depth: 0,
            })
            .collect();
        walk(self);
        let still: Vec<String> = self
            .open_holds
            .iter()
            .filter(|open| open.index == usize::MAX)
            .map(|open| open.guard.clone())
            .collect();
        let inner = std::mem::replace(&mut self.facts, outer);
        self.open_holds = holds
            .into_iter()
            .filter(|open| !guards.contains(&open.guard) || still.contains(&open.guard))
            .collect();
        self.facts.fns.extend(inner.fns);
        self.facts.methods.extend(inner.methods);
        ClosureFacts {
            calls: inner.calls,
            lock_news: inner.lock_news,
        }
    }

    /// An argument of a call that runs the closures it is given.
    fn visit_running(&mut self, arg: &Expr) {
        match peel_refs(arg) {
            // An async closure called makes a future, which may never run.
            Expr::Closure(closure) if closure.asyncness.is_none() => self.run_closure(closure),
            Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
                let name = path.path.segments[0].ident.to_string();
                if let Some(Binding::Closure(closure)) = self.binding(&name) {
                    let closure = Rc::clone(closure);
                    self.record_closure(&closure);
                }
                self.visit_expr(arg);
            }
            _ => self.visit_expr(arg),
        }
    }

    fn visit_args(&mut self, args: &Punctuated<Expr, Token![,]>, running: bool) {
        for arg in args {
            if running {
                self.visit_running(arg);
            } else {
                self.visit_expr(arg);
            }
        }
    }

    /// The lock that builder calls end up with: from `Lock::new(..)` or
    /// a binding of one.
    fn spec(&self, chain: &Builders) -> Option<LockSpec> {
        let base = match chain.root {
            Expr::Call(call) => self.cx.paths.lock_new(call)?,
            Expr::Path(path) if path.qself.is_none() => {
                let name = path.path.get_ident()?.to_string();
                match self.binding(&name)? {
                    Binding::Lock(spec) => spec.clone(),
                    _ => return None,
                }
            }
            _ => return None,
        };
        Some(chain.apply(base))
    }

    /// Visits the arguments of a builder chain (not its root binding).
    fn visit_chain_args(&mut self, chain: &Builders) {
        if let Expr::Call(root) = chain.root {
            self.visit_args(&root.args, false);
        }
        for link in &chain.links {
            self.visit_args(&link.args, false);
        }
    }

    /// The lock certainly held after `init` is bound to a name:
    /// `Lock::new("x")...acquire()?`, `.unwrap()` or `.expect(..)`.
    fn guard_of(&self, init: &Expr) -> Option<(LockName, LockSpec)> {
        let acquired = match peel(init) {
            Expr::Try(try_expr) => &try_expr.expr,
            Expr::MethodCall(call) if call.method == "unwrap" || call.method == "expect" => {
                &call.receiver
            }
            _ => return None,
        };
        // `.acquire_async().await?`: the future awaited.
        let acquired = match peel(acquired) {
            Expr::Await(awaited) => &awaited.base,
            other => other,
        };
        let Expr::MethodCall(call) = peel(acquired) else {
            return None;
        };
        let (chain, may_wait) = acquire_call(call)?;
        if is_async_acquire(call) && !self.awaited_methods.contains(&std::ptr::addr_of!(*call)) {
            return None;
        }
        if !may_wait {
            // `try_acquire` may hold nothing.
            return None;
        }
        let spec = self.spec(&chain)?;
        Some((spec_lock(&spec)?, spec))
    }

    /// A call of `path`, unless a binding or a `use` in scope may make it
    /// call something else. A call of a stored closure is what it does.
    fn callee(&mut self, path: &ExprPath) -> Option<Callee> {
        if let Some(qself) = &path.qself {
            let ty = type_name(&qself.ty)?;
            let segments = &path.path.segments;
            let name = segments.last()?.ident.to_string();
            let trait_ =
                (qself.position > 0).then(|| segments[qself.position - 1].ident.to_string());
            return Some(Callee::Qualified { ty, trait_, name });
        }
        let segments = segment_names(&path.path);
        match segments.as_slice() {
            [name] => {
                match self.binding(name) {
                    Some(Binding::Closure(closure)) => {
                        let closure = Rc::clone(closure);
                        self.record_closure(&closure);
                        return None;
                    }
                    Some(_) => return None,
                    None => {}
                }
                if self.scopes.shadowed_by_item(name, false) {
                    return None;
                }
            }
            [first, ..] => {
                let rooted = ["self", "Self", "crate", "super"].contains(&first.as_str());
                if !rooted && self.scopes.shadowed_by_item(first, true) {
                    return None;
                }
            }
            [] => return None,
        }
        Some(Callee::Path(segments))
    }

    /// The methods of an impl or trait block declared in a body, without
    /// those behind `#[cfg]`.
    fn push_methods<'a>(
        &mut self,
        methods: impl Iterator<Item = (&'a Vec<Attribute>, &'a Signature, &'a Block)>,
    ) {
        for (attrs, sig, block) in methods {
            if !has_cfg(attrs) {
                let facts = function(attrs, sig, &block.stmts, &self.cx);
                self.facts.methods.push(facts);
            }
        }
    }
}

/// The lock of a spec, when both its name and alias are known.
fn spec_lock(spec: &LockSpec) -> Option<LockName> {
    LockName::new(spec.name.as_deref()?, spec.alias.as_deref()?)
}

/// The expression behind `&` and `&mut`, parentheses and groups.
fn peel_refs(expr: &Expr) -> &Expr {
    match peel(expr) {
        Expr::Reference(reference) => peel_refs(&reference.expr),
        other => other,
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
        // `opt.map(f);`, its value dropped: an iterator or a future made and
        // dropped would be useless (and warned about), so this is an
        // `Option` or `Result`, whose adaptor runs now.
        if let Stmt::Expr(expr, Some(_)) = stmt {
            if let Expr::MethodCall(call) = peel(expr) {
                self.consumed.insert(std::ptr::addr_of!(*call));
            }
        }
        visit::visit_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        if has_cfg(expr_attrs(expr)) {
            return;
        }
        visit::visit_expr(self, expr);
    }

    fn visit_block(&mut self, block: &'ast Block) {
        self.visit_stmts(&block.stmts);
    }

    fn visit_local(&mut self, local: &'ast Local) {
        let name = simple_binding(&local.pat);
        let mut binding = Binding::Plain;
        let mut guard = None;
        if let Some(init) = &local.init {
            let value = peel(&init.expr);
            let lock = name
                .and_then(|_| builders(value))
                .and_then(|chain| Some((self.spec(&chain)?, chain)));
            if let (Some(_), Expr::Closure(closure)) = (name, value) {
                let facts = self.stored_closure(|this| this.run_closure(closure));
                // An async closure's call only makes a future: what it
                // does is never counted (as an async block's).
                if closure.asyncness.is_none() {
                    binding = Binding::Closure(Rc::new(facts));
                }
            } else if let Some((spec, chain)) = lock {
                self.visit_chain_args(&chain);
                if !matches!(chain.root, Expr::Call(_)) {
                    self.visit_expr(chain.root);
                }
                binding = Binding::Lock(spec);
            } else {
                self.visit_expr(&init.expr);
                if name.is_some() {
                    guard = self.guard_of(&init.expr);
                }
            }
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
        self.bind(&local.pat);
        if let Some(name) = name {
            let name = name.to_string();
            if let Some((lock, spec)) = guard {
                self.facts.holds.push(Hold {
                    lock,
                    at: spec.at,
                    waits: !spec.zero_timeout,
                    calls: Vec::new(),
                    lock_news: Vec::new(),
                });
                self.open_holds.push(OpenHold {
                    index: self.facts.holds.len() - 1,
                    guard: name.clone(),
                    depth: self.scopes.depth(),
                });
            }
            self.scopes.set(name, binding);
        }
    }

    fn visit_expr_closure(&mut self, closure: &'ast ExprClosure) {
        // Not certainly called here (see `visit_running`).
        self.stored_closure(|this| this.run_closure(closure));
    }

    fn visit_expr_await(&mut self, expr: &'ast syn::ExprAwait) {
        match peel(&expr.base) {
            // `async { .. }.await`: runs here, now; a `return` in it
            // leaves the block.
            Expr::Async(block) if !has_cfg(&block.attrs) => {
                self.in_closure += 1;
                self.visit_block(&block.block);
                self.in_closure -= 1;
                return;
            }
            Expr::Call(call) => {
                self.awaited_calls.insert(std::ptr::addr_of!(*call));
            }
            Expr::MethodCall(call) => {
                self.awaited_methods.insert(std::ptr::addr_of!(*call));
            }
            _ => {}
        }
        visit::visit_expr_await(self, expr);
    }

    fn visit_expr_async(&mut self, block: &'ast ExprAsync) {
        // Not awaited where it is made (see `visit_expr_await`): runs when
        // polled, maybe elsewhere, maybe never.
        self.stored_closure(|this| {
            this.in_closure += 1;
            this.visit_block(&block.block);
            this.in_closure -= 1;
        });
    }

    fn visit_expr_return(&mut self, ret: &'ast ExprReturn) {
        if ret.expr.is_none() && self.in_closure == 0 {
            self.facts.bare_return = true;
        }
        visit::visit_expr_return(self, ret);
    }

    fn visit_expr_assign(&mut self, assign: &'ast syn::ExprAssign) {
        // `lock = Lock::new("b")`, `task = other`: the binding no longer
        // means what its `let` said.
        if let Expr::Path(path) = peel(&assign.left) {
            if let Some(ident) = path.path.get_ident() {
                self.scopes.forget(&ident.to_string());
            }
        }
        visit::visit_expr_assign(self, assign);
    }

    fn visit_expr_reference(&mut self, reference: &'ast syn::ExprReference) {
        // `&mut name` lent out: it may be changed through the reference.
        if reference.mutability.is_some() {
            if let Expr::Path(path) = peel(&reference.expr) {
                if let Some(ident) = path.path.get_ident() {
                    self.scopes.forget(&ident.to_string());
                }
            }
        }
        visit::visit_expr_reference(self, reference);
    }

    fn visit_expr_path(&mut self, path: &'ast ExprPath) {
        if let Some(ident) = path.path.get_ident() {
            self.open_holds.retain(|open| ident != &open.guard);
        }
        visit::visit_expr_path(self, path);
    }

    fn visit_arm(&mut self, arm: &'ast Arm) {
        if has_cfg(&arm.attrs) {
            return;
        }
        self.in_scope(|this| {
            this.bind(&arm.pat);
            if let Some((_, guard)) = &arm.guard {
                this.visit_expr(guard);
            }
            this.visit_expr(&arm.body);
        });
    }

    fn visit_expr_if(&mut self, expr: &'ast ExprIf) {
        self.in_scope(|this| {
            this.visit_expr(&expr.cond);
            this.visit_block(&expr.then_branch);
        });
        if let Some((_, otherwise)) = &expr.else_branch {
            self.visit_expr(otherwise);
        }
    }

    fn visit_expr_while(&mut self, expr: &'ast ExprWhile) {
        self.in_scope(|this| {
            this.visit_expr(&expr.cond);
            this.visit_block(&expr.body);
        });
    }

    fn visit_expr_let(&mut self, expr: &'ast ExprLet) {
        self.visit_expr(&expr.expr);
        self.bind(&expr.pat);
    }

    fn visit_expr_for_loop(&mut self, expr: &'ast ExprForLoop) {
        self.visit_expr(&expr.expr);
        self.in_scope(|this| {
            this.bind(&expr.pat);
            this.visit_block(&expr.body);
        });
    }

    fn visit_item(&mut self, item: &'ast Item) {
        if has_cfg(item_attrs(item)) {
            return;
        }
        match item {
            Item::Fn(f) => {
                let facts = function(&f.attrs, &f.sig, &f.block.stmts, &self.cx);
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
            // No code of the body: `use` (seen with its block), const and
            // static initializers, types, `macro_rules!`, ...
            _ => {}
        }
    }

    fn visit_expr_call(&mut self, call: &'ast ExprCall) {
        let path = match peel(&call.func) {
            Expr::Closure(closure) if closure.asyncness.is_none() => {
                // Called at once.
                self.run_closure(closure);
                return self.visit_args(&call.args, false);
            }
            Expr::Path(path) => path,
            _ => return visit::visit_expr_call(self, call),
        };
        if self.cx.paths.lock_new(call).is_some() {
            // Creating a `Lock` takes nothing: only `.acquire()` does.
            return self.visit_args(&call.args, false);
        }
        let last = path.path.segments.last().map(|last| last.ident.to_string());
        if let Some(callee) = self.callee(path) {
            let awaited = self.awaited_calls.contains(&std::ptr::addr_of!(*call));
            self.record_call(Call {
                callee,
                at: path.to_token_stream(),
                awaited,
            });
        }
        // `thread::scope` and `catch_unwind` call their closure at once;
        // any other function may keep it, or run it on another thread.
        let running = last.is_some_and(|last| RUNNING_FNS.contains(&last.as_str()));
        self.visit_args(&call.args, running);
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        let awaited = self.awaited_methods.contains(&std::ptr::addr_of!(*call));
        let is_async = is_async_acquire(call);
        // An async acquire takes the lock only when its future is awaited.
        let acquired = acquire_call(call).filter(|_| awaited || !is_async);
        if let Some((chain, may_wait)) = acquired {
            if let Some(spec) = self.spec(&chain) {
                // Where it is taken: `Lock::new(..)` in a chain, the
                // acquiring call on a binding.
                let at = match chain.root {
                    Expr::Call(_) => spec.at.clone(),
                    _ => {
                        let (receiver, dot, method) =
                            (&call.receiver, &call.dot_token, &call.method);
                        quote!(#receiver #dot #method)
                    }
                };
                self.record_lock_new(LockNew {
                    lock: spec_lock(&spec),
                    at,
                    waits: may_wait && !spec.zero_timeout,
                });
                self.visit_chain_args(&chain);
                if !matches!(chain.root, Expr::Call(_)) {
                    self.visit_expr(chain.root);
                }
                return;
            }
        }
        if is_self(&call.receiver) {
            let (receiver, dot, method) = (&call.receiver, &call.dot_token, &call.method);
            self.record_call(Call {
                callee: Callee::SelfMethod(call.method.to_string()),
                at: quote!(#receiver #dot #method),
                awaited,
            });
        }
        let method = call.method.to_string();
        // A lazy adaptor (`map`, `filter`, ...) runs its closure only when
        // the chain is consumed (`collect`, `for_each`, `?`, `unwrap`, ...)
        // here: a returned or stored iterator (or future) runs it later,
        // after the lock is released.
        let consumed = std::ptr::addr_of!(*call);
        let runs_now = if LAZY_METHODS.contains(&method.as_str()) {
            self.consumed.contains(&consumed)
        } else {
            RUNNING_METHODS.contains(&method.as_str())
        };
        let consumes = runs_now && LAZY_METHODS.contains(&method.as_str())
            || CONSUMING_METHODS.contains(&method.as_str());
        if consumes {
            if let Expr::MethodCall(inner) = peel(&call.receiver) {
                self.consumed.insert(std::ptr::addr_of!(*inner));
            }
        }
        self.visit_expr(&call.receiver);
        self.visit_args(&call.args, runs_now);
    }

    fn visit_expr_try(&mut self, expr: &'ast syn::ExprTry) {
        // `chain?`: an `Option` or `Result` (iterators have no `?`), whose
        // adaptors ran when they were called.
        if let Expr::MethodCall(inner) = peel(&expr.expr) {
            self.consumed.insert(std::ptr::addr_of!(*inner));
        }
        visit::visit_expr_try(self, expr);
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        // Only macros known to evaluate their arguments as expressions;
        // others (`stringify!`, `concat!`, user macros, ...) may not run
        // them at all.
        let name = mac
            .path
            .segments
            .last()
            .map(|last| last.ident.to_string())
            .unwrap_or_default();
        if name == "matches" {
            let parsed = mac.parse_body_with(|input: ParseStream| {
                let expr: Expr = input.parse()?;
                input.parse::<Token![,]>()?;
                let pat = Pat::parse_multi_with_leading_vert(input)?;
                let guard = if input.parse::<Option<Token![if]>>()?.is_some() {
                    Some(input.parse::<Expr>()?)
                } else {
                    None
                };
                input.parse::<Option<Token![,]>>()?;
                Ok((expr, pat, guard))
            });
            if let Ok((expr, pat, guard)) = parsed {
                self.visit_expr(&expr);
                self.in_scope(|this| {
                    this.bind(&pat);
                    if let Some(guard) = &guard {
                        this.visit_expr(guard);
                    }
                });
                return;
            }
        } else if EVALUATING_MACROS.contains(&name.as_str()) {
            let exprs = Punctuated::<Expr, Token![,]>::parse_terminated;
            if let Ok(exprs) = exprs.parse2(mac.tokens.clone()) {
                for expr in &exprs {
                    self.visit_expr(expr);
                }
                return;
            }
            if let Ok(stmts) = Block::parse_within.parse2(mac.tokens.clone()) {
                return self.visit_stmts(&stmts);
            }
        }
        // A guard named in a macro's tokens may be dropped there.
        if !self.open_holds.is_empty() {
            let mentioned = idents(mac.tokens.clone());
            self.open_holds
                .retain(|open| !mentioned.contains(&open.guard));
        }
    }
}

/// Every identifier in `tokens`.
fn idents(tokens: TokenStream) -> HashSet<String> {
    let mut all = HashSet::new();
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => {
                all.insert(ident.to_string());
            }
            TokenTree::Group(group) => all.extend(idents(group.stream())),
            _ => {}
        }
    }
    all
}

/// Macros whose arguments are evaluated as expressions (`matches!` is
/// read apart: a pattern follows its expression).
const EVALUATING_MACROS: &[&str] = &[
    "format",
    "format_args",
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
    "unreachable",
    "todo",
    "unimplemented",
    "dbg",
];

/// Methods of the standard library that call the closure they are given
/// before they return, whatever their receiver.
const RUNNING_METHODS: &[&str] = &[
    "all",
    "and_modify",
    "any",
    "call_once",
    "find",
    "find_map",
    "fold",
    "for_each",
    "get_or_init",
    "get_or_insert_with",
    "is_err_and",
    "is_none_or",
    "is_ok_and",
    "is_some_and",
    "map_or",
    "map_or_else",
    "max_by",
    "max_by_key",
    "min_by",
    "min_by_key",
    "ok_or_else",
    "or_insert_with",
    "or_insert_with_key",
    "partition",
    "position",
    "reduce",
    "retain",
    "retain_mut",
    "scope",
    "sort_by",
    "sort_by_cached_key",
    "sort_by_key",
    "sort_unstable_by",
    "sort_unstable_by_key",
    "try_fold",
    "try_for_each",
    "unwrap_or_else",
];

/// Methods that call their closure at once on an `Option` or a `Result`,
/// but only when consumed on an iterator or a future (`Iterator::map`,
/// `FutureExt::then`): counted as running only when the chain is consumed
/// where it stands (see `CONSUMING_METHODS`, and `?`).
const LAZY_METHODS: &[&str] = &[
    "and_then",
    "filter",
    "filter_map",
    "flat_map",
    "inspect",
    "map",
    "map_err",
    "map_while",
    "or_else",
    "scan",
    "skip_while",
    "take_while",
    "then",
    "with",
];

/// Methods that consume the chain they end: iterator consumers, and the
/// `Option`/`Result` methods no iterator has.
const CONSUMING_METHODS: &[&str] = &[
    "all",
    "any",
    "collect",
    "count",
    "expect",
    "expect_err",
    "find",
    "find_map",
    "fold",
    "for_each",
    "is_err",
    "is_none",
    "is_ok",
    "is_some",
    "last",
    "max",
    "max_by",
    "max_by_key",
    "min",
    "min_by",
    "min_by_key",
    "nth",
    "ok",
    "err",
    "partition",
    "position",
    "product",
    "reduce",
    "sum",
    "try_fold",
    "try_for_each",
    "unwrap",
    "unwrap_err",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
];

/// Functions that call the closure they are given before they return.
const RUNNING_FNS: &[&str] = &["scope", "catch_unwind"];

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(body: TokenStream) -> BodyFacts {
        facts_in(body, &Context::default())
    }

    fn facts_in(body: TokenStream, cx: &Context) -> BodyFacts {
        let sig: Signature = syn::parse_quote!(fn f(param: u32, task: fn()));
        body_tokens(&sig, body, cx).expect("parses")
    }

    fn names(facts: &BodyFacts) -> Vec<Option<String>> {
        facts
            .lock_news
            .iter()
            .map(|new| new.lock.as_ref().map(LockName::describe))
            .collect()
    }

    fn callees(calls: &[Call]) -> Vec<String> {
        calls
            .iter()
            .map(|call| match &call.callee {
                Callee::Path(path) => path.join("::"),
                Callee::Qualified { ty, trait_, name } => match trait_ {
                    Some(trait_) => format!("<{ty} as {trait_}>::{name}"),
                    None => format!("<{ty}>::{name}"),
                },
                Callee::SelfMethod(method) => format!("self.{method}"),
            })
            .collect()
    }

    #[test]
    fn lock_news_and_their_aliases() {
        let facts = facts(quote! {
            let a = Lock::new("a").acquire()?;
            let b = mysql_lock::Lock::new("b".to_string()).timeout(t).using("other").acquire();
            let c = ::mysql_lock::Lock::new(String::from("c")).using(ALIAS).try_acquire();
            let d = || Lock::new("d").using("x").using("default").wait_forever().acquire();
            d();
            println!("{:?}", Lock::new("e").acquire());
            let f = Lock::new(name).acquire();
            let g = Other::new("g").acquire();
            // Not taken: created, or asked about.
            let h = Lock::new("h");
            let i = Lock::new("i").is_held();
            let j = Lock::new("j").using("x").alias();
            let k = Lock::new("k").acquire_later().acquire();
            stringify!(Lock::new("l").acquire());
            #[cfg(feature = "x")]
            let m = Lock::new("m").acquire();
            // Another crate's `Lock`.
            let n = filelock::Lock::new("n").acquire();
        });
        assert_eq!(
            names(&facts),
            [
                Some("\"a\"".to_owned()),
                Some("\"b\" (using \"other\")".to_owned()),
                None,
                Some("\"d\"".to_owned()),
                Some("\"e\"".to_owned()),
                None,
            ]
        );
        let waits: Vec<bool> = facts.lock_news.iter().map(|new| new.waits).collect();
        assert_eq!(waits, [true, true, false, true, true, true]);
    }

    #[test]
    fn lock_bindings_and_zero_timeouts() {
        let facts = facts(quote! {
            let lock = Lock::new("a").timeout(Duration::from_secs(2));
            let guard = lock.acquire()?;
            let zero = Lock::new("b").timeout(Duration::ZERO);
            let _ = zero.using("other").acquire()?;
            {
                let lock = Lock::new("c");
                lock.try_acquire()?;
            }
            lock.acquire()?;
            let lock = make_lock();
            lock.acquire()?;
        });
        assert_eq!(
            names(&facts),
            [
                Some("\"a\"".to_owned()),
                Some("\"b\" (using \"other\")".to_owned()),
                Some("\"c\"".to_owned()),
                Some("\"a\"".to_owned()),
            ]
        );
        let waits: Vec<bool> = facts.lock_news.iter().map(|new| new.waits).collect();
        assert_eq!(waits, [true, false, false, true]);
    }

    #[test]
    fn only_the_librarys_lock() {
        let facts = facts(quote! {
            use filelock::Lock;
            Lock::new("a").acquire()?;
            mysql_lock::Lock::new("b").acquire()?;
        });
        assert_eq!(names(&facts), [Some("\"b\"".to_owned())]);
        let facts = facts_in(
            quote! {
                use mysql_lock::Lock as MysqlLock;
                MysqlLock::new("a").acquire()?;
                deps::lock::Lock::new("b").acquire()?;
            },
            &{
                let mut cx = Context::default();
                cx.paths.add_root(&syn::parse_quote!(deps::lock));
                cx
            },
        );
        assert_eq!(names(&facts).len(), 2);
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
            <Self as Job>::l(self);
            <Worker>::m();
            assert!(matches!(n(), Some(x) if o(x)));
            unreachable!("{}", p());
        });
        assert_eq!(
            callees(&facts.calls),
            [
                "a",
                "self::b",
                "Self::c",
                "Worker::d",
                "self.f",
                "g",
                "j",
                "k",
                "<Self as Job>::l",
                "<Worker>::m",
                "n",
                "o",
                "p"
            ]
        );
    }

    #[test]
    fn closures_count_where_they_certainly_run() {
        let facts = facts(quote! {
            let task = move || stored_called();
            std::thread::spawn(task);
            std::thread::spawn({ let ids = ids.clone(); move || in_spawned_block(&ids) });
            let later = || never_called();
            let boxed: Vec<Box<dyn Fn()>> = vec![Box::new(|| boxed())];
            Job { run: || in_a_field() };
            helper(|| passed_to_unknown());
            (|| called_at_once())();
            items.iter().map(|x| mapped(x)).for_each(drop);
            value.unwrap_or_else(|| fallback());
            task();
            opt.map(task);
            std::thread::scope(|s| in_scope());
            let fut = async { in_async() };
            ids.clone();
        });
        assert_eq!(
            callees(&facts.calls),
            [
                "std::thread::spawn",
                "std::thread::spawn",
                "Box::new",
                "helper",
                "called_at_once",
                "mapped",
                "fallback",
                "stored_called",
                "stored_called",
                "std::thread::scope",
                "in_scope",
            ]
        );
    }

    #[test]
    fn awaits_count_where_the_future_certainly_runs() {
        let facts = facts(quote! {
            a().await;
            b();
            self.c().await?;
            tokio::spawn(d());
            async { e().await }.await;
            let fut = async { f().await };
            let g = async || h().await;
            g().await;
            (async || i().await)().await;
            items.iter().map(async |x| j(x).await).count();
            Lock::new("x").acquire_async().await?;
            let later = Lock::new("y").acquire_async();
            let guard = Lock::new("z").acquire_async().await?;
            under_z().await;
        });
        let calls: Vec<(String, bool)> = callees(&facts.calls)
            .into_iter()
            .zip(facts.calls.iter().map(|call| call.awaited))
            .collect();
        let expected = [
            ("a", true),
            ("b", false),
            ("self.c", true),
            ("tokio::spawn", false),
            ("d", false),
            ("e", true),
            ("under_z", true),
        ];
        assert_eq!(
            calls,
            expected.map(|(name, awaited)| (name.to_owned(), awaited))
        );
        assert_eq!(
            names(&facts),
            [Some("\"x\"".to_owned()), Some("\"z\"".to_owned())]
        );
        let [hold] = facts.holds.as_slice() else {
            panic!("one lock held by hand");
        };
        assert_eq!(callees(&hold.calls), ["under_z"]);
    }

    #[test]
    fn names_in_scope_shadow_calls() {
        let facts = facts(quote! {
            let report = report()?;
            report();
            param();
            {
                use crate::legacy::Report;
                Report::build();
                struct Local;
                Local::new();
            }
            Report::build();
            if let Some(export) = next() { export(); }
            export();
            for item in items() { item(); }
            match x { Some(arm) => arm(), None => none() }
            crate::top();
        });
        assert_eq!(
            callees(&facts.calls),
            [
                "report",
                "Report::build",
                "next",
                "export",
                "items",
                "none",
                "crate::top"
            ]
        );
    }

    #[test]
    fn locks_held_by_hand() {
        let facts = facts(quote! {
            let guard = Lock::new("a").acquire()?;
            under_a();
            let _ = Lock::new("b").acquire()?;
            {
                inner_under_a();
                let nested = Lock::new("c").acquire().expect("held");
                under_a_and_c();
            }
            guard.release()?;
            after_release();
            let maybe = Lock::new("d").try_acquire()?;
            under_nothing();
        });
        let holds: Vec<(String, Vec<String>)> = facts
            .holds
            .iter()
            .map(|hold| (hold.lock.describe(), callees(&hold.calls)))
            .collect();
        assert_eq!(
            holds,
            [
                (
                    "\"a\"".to_owned(),
                    vec![
                        "under_a".to_owned(),
                        "inner_under_a".to_owned(),
                        "under_a_and_c".to_owned()
                    ]
                ),
                ("\"c\"".to_owned(), vec!["under_a_and_c".to_owned()]),
            ]
        );
        assert_eq!(facts.holds[0].lock_news.len(), 2, "b and c, taken under a");
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

    #[test]
    fn cfg_attr_is_not_cfg() {
        let facts = facts(quote! {
            #[cfg_attr(feature = "otel", allow(unused))]
            kept();
            #[cfg_attr(feature = "x", cfg(test))]
            dropped();
            #[cfg(test)]
            dropped();
        });
        assert_eq!(callees(&facts.calls), ["kept"]);
    }
}
