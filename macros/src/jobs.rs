//! `#[mysql_lock::jobs]` on an inline module: the nesting checks across
//! the functions of the module, which no attribute on one function can
//! see.
//!
//! The functions are the module's free functions and the methods of its
//! impl blocks (inherent or of a trait), with the functions declared in
//! their bodies, and the stretches of plain functions that hold a lock by
//! hand (`graph`). The calls between them are followed when the callee is
//! named: `f(..)` and `self::f(..)` for a free function (or one declared in
//! an enclosing body), `Self::f(..)`, `Type::f(..)` and `self.f(..)` for an
//! inherent method, `<Type as Trait>::f(..)` for a trait's. What the
//! module's `use`s say is taken into account: which `Lock` is the
//! library's, and other names of `#[mysql_lock]`. A call through a
//! function pointer, a trait object, a method of another value or another
//! module is not followed: the runtime refuses such re-entrance at once
//! (`Error::Reentrant`).
//!
//! Reported:
//!
//! - a function holding a lock that reaches, through other functions
//!   (`a → b → c`), one taking the same lock again, by its attribute or by
//!   `Lock::new`: an error at the call (or the `Lock::new`) that takes it
//!   again, naming the chain;
//! - a lock-order inversion: one path takes `x` then `y`, another `y` then
//!   `x`; two workers running them at once can deadlock.
//!
//! What stays within one function (its body, and functions declared in
//! it) is reported by that function's own attribute (`nesting`), except
//! calls back to the function itself, which only the module can resolve.
//!
//! The module is emitted as written: its `#[mysql_lock]` attributes then
//! expand as usual.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ImplItem, Item, UseTree};

use crate::errors::Errors;
use crate::graph::{Graph, Items, NodeId, Scope, Site, Step, Taken};
use crate::locks::{self, LockId};
use crate::scan;
use crate::syntax::{has_cfg, item_head, type_name};

