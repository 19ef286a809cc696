//! The expansion: the function as written, with one statement added
//! before the first statement of its body (after the items that open it):
//!
//! ```text
//! let __mysql_lock_guard = {
//!     use ::mysql_lock::__private as __mysql_lock_private;
//!     static __MYSQL_LOCK: LazyLock<Lock> = LazyLock::new(|| lock(name, timeout, using));
//!     match acquire(&__MYSQL_LOCK) {
//!         Ok(guard) => guard,
//!         Err(error) => return Err(From::from(identity(error))), // at the return type
//!     }
//! };
//! ```
//!
//! The guard is the first local of the body, so it is dropped last, after
//! the user's locals, on every way out: the end, `return`, `?` or a panic.

use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ReturnType;

use crate::args::{self, Args, Timeout};
use crate::errors::Errors;
use crate::item::{self, Body, LockedFn};
use crate::validate;

/// `#[mysql_lock(args)] item`. On any mistake: the item unchanged, so the
/// rest of the crate still type-checks, followed by every error.
pub(crate) fn mysql_lock(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = errors.take(args::parse(args));
    let func = if let Ok(func) = syn::parse2::<LockedFn>(item.clone()) {
        errors.take(validate::check(&func));
        Some(func)
    } else {
        errors.push(item::not_a_function(item.clone()));
        None
    };
    match (errors.finish(), args, func) {
        (Ok(()), Some(args), Some(func)) => gen_function(&args, func),
        (result, ..) => {
            let mut tokens = item;
            if let Err(error) = result {
                tokens.extend(error.into_compile_error());
            }
            tokens
        }
    }
}

/// The function with the lock taken before the first statement of its
/// body. The statements stay in the block they were written in, so that
/// items, labels, `return` and `?` in them mean what they meant.
fn gen_function(args: &Args, func: LockedFn) -> TokenStream {
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
    let take_lock = gen_take_lock(args, &sig.output);
    let mut block = Group::new(
        Delimiter::Brace,
        quote!(#(#inner_attrs)* #items #take_lock #stmts),
    );
    block.set_span(brace_token.span.join());
    quote!(#(#attrs)* #vis #sig #block)
}

/// `let guard = { static LOCK ...; acquire or return Err };`
///
/// Every name is introduced with `Span::mixed_site()`, so the user's code
/// can't see the local variables. Item names are not hygienic: the `use`
/// and the `static` live in an inner block, where they shadow the user's
/// items instead of clashing with them; and every pattern binding is
/// prefixed, as a binding named like a static or const in scope is an
/// error. The static names no generic parameter, so one lock serves every
/// instantiation of a generic function.
fn gen_take_lock(args: &Args, output: &ReturnType) -> TokenStream {
    let site = Span::mixed_site();
    let guard = Ident::new("__mysql_lock_guard", site);
    let private = Ident::new("__mysql_lock_private", site);
    let lock = Ident::new("__MYSQL_LOCK", site);
    let acquired = Ident::new("__mysql_lock_acquired", site);
    let error = Ident::new("__mysql_lock_error", site);

    let krate = &args.krate;
    let name = Literal::string(&args.name);
    let using = Literal::string(&args.using);
    let timeout = match args.timeout {
        Timeout::Seconds(secs) => {
            let secs = Literal::f64_suffixed(secs);
            quote_spanned!(site=> ::core::option::Option::Some(#secs))
        }
        Timeout::Forever => quote_spanned!(site=> ::core::option::Option::None),
    };
    let return_error = gen_return_error(output, &error);

    quote_spanned! {site=>
        let #guard = {
            use #krate::__private as #private;
            static #lock: #private::LazyLock<#private::Lock> =
                #private::LazyLock::new(|| #private::lock(#name, #timeout, #using));
            match #private::acquire(&#lock) {
                ::core::result::Result::Ok(#acquired) => #acquired,
                ::core::result::Result::Err(#error) => #return_error,
            }
        };
    }
}

/// `return Err(From::from(error))`, located at the return type: when that
/// type is no `Result`, or its error type has no `From<mysql_lock::Error>`,
/// the one error the compiler reports underlines the return type.
///
/// The spans keep the expansion's hygiene (so lints treat the code as the
/// macro's, not the user's) with the location of the return type: the
/// first tokens at its first token, the closing ones at its last token, so
/// that the compiler's expression spans cover the whole type.
fn gen_return_error(output: &ReturnType, error: &Ident) -> TokenStream {
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
    let first = Span::mixed_site().located_at(first);
    let last = Span::mixed_site().located_at(last);

    // `identity(error)`, not just `error`: an argument of several tokens,
    // so that a missing `From` impl underlines the whole return type.
    let mut error_arg = Group::new(Delimiter::Parenthesis, error.to_token_stream());
    error_arg.set_span(last);
    let mut from_arg = Group::new(
        Delimiter::Parenthesis,
        quote_spanned!(first=> ::core::convert::identity #error_arg),
    );
    from_arg.set_span(last);
    let from = Ident::new("from", last);
    let mut err_arg = Group::new(
        Delimiter::Parenthesis,
        quote_spanned!(first=> ::core::convert::From::#from #from_arg),
    );
    err_arg.set_span(last);
    quote_spanned!(first=> return ::core::result::Result::Err #err_arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(args: TokenStream, item: TokenStream) -> String {
        mysql_lock(args, item).to_string()
    }

    #[test]
    fn takes_the_lock_after_leading_items_and_keeps_the_rest() {
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
             Result < T , E > where T : Send { # ! [allow (unused)] use std :: fmt ;"
            ),
            "{out}"
        );
        assert!(head.contains("const LIMIT : u8 = 1 ;"), "{out}");
        assert!(head.contains("macro_rules ! twice"), "{out}");
        assert!(
            tail.contains("use :: mysql_lock :: __private as __mysql_lock_private ;"),
            "{out}"
        );
        assert!(tail.contains(
            "__mysql_lock_private :: lock (\"job\" , :: core :: option :: Option :: Some (2f64) , \"default\")"
        ), "{out}");
        assert!(
            tail.contains(
                "return :: core :: result :: Result :: Err (:: core :: convert :: From :: from \
             (:: core :: convert :: identity (__mysql_lock_error)))"
            ),
            "{out}"
        );
        assert!(
            tail.ends_with("println ! (\"first statement\") ; fn after () { } Ok (t) }"),
            "{out}"
        );
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
            out.contains("lock (\"job\" , :: core :: option :: Option :: None , \"other\")"),
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
