//! Lock names built from the function's arguments: `name = "invoice:{id}"`.
//!
//! A placeholder names a parameter bound to a plain identifier (`id`, `mut
//! id`), or `self`, followed by fields (`{self.tenant}`, `{order.id}`,
//! `{pair.0}`); `{{` and `}}` are literal braces, as in `format!`. Each
//! call formats the name with `Display` before its body runs, so no
//! argument has been moved yet, and takes the lock of that name.
//!
//! A template is checked in two steps: its syntax when the arguments are
//! parsed ([`parse`], which needs no signature, so that the nesting checks
//! can read any attribute), its placeholders against the function's
//! parameters when the function is expanded ([`check`]). Sub-spans of a
//! literal are not available on stable Rust, so errors point at the whole
//! literal and quote the placeholder.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::{FnArg, Ident, Index, LitStr, Pat, Signature};

use crate::args::edit_distance;

/// A name with at least one placeholder.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Template {
    pub(crate) pieces: Vec<Piece>,
}

impl Template {
    /// Refuses at compile time what makes every name of the template
    /// invalid: a NUL byte in its fixed text, or fixed text longer than
    /// any name may be. (An empty name needs every argument empty: that,
    /// like a long argument, is the runtime's `Error::InvalidName`.)
    pub(crate) fn check_fixed_text(&self) -> Result<(), &'static str> {
        let fixed: String = self
            .pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Text(text) => Some(text.as_str()),
                Piece::Arg(_) => None,
            })
            .collect();
        if fixed.is_empty() {
            Ok(())
        } else {
            mysql_lock_core::check_name(&fixed)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Piece {
    Text(String),
    Arg(Placeholder),
}

/// `{root.member.member}`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Placeholder {
    /// A parameter's name, or `self`.
    pub(crate) root: String,
    /// Field names or tuple indices.
    pub(crate) members: Vec<String>,
}

impl Placeholder {
    /// As written, braces included: `{self.tenant}`.
    pub(crate) fn written(&self) -> String {
        let mut text = format!("{{{}", self.root);
        for member in &self.members {
            text.push('.');
            text.push_str(member);
        }
        text.push('}');
        text
    }
}

/// What a `name` literal is: a constant name (braces unescaped), or a
/// template.
#[derive(Debug, PartialEq)]
pub(crate) enum Parsed {
    Constant(String),
    Template(Template),
}

/// The syntax of `text`; each mistake is a sentence for an error at the
/// literal.
pub(crate) fn parse(text: &str) -> Result<Parsed, Vec<String>> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut errors = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                current.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                current.push('}');
            }
            '{' => {
                let mut inside = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    inside.push(c);
                }
                if !closed {
                    errors.push(format!(
                        "unclosed `{{{inside}` in the lock name: close the placeholder with \
                         `}}`, or write `{{{{` for a literal `{{`"
                    ));
                    break;
                }
                match placeholder(&inside) {
                    Ok(arg) => {
                        if !current.is_empty() {
                            pieces.push(Piece::Text(std::mem::take(&mut current)));
                        }
                        pieces.push(Piece::Arg(arg));
                    }
                    Err(error) => errors.push(error),
                }
            }
            '}' => errors
                .push("unmatched `}` in the lock name: write `}}` for a literal `}`".to_owned()),
            c => current.push(c),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if pieces.is_empty() {
        return Ok(Parsed::Constant(current));
    }
    if !current.is_empty() {
        pieces.push(Piece::Text(current));
    }
    Ok(Parsed::Template(Template { pieces }))
}

const PLACEHOLDER_FORMS: &str = "a placeholder names a parameter of the function, as in \
                                 `{id}`, or a field of one or of `self`, as in \
                                 `{self.tenant}`; write `{{` and `}}` for literal braces";

/// The inside of `{...}`.
fn placeholder(inside: &str) -> Result<Placeholder, String> {
    if inside.trim().is_empty() {
        return Err(format!(
            "`{{{inside}}}` in the lock name names no argument: {PLACEHOLDER_FORMS}"
        ));
    }
    if let Some((arg, spec)) = inside.split_once(':') {
        return Err(format!(
            "`{{{inside}}}` in the lock name: format specs (`:{spec}`) are not supported; \
             arguments are formatted with `Display`: write `{{{arg}}}`"
        ));
    }
    let mut parts = inside.split('.');
    let root = parts.next().unwrap_or_default();
    let members: Vec<String> = parts.map(str::to_owned).collect();
    let root_ok = is_ident(root);
    let members_ok = members.iter().all(|m| is_ident(m) || is_tuple_index(m));
    if root_ok && members_ok {
        return Ok(Placeholder {
            root: root.to_owned(),
            members,
        });
    }
    if root.bytes().all(|b| b.is_ascii_digit()) && members.is_empty() {
        return Err(format!(
            "`{{{inside}}}` in the lock name: positional placeholders are not supported; \
             {PLACEHOLDER_FORMS}"
        ));
    }
    Err(format!(
        "`{{{inside}}}` in the lock name is not a parameter or a field: {PLACEHOLDER_FORMS}"
    ))
}

