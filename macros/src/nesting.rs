//! Re-entrance an annotated function shows in itself, checked by its own
//! attribute: while it holds its lock, its body (closures included) must
//! not take the same lock again, by
//!
//! - a function declared in it with `#[mysql_lock]` of the same lock;
//! - the library's `Lock::new("same")` acquired, in a chain or through a
//!   binding (unless `.using(..)` names another alias);
//! - a second `#[mysql_lock]` of the same lock on the function.
//!
//! Calls of the function itself are left to `jobs`: from here, a bare
//! `f(..)` may be a free function (when this one is associated), and
//! `self.f(..)` an inherent method (when this one implements a trait).
//!
//! Each would fail at run time with `Error::Reentrant` (an async task's
//! locks too). Locks are compared
//! as the server compares them (see `locks`). What crosses to other
//! functions, and locks held by hand, are for the module attribute
//! (`jobs`), which sees them all.
//!
//! The check also tells the expansion whether the body has a `return;` of
//! its own (see `expand`), as it parses the body anyway.

use quote::quote;

use crate::args::Args;
use crate::errors::Errors;
use crate::graph::{Graph, Items, Scope, Site};
use crate::item::LockedFn;
use crate::locks::AttrLock;
use crate::scan;

/// What the check found out about the body, besides errors.
#[derive(Default)]
pub(crate) struct Shape {
    /// The body has a `return;` of its own (see `BodyFacts::bare_return`).
    pub(crate) bare_return: bool,
}

/// Every re-entrance of `func`'s own locks in its body: `stack` holds the
/// arguments of its `#[mysql_lock]` attributes, in order, all expanded by
/// the first. Errors go to `errors`.
pub(crate) fn check(stack: &[Args], func: &LockedFn, errors: &mut Errors) -> Shape {
    let Some(body) = &func.body else {
        return Shape::default();
    };
    let name = &func.sig.ident;
    let is_async = func.sig.asyncness.is_some();
    let again = crate::graph::TAKING_AGAIN;

    // Stacked attributes: every lock is held for the whole body.
    let mut held: Vec<AttrLock> = Vec::new();
    let mut cx = scan::Context::default();
    for args in stack {
        cx.paths.add_root(&args.krate);
        let Some(taken) = AttrLock::of(args) else {
            continue;
        };
        let lock = &taken.lock;
        if held.iter().any(|other| other.lock.id == lock.id) {
            let message = format!(
                "`{name}` takes lock {} twice: the second #[mysql_lock] {again}; remove one of \
                 them",
                lock.describe()
            );
            errors.push(syn::Error::new_spanned(&args.name_lit, message));
        } else {
            held.push(taken);
        }
    }

    let items = &body.items;
    let stmts = &body.stmts;
    let Some(facts) = scan::body_tokens(&func.sig, quote!(#items #stmts), &cx) else {
        return Shape::default();
    };
    let shape = Shape {
        bare_return: facts.bare_return,
    };
    let facts = crate::facts::FnFacts {
        ident: name.clone(),
        locks: held,
        body: facts,
        is_async,
    };

    // Declared inside, with the same lock: an error whether called or not.
    let mut declared_inside = Vec::new();
    for nested in facts.declared_within() {
        for taken in &nested.locks {
            if facts
                .locks
                .iter()
                .any(|outer| outer.lock.id == taken.lock.id)
            {
                declared_inside.push(nested.ident.to_string());
                let message = format!(
                    "`{inner}` takes lock {lock}, but it is declared inside `{name}`, which \
                     holds {lock} while it runs: calling `{inner}` from `{name}` {again}; remove \
                     this #[mysql_lock] (the lock is already held), or give one of the two locks \
                     another name",
                    inner = nested.ident,
                    lock = taken.lock.describe(),
                );
                errors.push(syn::Error::new_spanned(&taken.lit, message));
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

    for taken in graph.walk(root).again {
        let step = &taken.step;
        let target = step.path[step.path.len() - 1];
        let reported_as_declared = matches!(step.site, Site::Call(_))
            && target != root
            && declared_inside.contains(&graph.nodes[target].display);
        if !reported_as_declared {
            errors.push(graph.reentrance_error(&taken.held, step));
        }
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args;
    use proc_macro2::TokenStream;

    fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
        let mut func: LockedFn = syn::parse2(item).expect("a function");
        let mut stack = vec![args::parse(args).expect("valid arguments")];
        for attr in crate::expand::take_stacked(&mut func.attrs) {
            stack.push(args::parse_attr(&attr).expect("valid arguments"));
        }
        let mut errors = Errors::default();
        check(&stack, &func, &mut errors);
        match errors.finish() {
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
                    let _ = d();
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
