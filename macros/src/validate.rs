//! What a function must be for `#[mysql_lock]`: run-time, Rust ABI, with
//! a body, returning something that can carry a lock error and no future
//! (an `async fn` is fine: its body is the future, run under the lock);
//! and what its arguments ask of it: placeholders naming its parameters,
//! an `Option` to return for `if_busy = "skip"`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{GenericArgument, PathArguments, ReturnType, Signature, Type, TypeParamBound};

use crate::args::Args;
use crate::errors::Errors;
use crate::item::LockedFn;
use crate::syntax::peel_type;
use crate::template;

const RETURN_RESULT: &str = "#[mysql_lock] functions must return a `Result` whose error type \
                             implements `From<mysql_lock::Error>`, so that failing to take the \
                             lock (a timeout, a lost connection) is returned as `Err`";

/// Every reason why `func` can't be locked, or `Ok`.
pub(crate) fn check(func: &LockedFn) -> syn::Result<()> {
    let mut errors = Errors::default();
    let sig = &func.sig;
    if let Some(token) = &sig.constness {
        errors.push(syn::Error::new(
            token.span,
            "#[mysql_lock] cannot be used on a `const fn`: taking the lock needs a database \
             at run time; remove `const`",
        ));
    }
    if let Some(abi) = &sig.abi {
        let is_rust = abi.name.as_ref().is_some_and(|name| name.value() == "Rust");
        if !is_rust {
            let message = format!(
                "#[mysql_lock] cannot be used on an `{}` function: its `Result` could not \
                 cross the foreign boundary; lock a Rust function and call it from the \
                 `extern` one",
                abi.to_token_stream(),
            );
            errors.push(syn::Error::new_spanned(abi, message));
        }
    }
    if func.body.is_none() {
        errors.push(syn::Error::new_spanned(
            sig,
            "#[mysql_lock] needs a function with a body, where it takes the lock; in a \
             trait, put it on a default body or on the implementations of this method",
        ));
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        if let Some(future) = future_in(ty) {
            let message = match sig.asyncness {
                Some(_) => ASYNC_RETURNS_FUTURE,
                None => RETURNS_FUTURE,
            };
            return errors.finish_with(Err(syn::Error::new_spanned(future, message)));
        }
    }
    errors.finish_with(check_return_type(sig))
}

/// What `args` ask of the function `sig`: every placeholder of the name
/// names a parameter; with `if_busy = "skip"`, a `Result` of an `Option`.
pub(crate) fn check_args(args: &Args, sig: &Signature) -> syn::Result<()> {
    let mut errors = Errors::default();
    if let Some(template) = &args.template {
        errors.take(template::check(template, &args.name_lit, sig));
    }
    if args.skip.is_some() {
        errors.take(check_skip_return_type(sig));
    }
    errors.finish()
}

const RETURNS_FUTURE: &str =
    "#[mysql_lock] can't lock a sync function that returns a future: the future runs when \
     it is awaited, after the function has returned and released the lock, so its work would \
     run unlocked. Write it as an `async fn` with the attribute instead \
     (`#[mysql_lock(name = \"..\")] async fn job() -> Result<T, E>`, with the feature `async` \
     of mysql-lock): the lock is then taken when the future first runs, and held until its \
     body is done";

const ASYNC_RETURNS_FUTURE: &str =
    "#[mysql_lock] can't lock an `async fn` whose value is another future: that future runs \
     when the caller awaits it, after the lock was released, so its work would run unlocked. \
     Await it in the body, and return its output";

