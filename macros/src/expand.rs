//! The expansion: the function as written, with its statements run by a
//! closure between taking and releasing the lock:
//!
//! ```text
//! fn job(args) -> Result<T, E> {
//!     #![inner attributes]
//!     let __mysql_lock_returns = PhantomData;
//!     let __mysql_lock_from = From::from;
//!     let __mysql_lock_guard = {
//!         use ::mysql_lock::__private as __mysql_lock_private;
//!         static __MYSQL_LOCK: LazyLock<Lock> = LazyLock::new(|| lock(name, timeout, using));
//!         match acquire(&__MYSQL_LOCK) {
//!             Ok(guard) => guard,
//!             Err(error) => return lock_failed(__mysql_lock_returns, __mysql_lock_from(error)),
//!         }
//!     };
//!     run(__mysql_lock_returns, __mysql_lock_guard, move || { <items and statements> }, __mysql_lock_from)
//! }
//! ```
//!
//! A name with placeholders (`name = "invoice:{id}"`) keeps one static
//! lock for the alias, timeout and minimum hold time, and each call takes
//! `LOCK.with_name(::std::format!("invoice:{}", &id))`, formatted before
//! the body runs. With `if_busy = "skip"`, the lock is taken by
//! `acquire_or_skip`, and a busy lock returns `Ok(None)`.
//!
//! `run` calls the closure, then releases the guard; when the lock was lost
//! while the body ran, a successful result becomes `Err(from(LockLost))`.
//! The body is a closure so that every way out of it (its end, `return`,
//! `?`) goes through `run`: a `return` leaves the closure, whose value is
//! then the function's. The closure is `move`, and `FnOnce`, so the body
//! may move arguments out and return borrows of them. The guard is taken
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
//! No runtime function bounds the error type: the one `From::from` above
//! is the only place that needs `E: From<mysql_lock::Error>`, and it is
//! located at the return type, as are the calls that need a `Result`. So a
//! wrong return type is reported once, underlining it, in the compiler's
//! own words about public types (`the trait bound `AppError:
//! From<mysql_lock::Error>` is not satisfied`, with its suggestion of a
//! bound for a type parameter), never naming the runtime's private items.
//!
//! A `#[track_caller]` function keeps its statements in its own body,
//! after the guard: a closure can't be `#[track_caller]` on stable Rust,
//! and would hide the caller's location. Its lock is released when the
//! guard is dropped, and a lock lost meanwhile is not reported. So does a
//! body with a `return;` of its own, which can never compile: in the
//! function's block, the compiler's error names the return type, as for
//! a plain function.
//!
//! Several `#[mysql_lock]` on one function are expanded together by the
//! first: each lock's closure takes the next lock, so they are taken in
//! the order written and released in reverse.
//!
//! An `async fn` has the same structure, awaited:
//!
//! ```text
//! async fn job(args) -> Result<T, E> {
//!     require_async::<Lock>();   // the one error without the feature `async`
//!     let __mysql_lock_returns = PhantomData;
//!     let __mysql_lock_from = From::from;
//!     let __mysql_lock_guard = { ...; match acquire_async(&LOCK).await { .. } };
//!     run_async(returns, guard, async move {
//!         <items>
//!         if let Some(never) = body_returns(returns) { return never; }
//!         <statements>
//!     }, move |error| from(error)).await
//! }
//! ```
//!
//! The `return` that opens the block gives it the function's return type
//! before its statements are checked, as the closure gets it from `run`'s
//! signature (an async block takes none from its callee). `from` goes in a
//! closure so that `run_async`'s future type names no `From::from` whose
//! bound may be unmet (the compiler would report it again at the
//! `.await`). What the future holds across its `.await`s is the lock's
//! static, the formatted name's `Lock`, the guard and the body's future:
//! `Send` whenever the body's future and its value are. `#[track_caller]`
//! does nothing on an `async fn`, so only a `return;` keeps the statements
//! in the function.

use mysql_lock_core::DEFAULT_ALIAS;
use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::{Attribute, Meta, ReturnType, Signature};

