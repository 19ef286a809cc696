//! The expansion: the function as written, with its statements run by a
//! closure between taking and releasing the lock:
//!
//! ```text
//! fn job(args) -> Result<T, E> {
//!     #![inner attributes]
//!     let __mysql_lock_returns = PhantomData;
//!     let __mysql_lock_guard = {
//!         use ::mysql_lock::__private as __mysql_lock_private;
//!         static __MYSQL_LOCK: LazyLock<Lock> = LazyLock::new(|| lock(name, timeout, using));
//!         match acquire(&__MYSQL_LOCK) {
//!             Ok(guard) => guard,
//!             Err(error) => return LockedResult::lock_failed(__mysql_lock_returns, error),
//!         }
//!     };
//!     LockedResult::run(__mysql_lock_returns, __mysql_lock_guard, move || { <items and statements> })
//! }
//! ```
//!
//! `run` calls the closure, then releases the guard; when the lock was lost
//! while the body ran, a successful result becomes `Err(LockLost)`. The
//! body is a closure so that every way out of it (its end, `return`, `?`)
//! goes through `run`: a `return` leaves the closure, whose value is then
//! the function's. The closure is `move`, and `FnOnce`, so the body may
//! move arguments out and return borrows of them. The guard is taken
//! before `run` is called, so a panic in the body drops it while
//! unwinding, which releases the lock.
//!
//! `__mysql_lock_returns` is a `PhantomData` of the return type: the early
//! `return` makes it so, before the closure is checked. So the closure's
//! return type is the function's when its body is checked, and coercions,
//! `?` and `impl Trait` in the body work as they did in the function
//! (an expected type given to a generic call does not reach a closure
//! argument; a type already inferred does).
//!
//! `LockedResult` is implemented for `Result<T, E: From<Error>>` only, with
//! the message a user needs for any other return type. Both of its calls
//! are located at the return type, so that this message is reported once,
//! underlining the return type.
//!
//! A `#[track_caller]` function keeps its statements in its own body,
//! after the guard: a closure can't be `#[track_caller]` on stable Rust,
//! and would hide the caller's location. Its lock is released when the
//! guard is dropped, and a lock lost meanwhile is not reported.

use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::{Attribute, Meta, ReturnType};

use crate::args::{self, Args, Timeout};
use crate::errors::Errors;
use crate::item::{self, Body, LockedFn};
use crate::{locks, nesting, validate};

/// `#[mysql_lock(args)] item`. On a mistake in the arguments or the item:
/// the item unchanged, so that the rest of the crate still type-checks,
/// followed by every error. On re-entrance found in the body: the function
/// expanded, followed by every error.
///
/// The other `#[mysql_lock]` attributes on the function (below this one:
/// those above were expanded first) are expanded here too, and removed:
/// every lock is taken, in the order written, before the body runs, and
/// one check sees them all.
pub(crate) fn mysql_lock(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = errors.take(args::parse(args));
    let mut stack = vec![args];
    let func = if let Ok(mut func) = syn::parse2::<LockedFn>(item.clone()) {
        errors.take(validate::check(&func));
        for attr in take_stacked(&mut func.attrs) {
            stack.push(errors.take(args::parse_attr(&attr)));
        }
        Some(func)
    } else {
        errors.push(item::not_a_function(item.clone()));
        None
    };
    let well_formed = errors.is_empty();
    let stack: Vec<Args> = stack.into_iter().flatten().collect();
    if let Some(func) = &func {
        errors.take(nesting::check(&stack, func));
    }
    let mut tokens = match func {
        Some(func) if well_formed => gen_function(&stack, func),
        // Without the stacked attributes, whose errors are reported here.
        Some(func) => func.into_token_stream(),
        None => item,
    };
    if let Err(error) = errors.finish() {
        tokens.extend(error.into_compile_error());
    }
    tokens
}

/// Removes the `#[mysql_lock]` attributes from `attrs`, and returns them.
pub(crate) fn take_stacked(attrs: &mut Vec<Attribute>) -> Vec<Attribute> {
    let (stacked, others) = std::mem::take(attrs)
        .into_iter()
        .partition(locks::is_lock_attr);
    *attrs = others;
    stacked
}

