//! Small questions about syn's syntax trees, asked in several places:
//! the expression or type behind parentheses and invisible groups, the
//! attributes of a statement, the head of an item for errors.

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::{Attribute, Expr, Item, Meta, Type};

/// The expression inside parentheses and the invisible groups of
/// `macro_rules!` fragments.
pub(crate) fn peel(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => peel(&group.expr),
        Expr::Paren(paren) => peel(&paren.expr),
        other => other,
    }
}

/// The type inside parentheses and invisible groups.
pub(crate) fn peel_type(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => peel_type(&group.elem),
        Type::Paren(paren) => peel_type(&paren.elem),
        other => other,
    }
}

/// `Worker` for `Worker`, `Worker<T>` or `self::Worker`.
pub(crate) fn type_name(ty: &Type) -> Option<String> {
    match peel_type(ty) {
        Type::Path(path) if path.qself.is_none() => {
            Some(path.path.segments.last()?.ident.to_string())
        }
        _ => None,
    }
}

/// The names of the segments of `path` (`Worker::<u8>::run` is
/// `["Worker", "run"]`).
pub(crate) fn segment_names(path: &syn::Path) -> Vec<String> {
    path.segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect()
}

/// Whether `expr` is `self`.
pub(crate) fn is_self(expr: &Expr) -> bool {
    matches!(peel(expr), Expr::Path(path) if path.qself.is_none() && path.path.is_ident("self"))
}

/// Whether the item or code carrying `attrs` may be compiled out: by a
/// `#[cfg(..)]`, or a `#[cfg_attr(.., cfg(..))]`. Other `cfg_attr`s only
/// add attributes (`#[cfg_attr(feature = "otel", tracing::instrument)]`).
pub(crate) fn has_cfg(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        if attr.path().is_ident("cfg") {
            return true;
        }
        let Meta::List(list) = &attr.meta else {
            return false;
        };
        list.path.is_ident("cfg_attr") && names_cfg(list.tokens.clone())
    })
}

/// Whether the attributes of a `cfg_attr` (after its predicate) hold a
/// `cfg`, also in a nested `cfg_attr`.
fn names_cfg(tokens: TokenStream) -> bool {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut attrs = trees.split(|tree| matches!(tree, TokenTree::Punct(p) if p.as_char() == ','));
    attrs.next(); // the predicate
    attrs.any(|attr| match attr {
        [TokenTree::Ident(ident), ..] if ident == "cfg" => true,
        [TokenTree::Ident(ident), TokenTree::Group(group), ..] if ident == "cfg_attr" => {
            names_cfg(group.stream())
        }
        _ => false,
    })
}

/// The outer attributes of an item.
pub(crate) fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// The outer attributes of an expression.
pub(crate) fn expr_attrs(expr: &Expr) -> &[Attribute] {
    match expr {
        Expr::Array(e) => &e.attrs,
        Expr::Assign(e) => &e.attrs,
        Expr::Async(e) => &e.attrs,
        Expr::Await(e) => &e.attrs,
        Expr::Binary(e) => &e.attrs,
        Expr::Block(e) => &e.attrs,
        Expr::Break(e) => &e.attrs,
        Expr::Call(e) => &e.attrs,
        Expr::Cast(e) => &e.attrs,
        Expr::Closure(e) => &e.attrs,
        Expr::Const(e) => &e.attrs,
        Expr::Continue(e) => &e.attrs,
        Expr::Field(e) => &e.attrs,
        Expr::ForLoop(e) => &e.attrs,
        Expr::Group(e) => &e.attrs,
        Expr::If(e) => &e.attrs,
        Expr::Index(e) => &e.attrs,
        Expr::Let(e) => &e.attrs,
        Expr::Lit(e) => &e.attrs,
        Expr::Loop(e) => &e.attrs,
        Expr::Macro(e) => &e.attrs,
        Expr::Match(e) => &e.attrs,
        Expr::MethodCall(e) => &e.attrs,
        Expr::Paren(e) => &e.attrs,
        Expr::Path(e) => &e.attrs,
        Expr::Range(e) => &e.attrs,
        Expr::Reference(e) => &e.attrs,
        Expr::Repeat(e) => &e.attrs,
        Expr::Return(e) => &e.attrs,
        Expr::Struct(e) => &e.attrs,
        Expr::Try(e) => &e.attrs,
        Expr::TryBlock(e) => &e.attrs,
        Expr::Tuple(e) => &e.attrs,
        Expr::Unary(e) => &e.attrs,
        Expr::Unsafe(e) => &e.attrs,
        Expr::While(e) => &e.attrs,
        Expr::Yield(e) => &e.attrs,
        _ => &[],
    }
}

/// The first tokens of an item, up to its name (`struct Config`,
/// `impl Worker`, `fn job`), for errors about the item as a whole.
pub(crate) fn item_head(item: &Item) -> TokenStream {
    fn span(first: &impl ToTokens, last: &impl ToTokens) -> TokenStream {
        quote!(#first #last)
    }
    match item {
        Item::Const(i) => span(&i.const_token, &i.ident),
        Item::Enum(i) => span(&i.enum_token, &i.ident),
        Item::ForeignMod(i) => i.abi.to_token_stream(),
        Item::Fn(i) => span(&i.sig.fn_token, &i.sig.ident),
        Item::Impl(i) => span(&i.impl_token, &i.self_ty),
        Item::Macro(i) => i.mac.path.to_token_stream(),
        Item::Mod(i) => span(&i.mod_token, &i.ident),
        Item::Static(i) => span(&i.static_token, &i.ident),
        Item::Struct(i) => span(&i.struct_token, &i.ident),
        Item::Trait(i) => span(&i.trait_token, &i.ident),
        Item::TraitAlias(i) => span(&i.trait_token, &i.ident),
        Item::Type(i) => span(&i.type_token, &i.ident),
        Item::Union(i) => span(&i.union_token, &i.ident),
        // `extern crate`, `use`, and anything else: short enough whole.
        other => other.to_token_stream(),
    }
}
