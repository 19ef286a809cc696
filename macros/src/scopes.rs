//! What names mean where `scan` walks: the bindings, `use`s and types in
//! scope, block by block, so that a call is only taken for the module's
//! function of that name when nothing in scope may mean something else.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use syn::visit::{self, Visit};
use syn::{Item, Pat, PatIdent, Stmt, UseTree};

use crate::facts::{Call, LockNew};
use crate::lock_chain::LockSpec;
use crate::syntax::{has_cfg, item_attrs};

/// The scopes of a function body, innermost last: the parameters', then
/// one per block, closure, arm or loop.
pub(crate) struct Scopes(Vec<Scope>);

impl Default for Scopes {
    fn default() -> Self {
        Scopes(vec![Scope::default()])
    }
}

/// What names mean in one block (or closure, arm, loop).
#[derive(Default)]
pub(crate) struct Scope {
    /// Bindings made by patterns: `let`, parameters, arms, `for`, ...
    values: HashMap<String, Binding>,
    /// Names brought in by `use`: they may name a function or a type.
    uses: HashSet<String>,
    /// Types and modules declared in the block.
    pub(crate) types: HashSet<String>,
    /// A glob `use`: any name may come from it.
    glob: bool,
}

pub(crate) enum Binding {
    Plain,
    /// `let lock = Lock::new("x")...;`, not acquired yet.
    Lock(LockSpec),
    /// `let task = || ...;`: what calling it does.
    Closure(Rc<ClosureFacts>),
}

/// What a stored closure does when it is called.
#[derive(Default)]
pub(crate) struct ClosureFacts {
    pub(crate) calls: Vec<Call>,
    pub(crate) lock_news: Vec<LockNew>,
}

impl Scope {
    /// The scope of a block: its items are visible throughout it, before
    /// them too. Also returns its `use` trees.
    pub(crate) fn of_items(stmts: &[Stmt]) -> (Scope, Vec<&UseTree>) {
        let mut scope = Scope::default();
        let mut uses = Vec::new();
        for stmt in stmts {
            let Stmt::Item(item) = stmt else { continue };
            if has_cfg(item_attrs(item)) {
                continue;
            }
            let declared = match item {
                Item::Use(item) => {
                    uses.push(&item.tree);
                    scope.bind_use(&item.tree);
                    None
                }
                Item::Struct(item) => Some(&item.ident),
                Item::Enum(item) => Some(&item.ident),
                Item::Union(item) => Some(&item.ident),
                Item::Type(item) => Some(&item.ident),
                Item::Trait(item) => Some(&item.ident),
                Item::Mod(item) => Some(&item.ident),
                _ => None,
            };
            if let Some(ident) = declared {
                scope.types.insert(ident.to_string());
            }
        }
        (scope, uses)
    }

    /// The names a `use` brings in.
    fn bind_use(&mut self, tree: &UseTree) {
        match tree {
            UseTree::Path(path) => self.bind_use(&path.tree),
            UseTree::Name(name) => {
                self.uses.insert(name.ident.to_string());
            }
            UseTree::Rename(rename) => {
                self.uses.insert(rename.rename.to_string());
            }
            UseTree::Glob(_) => self.glob = true,
            UseTree::Group(group) => {
                for tree in &group.items {
                    self.bind_use(tree);
                }
            }
        }
    }
}

impl Scopes {
    pub(crate) fn push(&mut self, scope: Scope) {
        self.0.push(scope);
    }

    pub(crate) fn pop(&mut self) {
        self.0.pop();
    }

    /// How many scopes are open.
    pub(crate) fn depth(&self) -> usize {
        self.0.len()
    }

    /// What `name` is bound to, in the innermost scope that binds it.
    pub(crate) fn binding(&self, name: &str) -> Option<&Binding> {
        self.0.iter().rev().find_map(|scope| scope.values.get(name))
    }

    /// Binds `name` in the innermost scope.
    pub(crate) fn set(&mut self, name: String, binding: Binding) {
        if let Some(scope) = self.0.last_mut() {
            scope.values.insert(name, binding);
        }
    }

    /// `name` was assigned to (`name = ..`, or lent as `&mut name`): what
    /// it is bound to is no longer known, in the scope that binds it.
    pub(crate) fn forget(&mut self, name: &str) {
        if let Some(value) = self
            .0
            .iter_mut()
            .rev()
            .find_map(|scope| scope.values.get_mut(name))
        {
            *value = Binding::Plain;
        }
    }

    /// Binds every name of `pat` in the innermost scope.
    pub(crate) fn bind(&mut self, pat: &Pat) {
        struct Names<'a>(&'a mut Scope);
        impl Visit<'_> for Names<'_> {
            fn visit_pat_ident(&mut self, pat: &PatIdent) {
                self.0.values.insert(pat.ident.to_string(), Binding::Plain);
                visit::visit_pat_ident(self, pat);
            }
        }
        if let Some(scope) = self.0.last_mut() {
            Names(scope).visit_pat(pat);
        }
    }

    /// Whether a `use` or (`as_type`) a type declared in scope may give
    /// `name` another meaning than the module's item of that name.
    pub(crate) fn shadowed_by_item(&self, name: &str, as_type: bool) -> bool {
        self.0.iter().any(|scope| {
            scope.glob || scope.uses.contains(name) || (as_type && scope.types.contains(name))
        })
    }
}

/// The single name a `let` binds, when its pattern is just a name.
pub(crate) fn simple_binding(pat: &Pat) -> Option<&syn::Ident> {
    match pat {
        Pat::Ident(ident) if ident.subpat.is_none() => Some(&ident.ident),
        Pat::Type(typed) => simple_binding(&typed.pat),
        _ => None,
    }
}