use crate::args::{self, Args, Timeout};
use crate::errors::Errors;
use crate::item::{self, Body, LockedFn};
use crate::nesting::{self, Shape};
use crate::{locks, template, validate};

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
    let stack: Vec<Args> = stack.into_iter().flatten().collect();
    if let Some(func) = &func {
        for args in &stack {
            errors.take(validate::check_args(args, &func.sig));
        }
        same_templates(&stack, &func.sig, &mut errors);
    }
    let well_formed = errors.is_empty();
    let shape = match &func {
        Some(func) => nesting::check(&stack, func, &mut errors),
        None => Shape::default(),
    };
    let mut tokens = match func {
        Some(func) if well_formed => gen_function(&stack, func, &shape),
        // Without the stacked attributes, whose errors are reported here.
        Some(func) => func.into_token_stream(),
        None => item,
    };
    if let Err(error) = errors.finish() {
        tokens.extend(error.into_compile_error());
    }
    tokens
}

/// Two stacked attributes with the same template on the same alias: the
/// same arguments, formatted one after the other before the body runs,
/// make the same name, so the second would always be `Error::Reentrant`.
/// (Constant names are compared by `nesting`; a template and any other
/// name may or may not be equal, and are left to the runtime.)
fn same_templates(stack: &[Args], sig: &Signature, errors: &mut Errors) {
    let function = &sig.ident;
    let again = crate::graph::TAKING_AGAIN;
    let alias = |args: &Args| {
        args.using
            .clone()
            .unwrap_or_else(|| DEFAULT_ALIAS.to_owned())
    };
    for (i, args) in stack.iter().enumerate() {
        let Some(template) = &args.template else {
            continue;
        };
        let repeated = stack[..i].iter().any(|earlier| {
            earlier.template.as_ref() == Some(template) && alias(earlier) == alias(args)
        });
        if repeated {
            let message = format!(
                "`{function}` takes lock {:?} twice: both #[mysql_lock] format the name from \
                 the same arguments, so the second {again}; remove one of them",
                args.name_lit.value()
            );
            errors.push(syn::Error::new_spanned(&args.name_lit, message));
        }
    }
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
    from: Ident,
}

impl Names {
    fn new() -> Self {
        let site = Span::mixed_site();
        Names {
            returns: Ident::new("__mysql_lock_returns", site),
            guard: Ident::new("__mysql_lock_guard", site),
            from: Ident::new("__mysql_lock_from", site),
        }
    }
}