/// The first future in a return type, also inside `Result<..>`,
/// `Pin<Box<..>>`, tuples and references: `impl Future`, `dyn Future` (any
/// path ending in `Future` or `IntoFuture`), `BoxFuture`,
/// `LocalBoxFuture`. Read from the syntax: a future behind a type alias
/// is not seen.
fn future_in(ty: &Type) -> Option<TokenStream> {
    /// `Future` or `IntoFuture`, bare or under `std`, `core` or `futures`:
    /// a domain trait of that name elsewhere is not the standard one.
    fn is_future_trait(path: &syn::Path) -> bool {
        let Some(last) = path.segments.last() else {
            return false;
        };
        let named = last.ident == "Future" || last.ident == "IntoFuture";
        let first = path.segments.first().map(|first| first.ident.to_string());
        named
            && (path.segments.len() == 1
                || matches!(first.as_deref(), Some("std" | "core" | "futures")))
    }
    fn in_bounds<'a>(
        ty: &Type,
        bounds: impl IntoIterator<Item = &'a TypeParamBound>,
    ) -> Option<TokenStream> {
        bounds.into_iter().find_map(|bound| match bound {
            TypeParamBound::Trait(bound) if is_future_trait(&bound.path) => {
                Some(ty.to_token_stream())
            }
            // An iterator of futures hands them over too.
            TypeParamBound::Trait(bound) => {
                let last = bound.path.segments.last()?;
                let iterates = ["Iterator", "IntoIterator", "DoubleEndedIterator"]
                    .iter()
                    .any(|name| last.ident == name);
                let PathArguments::AngleBracketed(args) = &last.arguments else {
                    return None;
                };
                args.args.iter().find_map(|arg| match arg {
                    GenericArgument::AssocType(assoc) if iterates && assoc.ident == "Item" => {
                        future_in(&assoc.ty)
                    }
                    _ => None,
                })
            }
            _ => None,
        })
    }
    /// Wrappers that hand what they hold to the caller: a future inside is
    /// the caller's to run. Other generic types (a channel's sender, a
    /// `PhantomData`) hold no work of this function.
    const HANDING_OVER: [&str; 8] = [
        "Result", "Option", "Pin", "Box", "Vec", "VecDeque", "Rc", "Arc",
    ];
    match peel_type(ty) {
        Type::ImplTrait(impl_trait) => in_bounds(ty, &impl_trait.bounds),
        Type::TraitObject(object) => in_bounds(ty, &object.bounds),
        Type::Path(path) => {
            let last = path.path.segments.last()?;
            if last.ident == "BoxFuture" || last.ident == "LocalBoxFuture" {
                return Some(ty.to_token_stream());
            }
            if !HANDING_OVER.iter().any(|wrapper| last.ident == wrapper) {
                return None;
            }
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            args.args.iter().find_map(|arg| match arg {
                GenericArgument::Type(ty) => future_in(ty),
                _ => None,
            })
        }
        Type::Reference(reference) => future_in(&reference.elem),
        Type::Array(array) => future_in(&array.elem),
        Type::Slice(slice) => future_in(&slice.elem),
        Type::Tuple(tuple) => tuple.elems.iter().find_map(future_in),
        _ => None,
    }
}

/// `if_busy = "skip"` returns `Ok(None)`: a `Result<X, ..>` whose `X` is
/// written and is not an `Option` can't hold it. Other return types (an
/// alias such as `JobResult`) are left to the type checker, which the
/// expansion asks for a `Result<Option<_>, _>` at the return type.
fn check_skip_return_type(sig: &Signature) -> syn::Result<()> {
    let ReturnType::Type(_, ty) = &sig.output else {
        // Reported by `check`.
        return Ok(());
    };
    let Type::Path(path) = peel_type(ty) else {
        return Ok(());
    };
    let Some(last) = path.path.segments.last() else {
        return Ok(());
    };
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return Ok(());
    };
    let Some(GenericArgument::Type(first)) = args.args.first() else {
        return Ok(());
    };
    // Only what is certainly not an `Option` is refused here (an alias or
    // an associated type may be one): the rest is the type checker's, at
    // the return type.
    let certainly_not_option = match peel_type(first) {
        Type::Tuple(_) | Type::Reference(_) | Type::Array(_) | Type::Slice(_) => true,
        Type::ImplTrait(_) | Type::TraitObject(_) | Type::Ptr(_) | Type::BareFn(_) => true,
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().is_some_and(|last| {
            [
                "String", "Vec", "HashMap", "HashSet", "BTreeMap", "BTreeSet", "Box", "Rc", "Arc",
                "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16",
                "i32", "i64", "i128", "isize", "f32", "f64", "Result",
            ]
            .iter()
            .any(|known| last.ident == known)
        }),
        _ => false,
    };
    if last.ident != "Result" || !certainly_not_option {
        return Ok(());
    }
    let mut suggestion = path.clone();
    if let Some(PathArguments::AngleBracketed(args)) = suggestion
        .path
        .segments
        .last_mut()
        .map(|last| &mut last.arguments)
    {
        if let Some(GenericArgument::Type(first)) = args.args.first_mut() {
            *first = syn::parse_quote!(Option<#first>);
        }
    }
    let message = format!(
        "`if_busy = \"skip\"` makes the function return `Ok(None)` when another holder has \
         the lock, so it must return `Result<Option<T>, E>`: write `-> {}`, and end the body \
         with `Ok(Some(..))`",
        pretty(&suggestion.to_token_stream())
    );
    Err(syn::Error::new_spanned(ty, message))
}

/// Tokens as a user would write them: `Result<Option<u32>, Error>`.
fn pretty(tokens: &TokenStream) -> String {
    let mut text = tokens.to_string();
    for (from, to) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        (" ::", "::"),
        (":: ", "::"),
        ("& ", "&"),
        ("' ", "'"),
        ("( )", "()"),
    ] {
        text = text.replace(from, to);
    }
    text
}