/// `0`, `1`, `12`: not `01`, which `format!` refuses too.
fn is_tuple_index(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

fn is_ident(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
        && text != "_"
}

/// The parameters a placeholder may name: `self` and those bound to an
/// identifier, with the token naming each.
fn parameters(sig: &Signature) -> Vec<(String, Span)> {
    sig.inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Receiver(receiver) => Some(("self".to_owned(), receiver.self_token.span)),
            FnArg::Typed(typed) => match &*typed.pat {
                // `r#type` is named `{type}` in a placeholder.
                Pat::Ident(pat) if pat.subpat.is_none() => {
                    Some((pat.ident.unraw().to_string(), pat.ident.span()))
                }
                _ => None,
            },
        })
        .collect()
}

/// Every placeholder of `template` names a parameter of `sig`; each one
/// that doesn't is an error at `lit`.
pub(crate) fn check(template: &Template, lit: &LitStr, sig: &Signature) -> syn::Result<()> {
    let params = parameters(sig);
    let mut result: Option<syn::Error> = None;
    for piece in &template.pieces {
        let Piece::Arg(arg) = piece else { continue };
        if params.iter().any(|(name, _)| *name == arg.root) {
            continue;
        }
        let message = unknown(arg, &params, sig);
        let error = syn::Error::new_spanned(lit, message);
        match &mut result {
            Some(all) => all.combine(error),
            None => result = Some(error),
        }
    }
    result.map_or(Ok(()), Err)
}

fn unknown(arg: &Placeholder, params: &[(String, Span)], sig: &Signature) -> String {
    let written = arg.written();
    let function = &sig.ident;
    if arg.root == "self" {
        return format!(
            "unknown placeholder `{written}` in the lock name: `{function}` has no `self` \
             parameter; a placeholder names a parameter of the function"
        );
    }
    let names: Vec<&str> = params
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| *name != "self")
        .collect();
    let nearest = names
        .iter()
        .map(|name| (edit_distance(&arg.root, name), *name))
        .filter(|&(distance, name)| distance <= (name.len() / 3).max(1))
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, name)| name);
    let mut message = format!(
        "unknown placeholder `{written}` in the lock name: `{function}` has no parameter \
         `{}`",
        arg.root
    );
    if let Some(name) = nearest {
        message.push_str(&format!("; did you mean `{{{name}}}`?"));
    }
    let has_self = params.iter().any(|(name, _)| name == "self");
    match (names.as_slice(), has_self) {
        ([], false) => message.push_str("; it has no parameters to name"),
        ([], true) => message.push_str("; it has only `self`, whose fields are `{self.field}`"),
        (names, _) => {
            let list: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
            message.push_str(&format!(
                "; placeholders name its parameters: {}",
                list.join(", ")
            ));
            if has_self {
                message.push_str(", and fields of `self` as `{self.field}`");
            }
        }
    }
    message.push_str(" (write `{{` and `}}` for literal braces)");
    message
}