/// The function with its locks taken before the first statement of its
/// body, in the order of `stack`, and its statements run by [`gen_run`].
/// The statements keep their tokens and spans, so that items, labels,
/// `return` and `?` in them mean what they meant.
fn gen_function(stack: &[Args], func: LockedFn, shape: &Shape) -> TokenStream {
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
    // A `return;` returns `()`, never a `Result`: in the function's own
    // block, the compiler says so as it does for a plain function (in a
    // closure, it could not name the return type).
    // An `async fn` runs its body as an `async move` block instead of a
    // closure; `#[track_caller]` does nothing on an `async fn`, so only a
    // `return;` keeps its statements in the function.
    let is_async = sig.asyncness.is_some();
    // Without the feature `async` of the runtime, this call is the one
    // error of the function, at its `async` keyword, naming the feature.
    let require_async = match (sig.asyncness, stack.first()) {
        (Some(token), Some(first)) => {
            let at = Span::mixed_site().located_at(token.span);
            let krate = respan(first.krate.to_token_stream(), at);
            quote_spanned!(at=> #krate::__private::require_async::<#krate::__private::Lock>();)
        }
        _ => TokenStream::new(),
    };
    let body = if (!is_async && is_track_caller(&attrs)) || shape.bare_return {
        let take_locks = stack
            .iter()
            .map(|args| gen_take_lock(args, &names, &at_return_type, &sig));
        quote!(#items #require_async #(#take_locks)* #stmts)
    } else {
        // The first lock's closure (or async block) takes the second, and
        // so on: each is released after the body and the locks taken
        // after it.
        let mut body = (items, stmts);
        for args in stack.iter().rev() {
            let take_lock = gen_take_lock(args, &names, &at_return_type, &sig);
            let run = gen_run(
                args,
                &names,
                &at_return_type,
                body,
                brace_token.span.close(),
                is_async,
            );
            body = (TokenStream::new(), quote!(#take_lock #run));
        }
        let locked = body.1;
        quote!(#require_async #locked)
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
///
/// A name with placeholders is formatted here, before the body runs (no
/// argument has been moved), and taken as `LOCK.with_name(name)`, which
/// shares the static's alias look-up. With `if_busy = "skip"`, a busy
/// lock returns `Ok(None)`.
fn gen_take_lock(
    args: &Args,
    names: &Names,
    at_return_type: &ReturnTypeSpans,
    sig: &Signature,
) -> TokenStream {
    let site = Span::mixed_site();
    let Names {
        returns,
        guard,
        from,
        ..
    } = names;
    let private = Ident::new("__mysql_lock_private", site);
    let lock_static = Ident::new("__MYSQL_LOCK", site);
    let acquired = Ident::new("__mysql_lock_acquired", site);
    let error = Ident::new("__mysql_lock_error", site);

    let krate = &args.krate;
    let lock = gen_lock(args);
    let lock_failed = at_return_type.call(
        quote!(#private::lock_failed),
        &quote_spanned!(site=> #from(#error)),
        names,
    );
    let from_path = at_return_type.cover(quote!(::core::convert::From::from));
    let named = Ident::new("__mysql_lock_named", site);
    // An `async fn` binds the formatted name's lock before the `.await`:
    // what its future holds across it is then a `Lock` (`Send`), never the
    // formatting's temporaries.
    let (name_lock, lock_ref) = match (&args.template, sig.asyncness) {
        (Some(template), Some(_)) => {
            let name = template::format_call(template, &args.name_lit, sig);
            (
                quote_spanned!(site=> let #named = #lock_static.with_name(#name);),
                quote_spanned!(site=> &#named),
            )
        }
        (Some(template), None) => {
            let name = template::format_call(template, &args.name_lit, sig);
            (
                TokenStream::new(),
                quote_spanned!(site=> &#lock_static.with_name(#name)),
            )
        }
        (None, _) => (TokenStream::new(), quote_spanned!(site=> &#lock_static)),
    };
    let (acquire, acquire_or_skip, wait) = match sig.asyncness {
        Some(_) => (
            quote_spanned!(site=> #private::acquire_async),
            quote_spanned!(site=> #private::acquire_or_skip_async),
            quote_spanned!(site=> .await),
        ),
        None => (
            quote_spanned!(site=> #private::acquire),
            quote_spanned!(site=> #private::acquire_or_skip),
            TokenStream::new(),
        ),
    };
    let take = if args.skip.is_some() {
        // At the return type: when it is an alias of a `Result` of
        // something else, the compiler says so there ("expected `()`,
        // found `Option<_>`"). (`validate` reports `Result<X, E>`.)
        let skipped = at_return_type.cover(quote!(::core::result::Result::Ok(
            ::core::option::Option::None
        )));
        quote_spanned! {site=>
            match #acquire_or_skip(#lock_ref)#wait {
                ::core::result::Result::Ok(::core::option::Option::Some(#acquired)) => #acquired,
                ::core::result::Result::Ok(::core::option::Option::None) => return #skipped,
                ::core::result::Result::Err(#error) => return #lock_failed,
            }
        }
    } else {
        quote_spanned! {site=>
            match #acquire(#lock_ref)#wait {
                ::core::result::Result::Ok(#acquired) => #acquired,
                ::core::result::Result::Err(#error) => return #lock_failed,
            }
        }
    };

    quote_spanned! {site=>
        let #returns = ::core::marker::PhantomData;
        let #from = #from_path;
        let #guard = {
            use #krate::__private as #private;
            static #lock_static: #private::LazyLock<#private::Lock> =
                #private::LazyLock::new(|| #lock);
            #name_lock
            #take
        };
    }
}

/// `Lock::new(name)`, with a builder call for each argument the user gave
/// (`.timeout(..)` or `.wait_forever()`, `.min_hold(..)`, `.using(..)`;
/// `if_busy = "skip"` without a timeout is a zero timeout): the runtime's
/// defaults apply to the others. For a name with placeholders, `name` is
/// the template as written, never taken: each call takes a lock made from
/// this one by `with_name`.
fn gen_lock(args: &Args) -> TokenStream {
    let site = Span::mixed_site();
    let private = Ident::new("__mysql_lock_private", site);
    let name = Literal::string(&args.name);
    let mut lock = quote_spanned!(site=> #private::Lock::new(#name));
    match args.effective_timeout() {
        Some(Timeout::Seconds(secs)) => {
            let secs = Literal::f64_suffixed(secs);
            lock.extend(quote_spanned!(site=> .timeout(#private::Duration::from_secs_f64(#secs))));
        }
        Some(Timeout::Forever) => lock.extend(quote_spanned!(site=> .wait_forever())),
        None => {}
    }
    if let Some(secs) = args.min_hold {
        let secs = Literal::f64_suffixed(secs);
        lock.extend(quote_spanned!(site=> .min_hold(#private::Duration::from_secs_f64(#secs))));
    }
    if let Some(using) = &args.using {
        let using = Literal::string(using);
        lock.extend(quote_spanned!(site=> .using(#using)));
    }
    lock
}

/// `run(returns, guard, move || { statements }, from)`, the tail
/// expression of the function; for an `async fn`,
/// `run_async(returns, guard, async move { statements }, from).await`.
///
/// The closure's block is located at the function's closing brace, so
/// that an error about the body's value (a missing final `Ok(..)`) points
/// at the end of the body, not at all of it. Every token added has the
/// expansion's hygiene, so that lints treat the closure and the calls as
/// the macro's code, not the user's.
fn gen_run(
    args: &Args,
    names: &Names,
    at_return_type: &ReturnTypeSpans,
    (items, stmts): (TokenStream, TokenStream),
    close_brace: Span,
    is_async: bool,
) -> TokenStream {
    let krate = &args.krate;
    let Names { guard, from, .. } = names;
    let body_span = Span::mixed_site().located_at(close_brace);
    if is_async {
        // The block's first statement (after the items, which run
        // nothing) is a `return` that types it (see
        // `__private::body_returns`).
        let Names { returns, .. } = names;
        let never = Ident::new("__mysql_lock_never", Span::mixed_site());
        let typed = quote_spanned! {body_span=>
            if let ::core::option::Option::Some(#never) =
                #krate::__private::body_returns(#returns)
            {
                return #never;
            }
        };
        let mut block = Group::new(Delimiter::Brace, quote!(#items #typed #stmts));
        block.set_span(body_span);
        // `from` in a closure: the future of `run_async` then names no
        // `From::from` whose bound may be unmet, which the compiler would
        // report again at the `.await`; the closure's call reports it at
        // the return type, where the other uses of `from` do.
        let error = Ident::new("__mysql_lock_error", Span::mixed_site());
        let from_closure = at_return_type.cover(quote!(move |#error| #from(#error)));
        let run = at_return_type.call(
            quote!(#krate::__private::run_async),
            &quote_spanned!(body_span=> #guard, async move #block, #from_closure),
            names,
        );
        // At the return type too: the compiler reports what it has to say
        // about the awaited value (a return type that is not a `Result`,
        // an error type without `From<mysql_lock::Error>`) where it
        // reports the call's, and so only once.
        let await_ = quote_spanned!(at_return_type.last=> .await);
        quote!(#run #await_)
    } else {
        let mut block = Group::new(Delimiter::Brace, quote!(#items #stmts));
        block.set_span(body_span);
        at_return_type.call(
            quote!(#krate::__private::run),
            &quote_spanned!(body_span=> #guard, move || #block, #from),
            names,
        )
    }
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

    /// `tokens`, spanning the return type from its first token to its last.
    fn cover(&self, tokens: TokenStream) -> TokenStream {
        let mut tokens: Vec<TokenTree> = respan(tokens, self.first).into_iter().collect();
        if let Some(end) = tokens.last_mut() {
            end.set_span(self.last);
        }
        tokens.into_iter().collect()
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
        let function = self.cover(function);
        let returns = &names.returns;
        let mut returns_arg = Group::new(Delimiter::Parenthesis, quote_spanned!(last=> #returns));
        returns_arg.set_span(last);
        let mut args = Group::new(
            Delimiter::Parenthesis,
            quote_spanned!(first=> ::core::convert::identity #returns_arg, #rest),
        );
        args.set_span(last);
        quote!(#function #args)
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
    //! The expansion's structure, read back with syn: what runs where, not
    //! how it is spelled.

    use super::*;
    use syn::visit::Visit;
    use syn::{Block, Expr, ExprCall, ExprClosure, ExprMethodCall, Item, ItemFn, Stmt};

    fn expand(args: TokenStream, item: TokenStream) -> ItemFn {
        let out = mysql_lock(args, item);
        syn::parse2(out.clone()).unwrap_or_else(|error| panic!("{error}: {out}"))
    }

    /// The locks built in the expansion, outermost first: the name and
    /// the builder calls, as in `job.timeout.using`.
    fn locks(block: &Block) -> Vec<String> {
        #[derive(Default)]
        struct Builders(Vec<String>);
        impl Visit<'_> for Builders {
            fn visit_expr_method_call(&mut self, call: &ExprMethodCall) {
                let mut calls = vec![call.method.to_string()];
                let mut receiver = &*call.receiver;
                while let Expr::MethodCall(inner) = receiver {
                    calls.push(inner.method.to_string());
                    receiver = &inner.receiver;
                }
                match receiver {
                    Expr::Call(new) if is_call_of(new, "new") => {
                        let name = new.args.to_token_stream().to_string();
                        calls.push(name);
                        calls.reverse();
                        self.0.push(calls.join("."));
                    }
                    _ => syn::visit::visit_expr_method_call(self, call),
                }
            }
            fn visit_expr_call(&mut self, call: &ExprCall) {
                if is_call_of(call, "new") && call.args.len() == 1 {
                    if let Expr::Lit(lit) = &call.args[0] {
                        self.0.push(lit.to_token_stream().to_string());
                        return;
                    }
                }
                syn::visit::visit_expr_call(self, call);
            }
        }
        let mut builders = Builders::default();
        builders.visit_block(block);
        builders.0
    }

    fn is_call_of(call: &ExprCall, name: &str) -> bool {
        matches!(&*call.func, Expr::Path(path)
            if path.path.segments.last().is_some_and(|last| last.ident == name))
    }

    /// The closure that `run` is given: the body as the user wrote it.
    fn run_closure(stmts: &[Stmt]) -> Option<&ExprClosure> {
        let Some(Stmt::Expr(Expr::Call(run), None)) = stmts.last() else {
            return None;
        };
        if !is_call_of(run, "run") {
            return None;
        }
        run.args.iter().find_map(|arg| match arg {
            Expr::Closure(closure) => Some(closure),
            _ => None,
        })
    }

    fn closure_stmts(closure: &ExprClosure) -> &[Stmt] {
        assert!(closure.capture.is_some(), "a `move` closure");
        match &*closure.body {
            Expr::Block(block) => &block.block.stmts,
            other => panic!("{}", other.to_token_stream()),
        }
    }

    #[test]
    fn takes_the_lock_first_and_runs_items_and_statements_in_the_closure() {
        let item = quote! {
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
        };
        let written: ItemFn = syn::parse2(item.clone()).expect("a function");
        let out = expand(quote!(name = "job", timeout = 2), item);
        // The signature, attributes and visibility as written.
        assert_eq!(
            out.sig.to_token_stream().to_string(),
            written.sig.to_token_stream().to_string()
        );
        assert_eq!(out.attrs.len(), 2, "the doc and the inner attribute");
        assert!(out.attrs[0].path().is_ident("doc"));
        assert!(matches!(out.attrs[1].style, syn::AttrStyle::Inner(_)));
        assert!(matches!(out.vis, syn::Visibility::Restricted(_)));
        // Before the body: bindings of the expansion only, and the lock.
        let stmts = &out.block.stmts;
        assert!(stmts[..stmts.len() - 1]
            .iter()
            .all(|stmt| matches!(stmt, Stmt::Local(_))));
        assert_eq!(locks(&out.block), ["\"job\".timeout"]);
        // The items and statements, in order, in the closure.
        let body = closure_stmts(run_closure(stmts).expect("run"));
        let kinds: Vec<&str> = body
            .iter()
            .map(|stmt| match stmt {
                Stmt::Item(Item::Use(_)) => "use",
                Stmt::Item(Item::Const(_)) => "const",
                Stmt::Item(Item::Macro(_)) => "macro_rules",
                Stmt::Item(Item::Fn(_)) => "fn",
                Stmt::Macro(_) => "println",
                Stmt::Expr(_, None) => "tail",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            ["use", "const", "macro_rules", "println", "fn", "tail"]
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
            let stmts = &out.block.stmts;
            assert!(run_closure(stmts).is_none());
            assert_eq!(locks(&out.block), ["\"job\""]);
            let [.., Stmt::Expr(Expr::Try(_), Some(_)), Stmt::Expr(Expr::Call(ok), None)] =
                stmts.as_slice()
            else {
                panic!("{}", out.block.to_token_stream());
            };
            assert!(is_call_of(ok, "Ok"));
        }
    }

    #[test]
    fn a_bare_return_stays_in_the_function() {
        // So that the compiler names the return type it does not match.
        let out = expand(
            quote!(name = "job"),
            quote!(
                fn job(x: bool) -> Result<(), E> {
                    if x {
                        return;
                    }
                    Ok(())
                }
            ),
        );
        assert!(run_closure(&out.block.stmts).is_none());
        // A closure's own `return;` is no reason.
        let out = expand(
            quote!(name = "job"),
            quote!(
                fn job() -> Result<(), E> {
                    let f = || {
                        return;
                    };
                    f();
                    Ok(())
                }
            ),
        );
        assert!(run_closure(&out.block.stmts).is_some());
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
        assert_eq!(locks(&out.block), ["\"job\".wait_forever.using"]);
        // Every path to the runtime goes through the crate given.
        let text = out.block.to_token_stream().to_string();
        assert!(!text.contains("mysql_lock ::"), "{text}");
        assert!(text.contains("deps :: lock :: __private"), "{text}");
    }

    #[test]
    fn templates_skip_and_min_hold() {
        let out = expand(
            quote!(name = "invoice:{id}/{self.tenant}", min_hold = 1.5),
            quote!(
                fn settle(&self, id: u64) -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        // One static lock for the alias, timeout and minimum hold time...
        assert_eq!(
            locks(&out.block),
            ["\"invoice:{id}/{self.tenant}\".min_hold"]
        );
        // ...and a name formatted on each call, before the body.
        let text = out.block.to_token_stream().to_string();
        assert!(
            text.contains(
                "acquire (& __MYSQL_LOCK . with_name (:: std :: format ! (\"invoice:{}/{}\" \
                 , & id , & self . tenant)))"
            ),
            "{text}"
        );
        // Skipping: zero timeout unless given, `Ok(None)` when busy.
        let out = expand(
            quote!(name = "sync", if_busy = "skip"),
            quote!(
                fn sync() -> Result<Option<()>, E> {
                    Ok(Some(()))
                }
            ),
        );
        assert_eq!(locks(&out.block), ["\"sync\".timeout"]);
        let text = out.block.to_token_stream().to_string();
        assert!(text.contains("acquire_or_skip (& __MYSQL_LOCK)"), "{text}");
        assert!(
            text.contains(
                "return :: core :: result :: Result :: Ok (:: core :: option :: Option :: None)"
            ),
            "{text}"
        );
        // A placeholder naming no parameter: the function unexpanded.
        let out: syn::File = syn::parse2(mysql_lock(
            quote!(name = "invoice:{idd}"),
            quote!(
                fn settle(id: u64) -> Result<(), E> {
                    Ok(())
                }
            ),
        ))
        .expect("items");
        let [Item::Fn(func), Item::Macro(error)] = out.items.as_slice() else {
            panic!("the function and one error");
        };
        assert!(run_closure(&func.block.stmts).is_none());
        assert!(error
            .mac
            .tokens
            .to_string()
            .contains("did you mean `{id}`?"));
    }

    #[test]
    fn stacked_locks_are_taken_in_the_order_written() {
        let out = expand(
            quote!(name = "a"),
            quote!(
                #[inline]
                #[mysql_lock(name = "b", timeout = 0)]
                #[mysql_lock::mysql_lock(name = "c")]
                fn job() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        // The other attributes are consumed: they will not expand again.
        assert_eq!(out.attrs.len(), 1);
        assert!(out.attrs[0].path().is_ident("inline"));
        assert_eq!(locks(&out.block), ["\"a\"", "\"b\".timeout", "\"c\""]);
        // Each lock's closure takes the next one.
        let outer = closure_stmts(run_closure(&out.block.stmts).expect("a"));
        let middle = closure_stmts(run_closure(outer).expect("b"));
        let inner = closure_stmts(run_closure(middle).expect("c"));
        assert!(matches!(inner, [Stmt::Expr(Expr::Call(_), None)]));
    }

    #[test]
    fn a_stacked_attribute_in_error_is_reported_once() {
        let out: syn::File = syn::parse2(mysql_lock(
            quote!(name = "a"),
            quote!(
                #[mysql_lock(name = "")]
                fn job() -> Result<(), E> {
                    Ok(())
                }
            ),
        ))
        .expect("items");
        let [Item::Fn(func), Item::Macro(error)] = out.items.as_slice() else {
            panic!("not the function and one error");
        };
        // Consumed: it won't expand, and report, again.
        assert!(func.attrs.is_empty());
        assert!(error.mac.tokens.to_string().contains("must not be empty"));
    }

    /// The `async move` block that `run_async(..).await` is given, from
    /// the tail of `stmts`.
    fn run_async_block(stmts: &[Stmt]) -> Option<&Block> {
        let Some(Stmt::Expr(Expr::Await(awaited), None)) = stmts.last() else {
            return None;
        };
        let Expr::Call(run) = &*awaited.base else {
            return None;
        };
        if !is_call_of(run, "run_async") {
            return None;
        }
        run.args.iter().find_map(|arg| match arg {
            Expr::Async(block) => {
                assert!(block.capture.is_some(), "an `async move` block");
                Some(&block.block)
            }
            _ => None,
        })
    }

    /// `if let Some(never) = body_returns(returns) { return never; }`.
    fn is_typing_return(expr: &syn::ExprIf) -> bool {
        let Expr::Let(test) = &*expr.cond else {
            return false;
        };
        let Expr::Call(call) = &*test.expr else {
            return false;
        };
        is_call_of(call, "body_returns")
            && matches!(
                expr.then_branch.stmts.as_slice(),
                [Stmt::Expr(Expr::Return(_), _)]
            )
    }

    /// The calls awaited in `block`, outside nested async blocks: their
    /// paths' last segment (`acquire_async`, `run_async`).
    fn awaited(block: &Block) -> Vec<String> {
        #[derive(Default)]
        struct Awaits(Vec<String>);
        impl Visit<'_> for Awaits {
            fn visit_expr_await(&mut self, awaited: &syn::ExprAwait) {
                if let Expr::Call(call) = &*awaited.base {
                    if let Expr::Path(path) = &*call.func {
                        let last = path.path.segments.last().expect("a segment");
                        self.0.push(last.ident.to_string());
                    }
                }
                syn::visit::visit_expr_await(self, awaited);
            }
            fn visit_expr_async(&mut self, _: &syn::ExprAsync) {}
        }
        let mut awaits = Awaits::default();
        awaits.visit_block(block);
        awaits.0
    }

    #[test]
    fn async_fn_awaits_the_lock_then_runs_the_body_in_an_async_block() {
        let item = quote! {
            /// Docs.
            pub async fn job<T: Send>(&self, t: T) -> Result<T, E> where T: Clone {
                #![allow(unused)]
                use std::fmt;
                step().await?;
                Ok(t)
            }
        };
        let written: ItemFn = syn::parse2(item.clone()).expect("a function");
        let out = expand(quote!(name = "job", timeout = 2), item);
        assert_eq!(
            out.sig.to_token_stream().to_string(),
            written.sig.to_token_stream().to_string()
        );
        assert!(out.sig.asyncness.is_some());
        let stmts = &out.block.stmts;
        // First the check of the runtime's feature `async`, then bindings
        // of the expansion only.
        let Stmt::Expr(Expr::Call(require), Some(_)) = &stmts[0] else {
            panic!("{}", out.block.to_token_stream());
        };
        assert!(is_call_of(require, "require_async"));
        assert!(stmts[1..stmts.len() - 1]
            .iter()
            .all(|stmt| matches!(stmt, Stmt::Local(_))));
        assert_eq!(locks(&out.block), ["\"job\".timeout"]);
        // The lock is awaited, then the body's block given to `run_async`,
        // awaited as the function's tail; no closure, no blocking call.
        assert_eq!(awaited(&out.block), ["acquire_async", "run_async"]);
        assert!(run_closure(stmts).is_none());
        let text = out.block.to_token_stream().to_string();
        assert!(!text.contains(":: acquire ("), "{text}");
        assert!(!text.contains(":: run ("), "{text}");
        let body = run_async_block(stmts).expect("run_async");
        let kinds: Vec<&str> = body
            .stmts
            .iter()
            .map(|stmt| match stmt {
                Stmt::Item(Item::Use(_)) => "use",
                Stmt::Expr(Expr::If(typed), None) if is_typing_return(typed) => "typed",
                Stmt::Expr(Expr::Try(_), Some(_)) => "try",
                Stmt::Expr(_, None) => "tail",
                _ => "other",
            })
            .collect();
        // The items first, then the `return` that gives the block the
        // function's return type, then the statements.
        assert_eq!(kinds, ["use", "typed", "try", "tail"]);
    }

    #[test]
    fn async_fn_stacked_skip_and_templates() {
        let out = expand(
            quote!(name = "a:{id}"),
            quote!(
                #[mysql_lock(name = "b", if_busy = "skip")]
                #[track_caller]
                async fn job(id: u64) -> Result<Option<u64>, E> {
                    Ok(Some(id))
                }
            ),
        );
        assert_eq!(locks(&out.block), ["\"a:{id}\"", "\"b\".timeout"]);
        // The formatted name's lock is bound before the `.await`, so that
        // the future holds no formatting temporaries across it.
        let text = out.block.to_token_stream().to_string();
        assert!(
            text.contains(
                "let __mysql_lock_named = __MYSQL_LOCK . with_name (:: std :: format ! \
                 (\"a:{}\" , & id)) ;"
            ),
            "{text}"
        );
        assert!(
            text.contains("acquire_async (& __mysql_lock_named) . await"),
            "{text}"
        );
        // `#[track_caller]` does nothing on an async fn: the body still
        // runs in the async block of the first lock, which takes the
        // second, with `if_busy = "skip"`, and awaits it.
        let outer = run_async_block(&out.block.stmts).expect("a");
        assert_eq!(awaited(outer), ["acquire_or_skip_async", "run_async"]);
        let inner = run_async_block(&outer.stmts).expect("b");
        let [Stmt::Expr(Expr::If(typed), None), Stmt::Expr(Expr::Call(_), None)] =
            inner.stmts.as_slice()
        else {
            panic!("{}", inner.to_token_stream());
        };
        assert!(is_typing_return(typed));
    }

    #[test]
    fn async_fn_with_a_bare_return_keeps_its_statements() {
        let out = expand(
            quote!(name = "job"),
            quote!(
                async fn job(x: bool) -> Result<(), E> {
                    if x {
                        return;
                    }
                    Ok(())
                }
            ),
        );
        assert!(run_async_block(&out.block.stmts).is_none());
        assert_eq!(awaited(&out.block), ["acquire_async"]);
    }

    #[test]
    fn on_error_the_item_is_kept_as_written() {
        let item = quote!(
            async fn job() -> Result<(), E> {
                Ok(())
            }
        );
        let out: syn::File = syn::parse2(mysql_lock(quote!(timeout = -1), item)).expect("items");
        let [Item::Fn(func), errors @ ..] = out.items.as_slice() else {
            panic!("no function first");
        };
        assert!(func.sig.asyncness.is_some());
        assert!(run_closure(&func.block.stmts).is_none());
        assert!(run_async_block(&func.block.stmts).is_none());
        // No name, and a negative timeout.
        assert_eq!(errors.len(), 2);
        assert!(errors.iter().all(|item| matches!(item,
            Item::Macro(mac) if mac.mac.path.segments.last().is_some_and(|last| last.ident == "compile_error"))));

        let out: syn::File = syn::parse2(mysql_lock(
            quote!(name = "job"),
            quote!(
                struct Job;
            ),
        ))
        .expect("items");
        assert!(matches!(&out.items[0], Item::Struct(_)));
        let Item::Macro(error) = &out.items[1] else {
            panic!("no error");
        };
        assert!(error
            .mac
            .tokens
            .to_string()
            .contains("can only be applied to functions, not to a struct"));
    }
}