/// `#[jobs] mod name { ... }`: the module unchanged, followed by every
/// error found.
pub(crate) fn jobs(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.push(syn::Error::new_spanned(
            &args,
            "#[mysql_lock::jobs] takes no arguments; each function of the module gives its \
             own lock with #[mysql_lock(name = \"...\")]",
        ));
    }
    match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Mod(module)) => match &module.content {
            Some((_, items)) => {
                let (token, ident) = (&module.mod_token, &module.ident);
                errors.take(check(items, quote!(#token #ident)));
            }
            None => {
                let (token, ident) = (&module.mod_token, &module.ident);
                errors.push(syn::Error::new_spanned(
                    quote!(#token #ident),
                    "#[mysql_lock::jobs] needs the items of the module, which are in another \
                     file here: write the module inline, as in `mod jobs { ... }`",
                ));
            }
        },
        Ok(other) => errors.push(syn::Error::new_spanned(
            item_head(&other),
            "#[mysql_lock::jobs] goes on an inline module that holds #[mysql_lock] \
             functions, as in `#[mysql_lock::jobs] mod jobs { ... }`; on a function, use \
             #[mysql_lock(name = \"...\")]",
        )),
        // Syntax the compiler reports better.
        Err(_) => {}
    }
    let mut tokens = item;
    if let Err(error) = errors.finish() {
        tokens.extend(error.into_compile_error());
    }
    tokens
}

/// Every re-entrance and lock-order inversion across the functions of
/// `items`.
fn check(items: &[Item], head: TokenStream) -> syn::Result<()> {
    let graph = build(items);
    if graph.nodes.iter().all(|node| node.locks.is_empty()) && !locks::any_lock_attr(items) {
        // Not one lock held: the checks would pass in silence, whatever
        // the module does. Most likely the attribute has a name the macro
        // can't see.
        return Err(syn::Error::new_spanned(
            head,
            "#[mysql_lock::jobs] finds no lock held in this module (no #[mysql_lock] function, \
             no `Lock` acquired into a guard), so it has nothing to check; if the attribute is \
             imported under another name outside the module, import it inside, as in \
             `use mysql_lock::mysql_lock as exclusive;`, or remove #[mysql_lock::jobs]",
        ));
    }
    let mut errors = Errors::default();
    // Places that take a lock again, with the lock: those reached within
    // one function are its own attribute's to report; the others are
    // reported here, once each, by the first (shortest) chain found.
    let mut again: HashSet<(NodeId, Site, LockId)> = HashSet::new();
    let mut within: HashSet<(NodeId, Site, LockId)> = HashSet::new();
    let mut across: Vec<Taken> = Vec::new();
    let mut orders: Vec<Taken> = Vec::new();
    for start in 0..graph.nodes.len() {
        let walk = graph.walk(start);
        orders.extend(walk.orders);
        for taken in walk.again {
            let key = taken.key();
            again.insert(key.clone());
            // A function's own attribute can't tell where it is, so it
            // leaves calls back to itself to this one.
            let step = &taken.step;
            let back = matches!(step.site, Site::Call(_)) && step.path.last() == Some(&start);
            // Locks held by hand are this attribute's alone to check.
            let by_hand = graph.nodes[start].hold;
            if back || by_hand || graph.crosses_owners(&step.path) {
                across.push(taken);
            } else {
                within.insert(key);
            }
        }
    }
    let mut reported = within;
    for taken in &across {
        if reported.insert(taken.key()) {
            errors.push(graph.reentrance_error(&taken.held, &taken.step));
        }
    }
    // An order that ends by taking a lock again is part of that mistake:
    // once it is fixed, the order is gone too.
    orders.retain(|taken| {
        let (node, site) = taken.step.place();
        !again.contains(&(node, site, taken.step.taken.id.clone()))
    });
    for error in inversions(&graph, &orders) {
        errors.push(error);
    }
    errors.finish()
}

/// What names mean in the module: which `Lock` is the library's, and the
/// names `#[mysql_lock]` goes by, as its `use`s and items say.
fn module_context(items: &[Item]) -> scan::Context {
    let mut cx = scan::Context::default();
    let uses: Vec<&UseTree> = items
        .iter()
        .filter_map(|item| match item {
            Item::Use(item) if !has_cfg(&item.attrs) => Some(&item.tree),
            _ => None,
        })
        .collect();
    for tree in &uses {
        cx.attrs.apply_use(tree);
    }
    // `crate = ".."` on the module's attributes names the library too.
    for item in items {
        let attrs = match item {
            Item::Fn(f) => &f.attrs,
            Item::Impl(block) => {
                for item in &block.items {
                    if let ImplItem::Fn(f) = item {
                        for taken in locks::attr_locks_named(&f.attrs, &cx.attrs) {
                            cx.paths.add_root(&taken.krate);
                        }
                    }
                }
                continue;
            }
            _ => continue,
        };
        for taken in locks::attr_locks_named(attrs, &cx.attrs) {
            cx.paths.add_root(&taken.krate);
        }
    }
    cx.paths.apply_uses(uses.iter().copied());
    let declares_lock = items.iter().any(|item| match item {
        Item::Struct(item) => item.ident == "Lock",
        Item::Enum(item) => item.ident == "Lock",
        Item::Type(item) => item.ident == "Lock",
        _ => false,
    });
    if declares_lock {
        cx.paths.declared("Lock");
    }
    cx
}

/// The graph of the module's functions and of the calls between them.
fn build(items: &[Item]) -> Graph {
    let cx = module_context(items);
    let mut graph = Graph::default();
    let mut table = Items::default();
    let mut owner = 0;
    let mut ambiguous_free = HashSet::new();
    for item in items {
        if let Item::Fn(f) = item {
            // Behind `#[cfg]`, it may not be compiled: left out.
            if has_cfg(&f.attrs) {
                continue;
            }
            let facts = scan::function(&f.attrs, &f.sig, &f.block.stmts, &cx);
            let name = f.sig.ident.to_string();
            let id = graph.add(facts, name.clone(), owner, Scope::default());
            insert_once(&mut table.free, &mut ambiguous_free, name, id);
            owner += 1;
        }
    }
    // Methods are known by the last segment of their type's name (and
    // trait's): two methods of one name on types of one such name (other
    // generics, two types of one name) are not told apart, and calls of
    // that name are not followed.
    let mut ambiguous = HashSet::new();
    let mut ambiguous_trait = HashSet::new();
    for item in items {
        let Item::Impl(block) = item else { continue };
        if has_cfg(&block.attrs) {
            continue;
        }
        let Some(ty) = type_name(&block.self_ty) else {
            continue;
        };
        let trait_ = block
            .trait_
            .as_ref()
            .and_then(|(_, path, _)| Some(path.segments.last()?.ident.to_string()));
        for item in &block.items {
            let ImplItem::Fn(f) = item else { continue };
            if has_cfg(&f.attrs) {
                continue;
            }
            let facts = scan::function(&f.attrs, &f.sig, &f.block.stmts, &cx);
            let name = f.sig.ident.to_string();
            let display = match &trait_ {
                Some(trait_) => format!("<{ty} as {trait_}>::{name}"),
                None => format!("{ty}::{name}"),
            };
            let id = graph.add(facts, display, owner, Scope::in_impl(ty.clone()));
            match &trait_ {
                Some(trait_) => {
                    let key = (ty.clone(), trait_.clone(), name);
                    insert_once(&mut table.trait_methods, &mut ambiguous_trait, key, id);
                }
                None => insert_once(&mut table.methods, &mut ambiguous, (ty.clone(), name), id),
            }
            owner += 1;
        }
    }
    graph.resolve(&table);
    graph
}

/// Inserts `key`, or marks it ambiguous (and removes it) when it is there
/// already.
fn insert_once<K: Clone + Eq + std::hash::Hash>(
    table: &mut HashMap<K, NodeId>,
    ambiguous: &mut HashSet<K>,
    key: K,
    id: NodeId,
) {
    if ambiguous.contains(&key) {
        return;
    }
    match table.entry(key) {
        Entry::Occupied(entry) => {
            ambiguous.insert(entry.key().clone());
            entry.remove();
        }
        Entry::Vacant(entry) => {
            entry.insert(id);
        }
    }
}

/// One error for each pair of locks taken in both orders, at the place
/// where the second order found takes its lock, naming both paths.
fn inversions(graph: &Graph, orders: &[Taken]) -> Vec<syn::Error> {
    let mut first: HashMap<(LockId, LockId), usize> = HashMap::new();
    let mut reported: HashSet<(LockId, LockId)> = HashSet::new();
    let mut errors = Vec::new();
    for (index, taken) in orders.iter().enumerate() {
        let order = (taken.held.id.clone(), taken.step.taken.id.clone());
        let reverse = (order.1.clone(), order.0.clone());
        if let Some(&other) = first.get(&reverse) {
            if reported.insert(order.clone()) && reported.insert(reverse) {
                errors.push(inversion_error(graph, &orders[other], taken));
            }
        }
        first.entry(order).or_insert(index);
    }
    errors
}

/// `first` takes `y` while holding `x`; `second` takes `x` holding `y`.
fn inversion_error(graph: &Graph, first: &Taken, second: &Taken) -> syn::Error {
    let (x, y) = (first.held.describe(), second.held.describe());
    let (first, second) = (&first.step, &second.step);
    let holder = |step: &Step| graph.nodes[step.path[0]].display.clone();
    let through = |step: &Step| {
        if step.path.len() == 1 {
            String::new()
        } else {
            format!(" through {}", graph.chain(&step.path))
        }
    };
    let message = format!(
        "lock-order inversion: `{second_holder}` holds {y} and takes {x} here{second_path}, \
         while `{first_holder}` holds {x} and takes {y}{first_path}; two workers running both \
         at once can deadlock (the server then fails one with `Error::Deadlock`); take {x} \
         and {y} in the same order on every path",
        second_holder = holder(second),
        second_path = through(second),
        first_holder = holder(first),
        first_path = through(first),
    );
    syn::Error::new_spanned(&second.at, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(module: TokenStream) -> Vec<String> {
        let out = jobs(TokenStream::new(), module).to_string();
        out.split("compile_error ! {")
            .skip(1)
            .map(|rest| rest.split(" }").next().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn reentrance_through_calls() {
        let found = errors(quote! {
            mod jobs {
                #[mysql_lock(name = "job")]
                fn a() -> R { b() }
                fn b() -> R { c(); Worker::d(); Ok(()) }
                #[mysql_lock(name = "job")]
                fn c() -> R { Ok(()) }
                struct Worker;
                impl Worker {
                    fn d() -> R { Self::e(); Lock::new("job").acquire(); Ok(()) }
                    #[mysql_lock(name = "job")]
                    fn e() -> R { Ok(()) }
                    #[mysql_lock(name = "job")]
                    fn f(&self) -> R { self.g() }
                    fn g(&self) -> R { a() }
                }
            }
        });
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found[0].contains(
                "`c` takes lock \\\"job\\\", which `a` already holds when it calls `c` (a → b → c)"
            ),
            "{}",
            found[0]
        );
        assert!(
            found[1].contains("while `a` holds it: a → b → Worker::d reaches this `Lock`"),
            "{}",
            found[1]
        );
        assert!(
            found[2].contains("(a → b → Worker::d → Worker::e)"),
            "{}",
            found[2]
        );
        assert!(
            found[3].contains(
                "which `Worker::f` already holds when it calls `a` (Worker::f → Worker::g → a)"
            ),
            "{}",
            found[3]
        );
    }

    #[test]
    fn different_names_and_aliases_are_different_locks() {
        let found = errors(quote! {
            mod jobs {
                #[mysql_lock(name = "job")]
                fn a() -> R { b(); c(); Ok(()) }
                #[mysql_lock(name = "Job")]
                fn b() -> R { Ok(()) }
                #[mysql_lock(name = "job", using = "other")]
                fn c() -> R { Ok(()) }
            }
        });
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn lock_order_inversion() {
        let found = errors(quote! {
            mod jobs {
                #[mysql_lock(name = "x")]
                fn a() -> R { b() }
                #[mysql_lock(name = "y")]
                fn b() -> R { Ok(()) }
                #[mysql_lock(name = "y")]
                fn c() -> R { Lock::new("x").acquire(); Ok(()) }
            }
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`c` holds \\\"y\\\" and takes \\\"x\\\" here, while `a` holds \\\"x\\\" and takes \\\"y\\\" through a → b;"), "{}", found[0]);
    }

    #[test]
    fn an_inversion_that_is_a_reentrance_is_reported_once() {
        let found = errors(quote! {
            mod jobs {
                #[mysql_lock(name = "x")]
                fn a() -> R { b() }
                #[mysql_lock(name = "y")]
                fn b() -> R { c() }
                #[mysql_lock(name = "x")]
                fn c() -> R { Ok(()) }
            }
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("(a → b → c)"), "{}", found[0]);
    }

    #[test]
    fn self_calls_where_they_are_known() {
        let found = errors(quote! {
            mod jobs {
                #[mysql_lock(name = "a")]
                fn a() -> R { a() }
                impl W {
                    #[mysql_lock(name = "b")]
                    fn b(&self) -> R { self.b() }
                    // A bare name and `self::` are the free functions.
                    #[mysql_lock(name = "a")]
                    fn a() -> R { a(); self::a() }
                }
                impl Job for W {
                    // May be an inherent method of the same name.
                    #[mysql_lock(name = "c")]
                    fn c(&self) -> R { self.c(); Self::c(self) }
                }
            }
        });
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].contains("`a` calls itself"), "{}", found[0]);
        assert!(found[1].contains("`W::b` calls itself"), "{}", found[1]);
        // `W::a` reaching the free `a` (twice), holding the same lock.
        assert!(found[2].contains("(W::a → a)"), "{}", found[2]);
        assert!(found[3].contains("(W::a → a)"), "{}", found[3]);
    }

    #[test]
    fn ambiguous_and_shadowed_names_are_not_followed() {
        let found = errors(quote! {
            mod jobs {
                impl W<u8> {
                    #[mysql_lock(name = "x")]
                    fn start() -> R { W::<u16>::finish(); Self::run(); Ok(()) }
                    #[mysql_lock(name = "x")]
                    fn finish() -> R { Ok(()) }
                }
                impl W<u16> {
                    fn finish() -> R { Ok(()) }
                }
                impl Job for W<u8> {
                    #[mysql_lock(name = "x")]
                    fn run() -> R { Ok(()) }
                }
                impl Other for W<u8> {
                    fn run() -> R { Ok(()) }
                }
                #[mysql_lock(name = "y")]
                fn f(g: impl Fn()) -> R { let h = |x| x; h(1); g(); Ok(()) }
                #[mysql_lock(name = "y")]
                fn g() -> R { Ok(()) }
                #[mysql_lock(name = "y")]
                fn h() -> R { use other::g; g(); Ok(()) }
                #[mysql_lock(name = "z")]
                fn i() -> R { std::thread::spawn(|| i()); #[cfg(test)] i(); Ok(()) }
                #[mysql_lock(name = "w")]
                fn j() -> R { let l = Lock::new("w"); Lock::new("w").is_held(); Ok(()) }
            }
        });
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn try_acquire_takes_no_part_in_an_order() {
        let found = errors(quote! {
            mod jobs {
                #[mysql_lock(name = "x")]
                fn a() -> R { Lock::new("y").try_acquire(); Ok(()) }
                #[mysql_lock(name = "y")]
                fn b() -> R { Lock::new("x").acquire(); Ok(()) }
            }
        });
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn stacked_locks_and_locks_held_by_hand_take_part() {
        let found = errors(quote! {
            mod jobs {
                #[mysql_lock(name = "x")]
                #[mysql_lock(name = "y")]
                fn a() -> R { Ok(()) }
                fn b() -> R { let g = Lock::new("y").acquire()?; c()?; g.release() }
                #[mysql_lock(name = "x")]
                fn c() -> R { Ok(()) }
                fn d() -> R { let g = Lock::new("x").acquire()?; c() }
            }
        });
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("which `d` already holds when it calls `c`"),
            "{}",
            found[0]
        );
        assert!(found[1].contains("lock-order inversion"), "{}", found[1]);
    }

    #[test]
    fn stacked_under_another_name_have_no_known_order() {
        // `exclusive` expands by itself, around the other: which lock is
        // taken first is not the order written, so no order is assumed.
        let found = errors(quote! {
            mod jobs {
                use mysql_lock::mysql_lock as exclusive;
                #[mysql_lock(name = "x")]
                #[exclusive(name = "y")]
                fn a() -> R { Ok(()) }
                #[mysql_lock(name = "y")]
                fn b() -> R { c() }
                #[mysql_lock(name = "x")]
                fn c() -> R { Ok(()) }
            }
        });
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn nothing_to_check() {
        let found = errors(quote! {
            mod jobs {
                #[exclusive(name = "x")]
                fn a() -> R { Ok(()) }
            }
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("finds no lock held"), "{}", found[0]);
    }

    #[test]
    fn misuse() {
        let out = jobs(
            quote!(name = "x"),
            quote!(
                mod jobs;
            ),
        )
        .to_string();
        assert!(out.contains("takes no arguments"), "{out}");
        assert!(out.contains("write the module inline"), "{out}");
        let out = jobs(
            TokenStream::new(),
            quote!(
                fn job() {}
            ),
        )
        .to_string();
        assert!(out.contains("goes on an inline module"), "{out}");
    }
}