/// The names the expansion binds. Every one has `Span::mixed_site()`, so
/// the user's code can't see them; and a prefix, as a binding named like a
/// static or const in scope would be an error.
struct Names {
    returns: Ident,
    guard: Ident,
}

impl Names {
    fn new() -> Self {
        let site = Span::mixed_site();
        Names {
            returns: Ident::new("__mysql_lock_returns", site),
            guard: Ident::new("__mysql_lock_guard", site),
        }
    }
}

/// The function with its locks taken before the first statement of its
/// body, in the order of `stack`, and its statements run by [`gen_run`].
/// The statements keep their tokens and spans, so that items, labels,
/// `return` and `?` in them mean what they meant.
fn gen_function(stack: &[Args], func: LockedFn) -> TokenStream {
    let LockedFn {
        attrs,
        vis,
        sig,
        body,
    } = func;
    let Some(Body {
        brace_token,
        inner_attrs,
        items,
        stmts,
    }) = body
    else {
        // Rejected by `validate::check`.
        return quote!(#(#attrs)* #vis #sig;);
    };
    let names = Names::new();
    let at_return_type = ReturnTypeSpans::new(&sig.output);
    let brace_span = brace_token.span.join();
    // The leading items stay before the lock is taken (clippy's
    // `items_after_statements`) when the statements stay in the function's
    // block; when the statements move into the closure, the items move
    // with them, since an item is visible throughout its block, to the
    // statements and items before it as well.
    let body = if is_track_caller(&attrs) {
        let take_locks = stack
            .iter()
            .map(|args| gen_take_lock(args, &names, &at_return_type));
        quote!(#items #(#take_locks)* #stmts)
    } else {
        // The first lock's closure takes the second, and so on: each is
        // released after the body and the locks taken after it.
        let mut body = quote!(#items #stmts);
        for args in stack.iter().rev() {
            let take_lock = gen_take_lock(args, &names, &at_return_type);
            let run = gen_run(args, &names, &at_return_type, body, brace_span);
            body = quote!(#take_lock #run);
        }
        body
    };
    let mut block = Group::new(Delimiter::Brace, quote!(#(#inner_attrs)* #body));
    block.set_span(brace_span);
    quote!(#(#attrs)* #vis #sig #block)
}

/// Whether the function is `#[track_caller]`, also through `cfg_attr`.
fn is_track_caller(attrs: &[Attribute]) -> bool {
    fn names_track_caller(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => ident == "track_caller",
            TokenTree::Group(group) => names_track_caller(group.stream()),
            _ => false,
        })
    }
    attrs.iter().any(|attr| match &attr.meta {
        Meta::Path(path) => path.is_ident("track_caller"),
        Meta::List(list) if list.path.is_ident("cfg_attr") => {
            names_track_caller(list.tokens.clone())
        }
        _ => false,
    })
}

/// `let returns = PhantomData; let guard = { static LOCK ...; acquire or
/// return lock_failed(returns, error) };`
///
/// Item names are not hygienic: the `use` and the `static` live in an
/// inner block, where they shadow the user's items instead of clashing
/// with them. The static names no generic parameter, so one lock serves
/// every instantiation of a generic function.
fn gen_take_lock(args: &Args, names: &Names, at_return_type: &ReturnTypeSpans) -> TokenStream {
    let site = Span::mixed_site();
    let Names { returns, guard } = names;
    let private = Ident::new("__mysql_lock_private", site);
    let lock_static = Ident::new("__MYSQL_LOCK", site);
    let acquired = Ident::new("__mysql_lock_acquired", site);
    let error = Ident::new("__mysql_lock_error", site);

    let krate = &args.krate;
    let lock = gen_lock(args);
    let lock_failed = at_return_type.call(
        quote!(#private::LockedResult::lock_failed),
        &quote_spanned!(site=> #error),
        names,
    );

    quote_spanned! {site=>
        let #returns = ::core::marker::PhantomData;
        let #guard = {
            use #krate::__private as #private;
            static #lock_static: #private::LazyLock<#private::Lock> =
                #private::LazyLock::new(|| #lock);
            match #private::acquire(&#lock_static) {
                ::core::result::Result::Ok(#acquired) => #acquired,
                ::core::result::Result::Err(#error) => return #lock_failed,
            }
        };
    }
}

/// `Lock::new(name)`, with a builder call for each argument the user gave
/// (`.timeout(..)` or `.wait_forever()`, `.using(..)`): the runtime's
/// defaults apply to the others.
fn gen_lock(args: &Args) -> TokenStream {
    let site = Span::mixed_site();
    let private = Ident::new("__mysql_lock_private", site);
    let name = Literal::string(&args.name);
    let mut lock = quote_spanned!(site=> #private::Lock::new(#name));
    match args.timeout {
        Some(Timeout::Seconds(secs)) => {
            let secs = Literal::f64_suffixed(secs);
            lock.extend(quote_spanned!(site=> .timeout(#private::Duration::from_secs_f64(#secs))));
        }
        Some(Timeout::Forever) => lock.extend(quote_spanned!(site=> .wait_forever())),
        None => {}
    }
    if let Some(using) = &args.using {
        let using = Literal::string(using);
        lock.extend(quote_spanned!(site=> .using(#using)));
    }
    lock
}

/// `LockedResult::run(returns, guard, move || { statements })`, the tail
/// expression of the function.
///
/// The closure's block keeps the location of the function's braces, so
/// that an error about the body's value points at the body. Every token
/// added has the expansion's hygiene, so that lints treat the closure and
/// the calls as the macro's code, not the user's.
fn gen_run(
    args: &Args,
    names: &Names,
    at_return_type: &ReturnTypeSpans,
    stmts: TokenStream,
    brace_span: Span,
) -> TokenStream {
    let krate = &args.krate;
    let guard = &names.guard;
    let body_span = Span::mixed_site().located_at(brace_span);
    let mut block = Group::new(Delimiter::Brace, stmts);
    block.set_span(body_span);
    at_return_type.call(
        quote!(#krate::__private::LockedResult::run),
        &quote_spanned!(body_span=> #guard, move || #block),
        names,
    )
}

/// Spans with the expansion's hygiene (so that lints treat the code as the
/// macro's, not the user's), located at the first and the last token of
/// the return type.
struct ReturnTypeSpans {
    first: Span,
    last: Span,
}

impl ReturnTypeSpans {
    fn new(output: &ReturnType) -> Self {
        let (first, last) = match output {
            ReturnType::Type(_, ty) => {
                let mut tokens = ty.to_token_stream().into_iter();
                let first = tokens.next().map_or_else(Span::call_site, |t| t.span());
                let last = tokens.last().map_or(first, |t| t.span());
                (first, last)
            }
            // Rejected by `validate::check`.
            ReturnType::Default => (Span::call_site(), Span::call_site()),
        };
        let site = Span::mixed_site();
        ReturnTypeSpans {
            first: site.located_at(first),
            last: site.located_at(last),
        }
    }

    /// `function(identity(returns), rest)`, located at the return type.
    ///
    /// The compiler reports an unsatisfied bound of `function` at the
    /// argument that carries the type: `identity(returns)` spans from the
    /// first token of the return type to its last, so the whole type is
    /// underlined, and both calls report at the same place, which the
    /// compiler then reports once. The path of `function` spans the same,
    /// so that its label ("required by a bound introduced by this call")
    /// is left out.
    fn call(&self, function: TokenStream, rest: &TokenStream, names: &Names) -> TokenStream {
        let Self { first, last } = *self;
        let mut function: Vec<TokenTree> = respan(function, first).into_iter().collect();
        if let Some(end) = function.last_mut() {
            end.set_span(last);
        }
        let returns = &names.returns;
        let mut returns_arg = Group::new(Delimiter::Parenthesis, quote_spanned!(last=> #returns));
        returns_arg.set_span(last);
        let mut args = Group::new(
            Delimiter::Parenthesis,
            quote_spanned!(first=> ::core::convert::identity #returns_arg, #rest),
        );
        args.set_span(last);
        quote!(#(#function)* #args)
    }
}

/// `tokens` with every span (outside groups' contents too) set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut new = Group::new(group.delimiter(), respan(group.stream(), span));
                new.set_span(span);
                tree = TokenTree::Group(new);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(args: TokenStream, item: TokenStream) -> String {
        mysql_lock(args, item).to_string()
    }

    #[test]
    fn takes_the_lock_first_and_runs_items_and_statements_in_the_closure() {
        let out = expand(
            quote!(name = "job", timeout = 2),
            quote! {
                /// Docs.
                pub(crate) fn job<T: Clone>(&self, t: T) -> Result<T, E> where T: Send {
                    #![allow(unused)]
                    use std::fmt;
                    const LIMIT: u8 = 1;
                    macro_rules! twice { ($e:expr) => { $e * 2 } }
                    println!("first statement");
                    fn after() {}
                    Ok(t)
                }
            },
        );
        let lock = out.find("let __mysql_lock_guard").expect(&out);
        let head = &out[..lock];
        let tail = &out[lock..];
        assert!(
            head.starts_with(
                "# [doc = r\" Docs.\"] pub (crate) fn job < T : Clone > (& self , t : T) -> \
             Result < T , E > where T : Send { # ! [allow (unused)] let"
            ),
            "{out}"
        );
        // Items stay with the statements: an item is visible throughout
        // its block, also to the statements before it.
        assert!(!head.contains("const LIMIT"), "{out}");
        assert!(
            tail.contains("move || { use std :: fmt ; const LIMIT : u8 = 1 ; macro_rules ! twice"),
            "{out}"
        );
        assert!(
            tail.contains("use :: mysql_lock :: __private as __mysql_lock_private ;"),
            "{out}"
        );
        assert!(tail.contains(
            "__mysql_lock_private :: Lock :: new (\"job\") . timeout (__mysql_lock_private :: Duration :: from_secs_f64 (2f64))"
        ), "{out}");
        assert!(
            tail.contains(
                "return __mysql_lock_private :: LockedResult :: lock_failed \
                 (:: core :: convert :: identity (__mysql_lock_returns) , __mysql_lock_error)"
            ),
            "{out}"
        );
        assert!(
            tail.ends_with(
                ":: mysql_lock :: __private :: LockedResult :: run \
                 (:: core :: convert :: identity (__mysql_lock_returns) , __mysql_lock_guard , \
                 move || { use std :: fmt ; const LIMIT : u8 = 1 ; macro_rules ! twice \
                 { ($ e : expr) => { $ e * 2 } } println ! (\"first statement\") ; \
                 fn after () { } Ok (t) }) }"
            ),
            "{out}"
        );
    }

    #[test]
    fn track_caller_keeps_the_statements_in_the_function() {
        for attr in [
            quote!(#[track_caller]),
            quote!(#[cfg_attr(test, track_caller)]),
        ] {
            let out = expand(
                quote!(name = "job"),
                quote!(#attr fn job() -> Result<(), E> { step()?; Ok(()) }),
            );
            assert!(!out.contains("LockedResult :: run"), "{out}");
            assert!(out.ends_with("} ; step () ? ; Ok (()) }"), "{out}");
        }
    }

    #[test]
    fn forever_and_renamed_crate() {
        let out = expand(
            quote!(
                name = "job",
                timeout = "forever",
                using = "other",
                crate = "deps::lock"
            ),
            quote!(
                fn job() -> anyhow::Result<()> {
                    Ok(())
                }
            ),
        );
        assert!(
            out.contains("use deps :: lock :: __private as __mysql_lock_private ;"),
            "{out}"
        );
        assert!(
            out.contains("Lock :: new (\"job\") . wait_forever () . using (\"other\")"),
            "{out}"
        );
    }

    #[test]
    fn on_error_the_item_is_kept_as_written() {
        let item = quote!(
            async fn job() -> Result<(), E> {
                Ok(())
            }
        );
        let out = expand(quote!(timeout = -1), item.clone());
        assert!(out.starts_with(&item.to_string()), "{out}");
        assert_eq!(out.matches("compile_error").count(), 3, "{out}");

        let item = quote!(
            struct Job;
        );
        let out = expand(quote!(name = "job"), item.clone());
        assert!(out.starts_with(&item.to_string()), "{out}");
        assert!(
            out.contains("can only be applied to functions, not to a struct"),
            "{out}"
        );
    }
}
