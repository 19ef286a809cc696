//! The annotated item: a function whose body is kept as tokens.
//!
//! Only the signature is parsed. The body goes back to the compiler as the
//! tokens the user wrote, which is cheaper than parsing it and keeps every
//! token and span. It is only split in three: inner attributes, the items
//! that open it (checked to be items by parsing them), and the rest, so that
//! the lock can be taken after the items, where clippy's
//! `items_after_statements` has nothing to say.

use proc_macro2::TokenStream;
use proc_macro2::{Delimiter, Group};
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::{braced, token, Attribute, Item, Signature, Token, Visibility};

use crate::syntax::item_head;

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

/// The function as written (for an item emitted unexpanded).
impl ToTokens for LockedFn {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let LockedFn {
            attrs,
            vis,
            sig,
            body,
        } = self;
        tokens.extend(quote!(#(#attrs)* #vis #sig));
        match body {
            Some(Body {
                brace_token,
                inner_attrs,
                items,
                stmts,
            }) => {
                let mut block =
                    Group::new(Delimiter::Brace, quote!(#(#inner_attrs)* #items #stmts));
                block.set_span(brace_token.span.join());
                tokens.extend([block]);
            }
            None => tokens.extend(quote!(;)),
        }
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
    let (what, advice) = match &item {
        Item::Const(_) => ("a const", ""),
        Item::Enum(_) => ("an enum", ""),
        Item::ExternCrate(_) => ("an extern crate", ""),
        Item::ForeignMod(_) => ("an extern block", ""),
        Item::Impl(_) => (
            "an impl block",
            "; put it on each method that must hold the lock",
        ),
        Item::Macro(_) => ("a macro", ""),
        Item::Mod(_) => ("a module", ""),
        Item::Static(_) => ("a static", ""),
        Item::Struct(_) => ("a struct", ""),
        Item::Trait(_) => (
            "a trait",
            "; put it on a method that has a body, or on the methods of the implementations",
        ),
        Item::TraitAlias(_) => ("a trait alias", ""),
        Item::Type(_) => ("a type alias", ""),
        Item::Union(_) => ("a union", ""),
        Item::Use(_) => ("a use declaration", ""),
        _ => ("this item", ""),
    };
    syn::Error::new_spanned(item_head(&item), format!("{BASE}, not to {what}{advice}"))
}
