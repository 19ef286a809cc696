//! Re-entrance an annotated function shows in itself, checked by its own
//! attribute: while it holds its lock, its body (closures included) must
//! not take the same lock again, by
//!
//! - a function declared in it with `#[mysql_lock]` of the same lock;
//! - `Lock::new("same").acquire()` (unless `.using(..)` names another
//!   alias);
//! - a second `#[mysql_lock]` of the same lock on the function.
//!
//! Calls of the function itself are left to `module`: from here, a bare
//! `f(..)` may be a free function (when this one is associated), and
//! `self.f(..)` an inherent method (when this one implements a trait).
//!
//! Each would fail at run time with `Error::Reentrant`. Locks are compared
//! as the server compares them (see `locks`). What crosses to other
//! functions is for the module attribute (`module`), which sees them all.

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

use crate::args::Args;
use crate::errors::Errors;
use crate::graph::{Graph, Items, Scope, Site};
use crate::item::LockedFn;
use crate::locks::{self, LockName};
use crate::scan::{self, FnFacts};

/// Every re-entrance of `func`'s own lock(s) in its body.
pub(crate) fn check(args: &Args, func: &LockedFn) -> syn::Result<()> {
    let Some(body) = &func.body else {
        return Ok(());
    };
    let Some(own) = LockName::of(args) else {
        return Ok(());
    };
    if expanded_before(&body.stmts) {
        // A `#[mysql_lock]` above this one was expanded first, and checked
        // the body for every lock of the function, this one included.
        return Ok(());
    }
    let mut errors = Errors::default();
    let name = &func.sig.ident;

    // Stacked attributes: every lock is held for the whole body.
    let mut held: Vec<(LockName, syn::LitStr)> = vec![(own, args.name_lit.clone())];
    for (lock, lit) in locks::attr_locks(&func.attrs) {
        if held.iter().any(|(other, _)| other.id == lock.id) {
            let message = format!(
                "`{name}` takes lock {} twice: the second #[mysql_lock] would fail at run time \
                 with `Error::Reentrant`; remove one of them",
                lock.describe()
            );
            errors.push(syn::Error::new_spanned(lit, message));
        } else {
            held.push((lock, lit));
        }
    }

    let items = &body.items;
    let stmts = &body.stmts;
    let Some(mut facts) = scan::scan_tokens(quote!(#items #stmts)) else {
        return errors.finish();
    };
    facts.drop_shadowed(&func.sig);
    let facts = FnFacts {
        ident: name.clone(),
        locks: held.clone(),
        body: facts,
    };

    // Declared inside, with the same lock: an error whether called or not.
    let mut declared_inside = Vec::new();
    for nested in facts.declared_within() {
        for (lock, lit) in &nested.locks {
            if held.iter().any(|(outer, _)| outer.id == lock.id) {
                declared_inside.push(nested.ident.to_string());
                let message = format!(
                    "`{inner}` takes lock {lock}, but it is declared inside `{name}`, which \
                     holds {lock} while it runs: calling `{inner}` from `{name}` would fail at run \
                     time with `Error::Reentrant`; remove this #[mysql_lock] (the lock is \
                     already held), or give one of the two locks another name",
                    inner = nested.ident,
                    lock = lock.describe(),
                );
                errors.push(syn::Error::new_spanned(lit, message));
            }
        }
    }

    // Calls of the function itself are not followed here: a bare
    // `name(..)` or `self::name(..)` calls a free function when this one is
    // associated, and `self.name(..)` or `Self::name(..)` may call an
    // inherent method of the same name when this one implements a trait;
    // this attribute can't see which. `#[mysql_lock::jobs]` sees the
    // module, and reports them. Functions declared in the body are known.
    let mut graph = Graph::default();
    let root = graph.add(facts, name.to_string(), 0, Scope::default());
    graph.resolve(&Items::default());

    let mut reported = Vec::new();
    for (lock, _) in &held {
        for step in graph.explore(root, lock) {
            if !step.again || reported.contains(&step.place()) {
                continue;
            }
            let target = step.path[step.path.len() - 1];
            let reported_as_declared = matches!(step.site, Site::Call(_))
                && target != root
                && declared_inside.contains(&graph.nodes[target].display);
            if !reported_as_declared {
                reported.push(step.place());
                errors.push(graph.reentrance_error(lock, &step));
            }
        }
    }
    errors.finish()
}

/// Whether the body starts with what the expansion adds, because another
/// `#[mysql_lock]` on the function was expanded before this one.
fn expanded_before(stmts: &TokenStream) -> bool {
    stmts.clone().into_iter().nth(1).is_some_and(
        |tree| matches!(tree, TokenTree::Ident(ident) if ident == "__mysql_lock_returns"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args;

    fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
        let args = args::parse(args).expect("valid arguments");
        let func: LockedFn = syn::parse2(item).expect("a function");
        match check(&args, &func) {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn nested_function_with_the_same_lock() {
        let found = errors(
            quote!(name = "job"),
            quote!(
                fn job() -> R {
                    #[mysql_lock(name = "job")]
                    fn inner() -> R {
                        Ok(())
                    }
                    #[mysql_lock(name = "job", using = "other")]
                    fn elsewhere() -> R {
                        Ok(())
                    }
                    #[mysql_lock(name = "Job")]
                    fn case_variant() -> R {
                        Ok(())
                    }
                    inner()
                }
            ),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("`inner` takes lock \"job\", but it is declared inside `job`"));
    }

    #[test]
    fn lock_new_with_the_same_name() {
        let found = errors(
            quote!(name = "job", using = "other"),
            quote!(
                fn job() -> R {
                    let a = Lock::new("job").using("other").acquire()?;
                    let b = Lock::new("job").acquire()?;
                    let c = mysql_lock::Lock::new("job").using(OTHER);
                    let d = || {
                        ::mysql_lock::Lock::new("job")
                            .timeout(t)
                            .using("other")
                            .try_acquire()
                    };
                    let e = Lock::new("job").using("other");
                    Ok(())
                }
            ),
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("already holds lock \"job\" (using \"other\") here"));
    }

    #[test]
    fn self_calls_are_left_to_the_module() {
        // Whether these call this function depends on where it is (an
        // inherent impl, a trait impl, the module): not reported here.
        let found = errors(
            quote!(name = "job"),
            quote!(
                fn job(&self, n: u32) -> R {
                    if n > 0 {
                        self.job(n - 1)?;
                        Self::job(self, n - 1)?;
                        job(n)?;
                        self::job(n)?;
                    }
                    fn helper() -> R {
                        job(0)
                    }
                    helper()
                }
            ),
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn stacked_attributes() {
        let found = errors(
            quote!(name = "job"),
            quote!(
                #[mysql_lock(name = "other")]
                #[mysql_lock(name = "job")]
                fn job() -> R {
                    Lock::new("other").acquire();
                    Ok(())
                }
            ),
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("`job` takes lock \"job\" twice"));
        assert!(found[1].contains("already holds lock \"other\" here"));
    }
}