/// `::std::format!("invoice:{}", &id)`: the name of one call. The
/// arguments are the function's own parameters (their tokens' hygiene,
/// located at the literal, so that an argument without `Display` is
/// reported there); the rest has the expansion's.
///
/// Only called after [`check`] passed.
pub(crate) fn format_call(template: &Template, lit: &LitStr, sig: &Signature) -> TokenStream {
    let site = Span::mixed_site();
    let at = lit.span();
    let params = parameters(sig);
    let mut format = String::new();
    let mut args = Vec::new();
    for piece in &template.pieces {
        match piece {
            Piece::Text(text) => format.push_str(&text.replace('{', "{{").replace('}', "}}")),
            Piece::Arg(arg) => {
                format.push_str("{}");
                let hygiene = params
                    .iter()
                    .find(|(name, _)| *name == arg.root)
                    .map_or(at, |(_, span)| *span);
                let span = hygiene.located_at(at);
                let root = if arg.root == "self" {
                    quote_spanned!(span=> self)
                } else {
                    // A keyword (a parameter written `r#type`) is a raw
                    // identifier in code.
                    let ident = syn::parse_str::<Ident>(&arg.root).map_or_else(
                        |_| Ident::new_raw(&arg.root, span),
                        |_| Ident::new(&arg.root, span),
                    );
                    quote!(#ident)
                };
                let members = arg.members.iter().map(|member| {
                    if let Ok(index) = member.parse::<u32>() {
                        let index = Index { index, span: at };
                        quote_spanned!(at=> .#index)
                    } else {
                        let ident = Ident::new(member, at);
                        quote_spanned!(at=> .#ident)
                    }
                });
                args.push(quote_spanned!(at=> &#root #(#members)*));
            }
        }
    }
    let format = LitStr::new(&format, site);
    quote_spanned!(site=> ::std::format!(#format #(, #args)*))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(root: &str, members: &[&str]) -> Piece {
        Piece::Arg(Placeholder {
            root: root.to_owned(),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
        })
    }

    fn text(text: &str) -> Piece {
        Piece::Text(text.to_owned())
    }

    #[test]
    fn constants_and_templates() {
        assert_eq!(parse("job"), Ok(Parsed::Constant("job".to_owned())));
        assert_eq!(parse("a{{b}}c"), Ok(Parsed::Constant("a{b}c".to_owned())));
        assert_eq!(parse(""), Ok(Parsed::Constant(String::new())));
        let Ok(Parsed::Template(template)) = parse("invoice:{id}/{self.tenant.0}{{x}}") else {
            panic!("a template");
        };
        assert_eq!(
            template.pieces,
            [
                text("invoice:"),
                arg("id", &[]),
                text("/"),
                arg("self", &["tenant", "0"]),
                text("{x}"),
            ]
        );
        assert!(matches!(parse("{id}"), Ok(Parsed::Template(t)) if t.pieces == [arg("id", &[])]));
        assert!(matches!(parse("{é}"), Ok(Parsed::Template(_))));
    }

    #[test]
    fn syntax_errors() {
        for (text, expected) in [
            ("a{id", "unclosed `{id`"),
            ("a}b", "unmatched `}`"),
            ("{}", "`{}` in the lock name names no argument"),
            ("{ }", "names no argument"),
            ("{0}", "positional placeholders are not supported"),
            ("{id:?}", "format specs (`:?`) are not supported"),
            ("{id:>5}", "write `{id}`"),
            ("{a-b}", "is not a parameter or a field"),
            ("{a.}", "is not a parameter or a field"),
            ("{_}", "is not a parameter or a field"),
            ("{self.x()}", "is not a parameter or a field"),
        ] {
            let errors = parse(text).expect_err(text);
            assert_eq!(errors.len(), 1, "{text}: {errors:?}");
            assert!(errors[0].contains(expected), "{text}: {}", errors[0]);
        }
        assert_eq!(parse("{}{0}}").expect_err("three").len(), 3);
    }

    fn check_messages(name: &str, sig: Signature) -> Vec<String> {
        let Ok(Parsed::Template(template)) = parse(name) else {
            panic!("a template");
        };
        let lit = LitStr::new(name, Span::call_site());
        match check(&template, &lit, &sig) {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn placeholders_name_parameters() {
        let sig: Signature =
            syn::parse_quote!(fn settle(&self, id: u64, mut account: String, (a, b): (u8, u8)));
        assert!(check_messages("{id}:{account}:{self.tenant}:{self}", sig.clone()).is_empty());
        let all = check_messages("{idd}:{a}", sig);
        assert_eq!(all.len(), 2, "{all:?}");
        assert!(all[0].starts_with(
            "unknown placeholder `{idd}` in the lock name: `settle` has no parameter `idd`; \
             did you mean `{id}`?; placeholders name its parameters: `id`, `account`, and \
             fields of `self` as `{self.field}`"
        ));
        assert!(!all[1].contains("did you mean"), "{}", all[1]);
        let all = check_messages("{self.x}", syn::parse_quote!(fn free(id: u64)));
        assert!(all[0].contains("`free` has no `self` parameter"), "{all:?}");
        let all = check_messages("{id}", syn::parse_quote!(fn none()));
        assert!(all[0].contains("it has no parameters to name"), "{all:?}");
    }

    #[test]
    fn the_format_call() {
        let sig: Signature = syn::parse_quote!(fn f(&self, id: u64));
        let Ok(Parsed::Template(template)) = parse("a{{{id}}}:{self.t.0}") else {
            panic!("a template");
        };
        let lit = LitStr::new("", Span::call_site());
        let call = format_call(&template, &lit, &sig).to_string();
        assert_eq!(
            call,
            ":: std :: format ! (\"a{{{}}}:{}\" , & id , & self . t . 0)"
        );
    }
}
