//! What a function must be for `#[mysql_lock]`: sync, run-time, Rust ABI,
//! with a body, and returning something that can carry a lock error.

use quote::ToTokens;
use syn::{ReturnType, Signature, Type};

use crate::errors::Errors;
use crate::item::LockedFn;
use crate::syntax::peel_type;

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
    if let Some(token) = &sig.asyncness {
        errors.push(syn::Error::new(
            token.span,
            "async fn is not supported yet by #[mysql_lock]: taking the lock blocks the \
             thread, and the lock belongs to the thread that took it; put the attribute on \
             a sync function and call it through `tokio::task::spawn_blocking` or similar",
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
    errors.finish_with(check_return_type(sig))
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
