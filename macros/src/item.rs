//! The annotated item: a function whose body is kept as tokens.
//!
//! Only the signature is parsed. The body goes back to the compiler as the
//! tokens the user wrote, which is cheaper than parsing it and keeps every
//! token and span. It is only split in three: inner attributes, the items
//! that open it (checked to be items by parsing them), and the rest, so that
//! the lock can be taken after the items, where clippy's
//! `items_after_statements` has nothing to say.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::{braced, token, Attribute, Item, Signature, Token, Visibility};

/// A function (free, method, or trait method), as written.
pub(crate) struct LockedFn {
    /// Outer attributes, doc comments included.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    /// `None` for a declaration without body (`fn f();`).
    pub(crate) body: Option<Body>,
}

pub(crate) struct Body {
    pub(crate) brace_token: token::Brace,
    /// `#![...]` attributes, which must stay first in the block.
    pub(crate) inner_attrs: Vec<Attribute>,
    /// The items before the first statement (`use`, `const`, `fn`, ...):
    /// they run nothing, so the lock taken after them is still taken first.
    pub(crate) items: TokenStream,
    /// Everything after those items.
    pub(crate) stmts: TokenStream,
}

impl Parse for LockedFn {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let body = if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
            None
        } else {
            let content;
            let brace_token = braced!(content in input);
            let inner_attrs = content.call(Attribute::parse_inner)?;
            let items = leading_items(&content)?;
            let stmts = content.parse()?;
            Some(Body {
                brace_token,
                inner_attrs,
                items,
                stmts,
            })
        };
        Ok(LockedFn {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// Takes the tokens of the items at the start of a block, unchanged.
fn leading_items(content: ParseStream) -> syn::Result<TokenStream> {
    let mut items = TokenStream::new();
    loop {
        let fork = content.fork();
        let is_item = match fork.parse::<Item>() {
            // A macro call may be an expression; `macro_rules!` is an item.
            Ok(Item::Macro(item)) => item.ident.is_some(),
            Ok(Item::Verbatim(_)) | Err(_) => false,
            Ok(_) => true,
        };
        if !is_item {
            return Ok(items);
        }
        content.step(|cursor| {
            let mut rest = *cursor;
            while rest != fork.cursor() {
                let Some((tree, next)) = rest.token_tree() else {
                    break;
                };
                items.extend([tree]);
                rest = next;
            }
            Ok(((), rest))
        })?;
    }
}

/// The error for an item that is not a function, spanned at its head
/// (`struct Config`, `const LIMIT`, `impl Worker`, ...).
pub(crate) fn not_a_function(item: TokenStream) -> syn::Error {
    const BASE: &str = "#[mysql_lock] can only be applied to functions";
    let Ok(item) = syn::parse2::<Item>(item.clone()) else {
        return syn::Error::new_spanned(item, format!("{BASE}, with a body"));
    };
    let (what, at): (&str, TokenStream) = match &item {
        Item::Const(i) => ("a const", head(&i.const_token, &i.ident)),
        Item::Enum(i) => ("an enum", head(&i.enum_token, &i.ident)),
        Item::ExternCrate(i) => ("an extern crate", i.to_token_stream()),
        Item::ForeignMod(i) => ("an extern block", i.abi.to_token_stream()),
        Item::Impl(i) => {
            let message = format!(
                "{BASE}, not to an impl block; put it on each method that must hold the lock"
            );
            return syn::Error::new_spanned(head(&i.impl_token, &i.self_ty), message);
        }
        Item::Macro(i) => ("a macro", i.mac.path.to_token_stream()),
        Item::Mod(i) => ("a module", head(&i.mod_token, &i.ident)),
        Item::Static(i) => ("a static", head(&i.static_token, &i.ident)),
        Item::Struct(i) => ("a struct", head(&i.struct_token, &i.ident)),
        Item::Trait(i) => {
            let message = format!(
                "{BASE}, not to a trait; put it on a method that has a body, or on the \
                 methods of the implementations"
            );
            return syn::Error::new_spanned(head(&i.trait_token, &i.ident), message);
        }
        Item::TraitAlias(i) => ("a trait alias", head(&i.trait_token, &i.ident)),
        Item::Type(i) => ("a type alias", head(&i.type_token, &i.ident)),
        Item::Union(i) => ("a union", head(&i.union_token, &i.ident)),
        Item::Use(i) => ("a use declaration", i.to_token_stream()),
        _ => ("this item", item.to_token_stream()),
    };
    syn::Error::new_spanned(at, format!("{BASE}, not to {what}"))
}

/// The tokens from `first` to `last`, for spanning an error over both.
fn head(first: &impl ToTokens, last: &impl ToTokens) -> TokenStream {
    quote!(#first #last)
}