/// Rejects return types that can never be a `Result`. Everything else is
/// left to the type checker (a `Result` may hide behind an alias).
fn check_return_type(sig: &Signature) -> syn::Result<()> {
    let ty = match &sig.output {
        ReturnType::Default => {
            let message = format!(
                "{RETURN_RESULT}; this function returns `()`: write `-> Result<(), \
                 mysql_lock::Error>` (or your own error type) and end it with `Ok(())`"
            );
            return Err(syn::Error::new_spanned(sig, message));
        }
        ReturnType::Type(_, ty) => ty,
    };
    match peel_type(ty) {
        Type::Tuple(tuple) if tuple.elems.is_empty() => {
            let message = format!(
                "{RETURN_RESULT}; this function returns `()`: write `-> Result<(), \
                 mysql_lock::Error>` (or your own error type) and end it with `Ok(())`"
            );
            Err(syn::Error::new_spanned(ty, message))
        }
        Type::ImplTrait(_) => {
            let message = format!(
                "{RETURN_RESULT}, not `impl Trait`: write `-> Result<impl Trait, MyError>`"
            );
            Err(syn::Error::new_spanned(ty, message))
        }
        Type::Array(_)
        | Type::BareFn(_)
        | Type::Never(_)
        | Type::Ptr(_)
        | Type::Reference(_)
        | Type::Slice(_)
        | Type::TraitObject(_)
        | Type::Tuple(_) => {
            let message = format!("{RETURN_RESULT}; this return type is never a `Result`");
            Err(syn::Error::new_spanned(ty, message))
        }
        Type::Path(path) if path.qself.is_none() => match primitive(&path.path) {
            Some(name) => {
                let message = format!(
                    "{RETURN_RESULT}; this function returns `{name}`: write `-> Result<{name}, \
                     mysql_lock::Error>` (or your own error type) and return `Ok(..)`"
                );
                Err(syn::Error::new_spanned(ty, message))
            }
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The name of a primitive type written as one (`u32`, `bool`, `str`,
/// ...), which no `Result` hides behind (an alias named like a primitive
/// is never written, and rustc warns against it).
fn primitive(path: &syn::Path) -> Option<String> {
    const PRIMITIVES: [&str; 17] = [
        "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32",
        "i64", "i128", "isize", "f32", "f64",
    ];
    let ident = path.get_ident()?.to_string();
    PRIMITIVES.contains(&ident.as_str()).then_some(ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn future(ty: TokenStream) -> Option<String> {
        let ty: Type = syn::parse2(ty).expect("a type");
        future_in(&ty).map(|found| pretty(&found))
    }

    #[test]
    fn futures_in_return_types() {
        use quote::quote;
        for (ty, found) in [
            (quote!(impl Future<Output = ()>), "impl Future<Output = ()>"),
            (
                quote!(Result<impl std::future::Future<Output = u8>, E>),
                "impl std::future::Future<Output = u8>",
            ),
            (
                quote!(Pin<Box<dyn Future<Output = ()> + Send>>),
                "dyn Future<Output = ()> + Send",
            ),
            (
                quote!(anyhow::Result<BoxFuture<'static, u8>>),
                "BoxFuture<'static, u8>",
            ),
            (
                quote!(Result<(u8, LocalBoxFuture<'_, ()>), E>),
                "LocalBoxFuture<'_, ()>",
            ),
            (quote!(impl IntoFuture), "impl IntoFuture"),
            (
                quote!(Result<impl Iterator<Item = BoxFuture<'static, ()>>, E>),
                "BoxFuture<'static, ()>",
            ),
        ] {
            assert_eq!(future(ty.clone()).as_deref(), Some(found), "{ty}");
        }
        for ty in [
            quote!(Result<impl Iterator<Item = u8>, E>),
            quote!(Result<Futures, E>),
            quote!(Result<Box<dyn Fn() -> BoxFuture<'static, ()>>, E>),
            quote!(Result<FutureReport, E>),
            quote!(Result<Vec<Box<dyn market::Future>>, E>),
            quote!(Result<mpsc::Sender<BoxFuture<'static, ()>>, E>),
            quote!(Result<PhantomData<dyn Future<Output = ()>>, E>),
        ] {
            assert_eq!(future(ty.clone()), None, "{ty}");
        }
    }

    fn skip_error(sig: TokenStream) -> Option<String> {
        let sig: Signature = syn::parse2(sig).expect("a signature");
        check_skip_return_type(&sig).err().map(|e| e.to_string())
    }

    #[test]
    fn skipping_needs_an_option() {
        use quote::quote;
        assert_eq!(skip_error(quote!(fn f() -> Result<Option<u8>, E>)), None);
        assert_eq!(
            skip_error(quote!(fn f() -> anyhow::Result<Option<()>>)),
            None
        );
        assert_eq!(skip_error(quote!(fn f() -> std::option::Option<u8>)), None);
        // Left to the type checker: an alias or an associated type may be
        // an `Option`.
        assert_eq!(skip_error(quote!(fn f() -> Result<Maybe, E>)), None);
        assert_eq!(skip_error(quote!(fn f() -> Result<Self::Out, E>)), None);
        assert_eq!(skip_error(quote!(fn f() -> JobResult)), None);
        assert_eq!(skip_error(quote!(fn f() -> JobResult<u8>)), None);
        let message = skip_error(quote!(fn f() -> Result<(), Error>)).expect("an error");
        assert!(
            message.contains("write `-> Result<Option<()>, Error>`"),
            "{message}"
        );
        let message = skip_error(quote!(fn f() -> anyhow::Result<Vec<u8>>)).expect("an error");
        assert!(
            message.contains("write `-> anyhow::Result<Option<Vec<u8>>>`"),
            "{message}"
        );
    }
}
