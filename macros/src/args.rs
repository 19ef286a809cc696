//! The arguments of `#[mysql_lock(...)]`.
//!
//! Every argument is `key = value`, separated by commas. Each key has one
//! setter; every mistake is recorded and parsing goes on with the next
//! argument, so that one build reports all of them.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Ident, Lit, LitStr, Meta, Token, UnOp};

use crate::errors::Errors;
use crate::syntax::peel;
use crate::template::{self, Parsed, Template};

const KEYS: [&str; 6] = ["name", "timeout", "min_hold", "if_busy", "using", "crate"];
const KEY_LIST: &str = "`name`, `timeout`, `min_hold`, `if_busy`, `using` and `crate`";

/// Likely meanings of keys that are not ours, checked before spelling.
const SYNONYMS: [(&str, &str); 25] = [
    ("lock", "name"),
    ("lock_name", "name"),
    ("key", "name"),
    ("wait", "timeout"),
    ("timeout_secs", "timeout"),
    ("secs", "timeout"),
    ("seconds", "timeout"),
    ("alias", "using"),
    ("db", "using"),
    ("database", "using"),
    ("connection", "using"),
    ("krate", "crate"),
    ("crate_path", "crate"),
    ("path", "crate"),
    ("lock_at_least_for", "min_hold"),
    ("lock_at_least", "min_hold"),
    ("at_least", "min_hold"),
    ("hold_at_least", "min_hold"),
    ("min_hold_secs", "min_hold"),
    ("hold", "min_hold"),
    ("skip", "if_busy"),
    ("skip_if_busy", "if_busy"),
    ("on_busy", "if_busy"),
    ("when_busy", "if_busy"),
    ("busy", "if_busy"),
];

/// Validated arguments. A key the user left out is `None`: the expansion
/// then calls no builder method for it, and the runtime's default applies.
pub(crate) struct Args {
    /// The name, braces unescaped, when it has no placeholder; else the
    /// literal's text.
    pub(crate) name: String,
    /// The literal the name was written as, for errors about this lock.
    pub(crate) name_lit: LitStr,
    /// The name's placeholders, when it has any: it is then formatted on
    /// each call (see `template`).
    pub(crate) template: Option<Template>,
    pub(crate) timeout: Option<Timeout>,
    /// `min_hold = <seconds>`: finite, not negative, below
    /// [`mysql_lock_core::UNLIMITED_SECS`].
    pub(crate) min_hold: Option<f64>,
    /// `if_busy = "skip"`: a lock busy for the whole timeout makes the
    /// function return `Ok(None)`; the literal, for errors.
    pub(crate) skip: Option<LitStr>,
    pub(crate) using: Option<String>,
    /// The path of the runtime crate, `::mysql_lock` unless overridden.
    pub(crate) krate: syn::Path,
}

impl Args {
    /// The timeout the lock waits: the one given, else zero with
    /// `if_busy = "skip"`; `None` for the runtime's default.
    pub(crate) fn effective_timeout(&self) -> Option<Timeout> {
        match (self.timeout, &self.skip) {
            (None, Some(_)) => Some(Timeout::Seconds(0.0)),
            (timeout, _) => timeout,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Timeout {
    /// Finite, not negative, below [`MAX_TIMEOUT_SECS`].
    Seconds(f64),
    Forever,
}

/// Parses and validates the arguments; the error holds every mistake.
pub(crate) fn parse(args: TokenStream) -> syn::Result<Args> {
    parse_at(args, Span::call_site())
}

/// The arguments of another `#[mysql_lock(...)]` on the same function,
/// expanded with the first: a missing name is reported at `attr`.
pub(crate) fn parse_attr(attr: &Attribute) -> syn::Result<Args> {
    match &attr.meta {
        Meta::List(list) => parse_at(list.tokens.clone(), list.path.span()),
        Meta::Path(path) => parse_at(TokenStream::new(), path.span()),
        Meta::NameValue(meta) => Err(syn::Error::new_spanned(
            meta,
            "expected `#[mysql_lock(name = \"...\")]`, with the arguments in parentheses",
        )),
    }
}

/// [`parse`], reporting a missing name at `site`.
fn parse_at(args: TokenStream, site: Span) -> syn::Result<Args> {
    let mut config = Config::default();
    let mut errors = Errors::default();
    let parser = |input: ParseStream| {
        parse_each(input, &mut config, &mut errors);
        Ok(())
    };
    parser.parse2(args)?;
    config.build(errors, site)
}

fn parse_each(input: ParseStream, config: &mut Config, errors: &mut Errors) {
    while !input.is_empty() {
        let result = if input.peek(LitStr) {
            // `#[mysql_lock("job")]`: a name, written without its key.
            config.name_misspelled = true;
            positional_name(input)
        } else {
            parse_key(input).and_then(|key| config.set(&key, parse_value(input, &key)))
        };
        let result = result.and_then(|()| parse_separator(input));
        if let Err(error) = result {
            errors.push(error);
            skip_past_comma(input);
        }
    }
}

fn positional_name(input: ParseStream) -> syn::Result<()> {
    let lit: LitStr = input.parse()?;
    let message = format!("give the lock name as `name = {}`", lit.token());
    Err(syn::Error::new_spanned(lit, message))
}

fn parse_key(input: ParseStream) -> syn::Result<Ident> {
    input
        .call(Ident::parse_any)
        .map_err(|error| syn::Error::new(error.span(), format!("expected one of {KEY_LIST}")))
}

fn parse_value(input: ParseStream, key: &Ident) -> syn::Result<Expr> {
    if !input.peek(Token![=]) {
        let span = if input.is_empty() || input.peek(Token![,]) {
            key.span()
        } else {
            input.span()
        };
        let message = format!(
            "expected `=` after `{key}`, as in `{key} = {}`",
            example(key)
        );
        return Err(syn::Error::new(span, message));
    }
    let eq: Token![=] = input.parse()?;
    if input.is_empty() || input.peek(Token![,]) {
        let message = format!(
            "expected a value after `{key} =`, as in `{key} = {}`",
            example(key)
        );
        return Err(syn::Error::new(eq.span, message));
    }
    input.parse()
}

fn parse_separator(input: ParseStream) -> syn::Result<()> {
    if !input.is_empty() {
        input.parse::<Token![,]>()?;
    }
    Ok(())
}

/// Error recovery: drops the rest of a bad argument, up to and including
/// the next comma. Commas inside brackets are inside one token tree.
fn skip_past_comma(input: ParseStream) {
    let skipped = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            rest = next;
            if matches!(&tree, TokenTree::Punct(punct) if punct.as_char() == ',') {
                break;
            }
        }
        Ok(((), rest))
    });
    // `step` only fails when the closure does.
    debug_assert!(skipped.is_ok());
}

fn example(key: &Ident) -> &'static str {
    match key.unraw().to_string().as_str() {
        "name" => "\"nightly-report\"",
        "timeout" => "2",
        "min_hold" => "60",
        "if_busy" => "\"skip\"",
        "using" => "\"default\"",
        _ => "\"::mysql_lock\"",
    }
}

/// An argument that may be set at most once.
struct Setting<T> {
    seen: bool,
    /// `None` if not seen, or if its value was wrong (and reported).
    value: Option<T>,
}

impl<T> Default for Setting<T> {
    fn default() -> Self {
        Setting {
            seen: false,
            value: None,
        }
    }
}

impl<T> Setting<T> {
    /// The one place where a repeated key is caught: the value of the first
    /// occurrence counts, and a repeat is an error whatever its value.
    /// A key whose value is wrong counts as seen: its error is the only one.
    fn set(
        &mut self,
        key: &Ident,
        value: syn::Result<Expr>,
        parse: impl FnOnce(&Expr) -> syn::Result<T>,
    ) -> syn::Result<()> {
        if self.seen {
            let message = format!("`{key}` set multiple times; keep one");
            return Err(syn::Error::new(key.span(), message));
        }
        self.seen = true;
        self.value = Some(parse(&value?)?);
        Ok(())
    }
}

#[derive(Default)]
struct Config {
    name: Setting<(LitStr, Parsed)>,
    timeout: Setting<Timeout>,
    min_hold: Setting<f64>,
    skip: Setting<LitStr>,
    using: Setting<String>,
    krate: Setting<syn::Path>,
    /// A likely attempt at `name` was reported (a misspelled key, or a name
    /// without key), so a missing `name` is not reported again.
    name_misspelled: bool,
}

impl Config {
    /// `value` is the result of parsing what follows `key`.
    fn set(&mut self, key: &Ident, value: syn::Result<Expr>) -> syn::Result<()> {
        match key.unraw().to_string().as_str() {
            "name" => self.set_name(key, value),
            "timeout" => self.set_timeout(key, value),
            "min_hold" => self.min_hold.set(key, value, parse_min_hold),
            "if_busy" => self.skip.set(key, value, |value| parse_if_busy(key, value)),
            "using" => self.set_using(key, value),
            "crate" => self.set_crate(key, value),
            _ => {
                let (error, suggestion) = unknown_key(key);
                self.name_misspelled |= suggestion == Some("name");
                Err(error)
            }
        }
    }

    fn set_name(&mut self, key: &Ident, value: syn::Result<Expr>) -> syn::Result<()> {
        self.name.set(key, value, parse_name)
    }

    fn set_timeout(&mut self, key: &Ident, value: syn::Result<Expr>) -> syn::Result<()> {
        self.timeout.set(key, value, parse_timeout)
    }

    fn set_using(&mut self, key: &Ident, value: syn::Result<Expr>) -> syn::Result<()> {
        self.using.set(key, value, |value| parse_using(key, value))
    }

    fn set_crate(&mut self, key: &Ident, value: syn::Result<Expr>) -> syn::Result<()> {
        self.krate.set(key, value, |value| parse_crate(key, value))
    }

    fn build(self, mut errors: Errors, site: Span) -> syn::Result<Args> {
        if !self.name.seen && !self.name_misspelled {
            errors.push(missing_name(site));
        }
        if let (Some(skip), Some(Timeout::Forever)) = (&self.skip.value, self.timeout.value) {
            errors.push(syn::Error::new_spanned(
                skip,
                "`if_busy = \"skip\"` with `timeout = \"forever\"` would never skip: the wait \
                 never runs out; remove `timeout` to skip at once when the lock is busy, or \
                 give a number of seconds to wait before skipping",
            ));
        }
        errors.finish()?;
        // Only `None` when an error was recorded above.
        let (name_lit, parsed) = self.name.value.ok_or_else(|| missing_name(site))?;
        let (name, template) = match parsed {
            Parsed::Constant(name) => (name, None),
            Parsed::Template(template) => (name_lit.value(), Some(template)),
        };
        Ok(Args {
            name,
            name_lit,
            template,
            timeout: self.timeout.value,
            min_hold: self.min_hold.value,
            skip: self.skip.value,
            using: self.using.value,
            krate: self.krate.value.unwrap_or_else(default_crate_path),
        })
    }
}

fn missing_name(site: Span) -> syn::Error {
    syn::Error::new(
        site,
        "missing lock name: add `name = \"...\"`, as in \
         `#[mysql_lock(name = \"nightly-report\")]`",
    )
}

fn default_crate_path() -> syn::Path {
    let ident = Ident::new("mysql_lock", Span::call_site());
    syn::parse_quote!(::#ident)
}

/// The error for a key that is not ours, and the key it suggests.
fn unknown_key(key: &Ident) -> (syn::Error, Option<&'static str>) {
    let written = key.unraw().to_string();
    let suggestion = suggest(&written);
    let message = match suggestion {
        Some(key) => format!(
            "unknown argument `{written}`; did you mean `{key}`? The arguments are {KEY_LIST}"
        ),
        None => format!("unknown argument `{written}`; the arguments are {KEY_LIST}"),
    };
    (syn::Error::new(key.span(), message), suggestion)
}

/// The key a user most likely meant: a synonym, or the nearest key within a
/// third of its length (at least one edit).
fn suggest(written: &str) -> Option<&'static str> {
    let lower = written.to_ascii_lowercase();
    if let Some(&(_, key)) = SYNONYMS.iter().find(|(synonym, _)| *synonym == lower) {
        return Some(key);
    }
    KEYS.iter()
        .map(|&key| (edit_distance(&lower, key), key))
        .filter(|&(distance, key)| distance <= (key.len() / 3).max(1))
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, key)| key)
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and swaps of two neighbours each count one.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between the first i chars of a and first j of b.
    let mut rows: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

fn string_literal<'a>(key: &Ident, value: &'a Expr) -> syn::Result<&'a LitStr> {
    match peel(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit),
        other => {
            let found = match other {
                Expr::Lit(_) => "",
                _ => "; constants and expressions are not accepted here",
            };
            let message = format!(
                "`{key}` expects a string literal, as in `{key} = {}`{found}",
                example(key)
            );
            Err(syn::Error::new_spanned(other, message))
        }
    }
}

const NAME_FORMS: &str = "`name` expects a string literal, as in `name = \"nightly-report\"`, \
                          or a template naming the function's parameters, as in \
                          `name = \"invoice:{id}\"` (formatted with `Display` on each call)";

/// A name the runtime accepts (its checks, with its messages), or a
/// template whose fixed text it may accept.
fn parse_name(value: &Expr) -> syn::Result<(LitStr, Parsed)> {
    let lit = match peel(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => lit,
        Expr::Macro(mac) => return Err(name_macro(mac)),
        Expr::Lit(other) => return Err(syn::Error::new_spanned(other, NAME_FORMS)),
        other => {
            let message = format!("{NAME_FORMS}; constants and expressions are not accepted here");
            return Err(syn::Error::new_spanned(other, message));
        }
    };
    let parsed = template::parse(&lit.value()).map_err(|messages| {
        let mut errors = Errors::default();
        for message in messages {
            errors.push(syn::Error::new_spanned(lit, message));
        }
        match errors.finish() {
            Err(error) => error,
            Ok(()) => unreachable!("parse fails with a reason"),
        }
    })?;
    let fixed_text = match &parsed {
        Parsed::Constant(name) => mysql_lock_core::check_name(name),
        Parsed::Template(template) => template.check_fixed_text(),
    };
    match fixed_text {
        Ok(()) => Ok((lit.clone(), parsed)),
        Err(reason) => Err(syn::Error::new_spanned(lit, reason)),
    }
}

/// `name = format!("invoice:{}", id)` and other macros: the template
/// that does it, when it can be read off.
fn name_macro(mac: &syn::ExprMacro) -> syn::Error {
    let macro_name = mac
        .mac
        .path
        .segments
        .last()
        .map(|last| last.ident.to_string());
    let template = match macro_name.as_deref() {
        Some("format") => format_as_template(&mac.mac.tokens),
        Some("concat") => concatenated(&mac.mac.tokens),
        _ => None,
    };
    let advice = match template {
        Some(template) => format!("write `name = {template}`"),
        None => "as in `name = \"invoice:{id}\"`".to_owned(),
    };
    let message = format!(
        "`name` takes a string literal, not a macro call: the attribute formats the name \
         itself on each call, with `Display`, from placeholders naming the function's \
         parameters (or fields of `self`); {advice}"
    );
    syn::Error::new_spanned(mac, message)
}

/// `"invoice:{id}"` for the arguments of `format!("invoice:{}", id)` or
/// `format!("invoice:{id}")`, when each argument is a parameter or a field.
fn format_as_template(tokens: &TokenStream) -> Option<String> {
    let parser = syn::punctuated::Punctuated::<Expr, Token![,]>::parse_terminated;
    let args = parser.parse2(tokens.clone()).ok()?;
    let mut args = args.iter();
    let Expr::Lit(ExprLit {
        lit: Lit::Str(format),
        ..
    }) = args.next()?
    else {
        return None;
    };
    let format = format.value();
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push_str("{{");
            }
            '{' => {
                let mut inside = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    inside.push(c);
                }
                if inside.is_empty() {
                    out.push('{');
                    out.push_str(&field_path(args.next()?)?);
                    out.push('}');
                } else if inside.contains([':', '}']) || inside.bytes().all(|b| b.is_ascii_digit())
                {
                    return None;
                } else {
                    out.push('{');
                    out.push_str(&inside);
                    out.push('}');
                }
            }
            c => out.push(c),
        }
    }
    if args.next().is_some() {
        return None;
    }
    Some(format!("{out:?}"))
}

/// The literal `concat!` of string literals makes, braces escaped.
fn concatenated(tokens: &TokenStream) -> Option<String> {
    let parser = syn::punctuated::Punctuated::<LitStr, Token![,]>::parse_terminated;
    let parts = parser.parse2(tokens.clone()).ok()?;
    let text: String = parts.iter().map(LitStr::value).collect();
    Some(format!("{:?}", text.replace('{', "{{").replace('}', "}}")))
}

/// `id`, `self.tenant`, `order.0`, `&id`: as a placeholder's text.
fn field_path(expr: &Expr) -> Option<String> {
    match peel(expr) {
        Expr::Path(path) if path.qself.is_none() => Some(path.path.get_ident()?.to_string()),
        Expr::Field(field) => {
            let base = field_path(&field.base)?;
            let member = match &field.member {
                syn::Member::Named(ident) => ident.to_string(),
                syn::Member::Unnamed(index) => index.index.to_string(),
            };
            Some(format!("{base}.{member}"))
        }
        Expr::Reference(reference) => field_path(&reference.expr),
        _ => None,
    }
}

const IF_BUSY_FORMS: &str = "`if_busy` expects `\"skip\"`: the function then returns `Ok(None)` \
                             when another holder keeps the lock for the whole timeout (zero \
                             unless given); leave `if_busy` out to return \
                             `Err(mysql_lock::Error::Timeout { .. })` instead";

fn parse_if_busy(key: &Ident, value: &Expr) -> syn::Result<LitStr> {
    let lit = match peel(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => lit,
        Expr::Lit(_) => {
            let message = format!("{IF_BUSY_FORMS}; write `{key} = \"skip\"`");
            return Err(syn::Error::new_spanned(value, message));
        }
        other => {
            let message =
                format!("{IF_BUSY_FORMS}; constants and expressions are not accepted here");
            return Err(syn::Error::new_spanned(other, message));
        }
    };
    if lit.value() == "skip" {
        Ok(lit.clone())
    } else {
        let message = format!("{IF_BUSY_FORMS}; found {}", lit.token());
        Err(syn::Error::new_spanned(lit, message))
    }
}

fn parse_using(key: &Ident, value: &Expr) -> syn::Result<String> {
    let lit = string_literal(key, value)?;
    let alias = lit.value();
    if alias.is_empty() {
        return Err(syn::Error::new_spanned(
            lit,
            "`using` must not be empty: give the alias of a registered database, \
             or leave `using` out for the alias \"default\"",
        ));
    }
    Ok(alias)
}

fn parse_crate(key: &Ident, value: &Expr) -> syn::Result<syn::Path> {
    let lit = string_literal(key, value)?;
    lit.parse_with(syn::Path::parse_mod_style).map_err(|_| {
        syn::Error::new_spanned(
            lit,
            "`crate` expects the path of the mysql_lock crate, as in \
             `crate = \"::mysql_lock\"` or `crate = \"my_deps::mysql_lock\"`",
        )
    })
}

const TIMEOUT_FORMS: &str = "`timeout` expects a number of seconds, as in `timeout = 2` or \
                             `timeout = 0.5`, or `timeout = \"forever\"` to wait without limit";

const MIN_HOLD_FORMS: &str = "`min_hold` expects a number of seconds, as in `min_hold = 60` or \
                              `min_hold = 0.5`: the lock stays held at least that long from \
                              its acquisition, even when the function returns sooner";

/// The keys whose value is a number of seconds.
#[derive(Clone, Copy, PartialEq)]
enum SecondsKey {
    Timeout,
    MinHold,
}

impl SecondsKey {
    fn key(self) -> &'static str {
        match self {
            SecondsKey::Timeout => "timeout",
            SecondsKey::MinHold => "min_hold",
        }
    }

    fn forms(self) -> &'static str {
        match self {
            SecondsKey::Timeout => TIMEOUT_FORMS,
            SecondsKey::MinHold => MIN_HOLD_FORMS,
        }
    }

    fn negative(self) -> &'static str {
        match self {
            SecondsKey::Timeout => {
                "the timeout must not be negative: write `timeout = 0` to try once \
                 without waiting, or `timeout = \"forever\"` to wait without limit"
            }
            SecondsKey::MinHold => {
                "`min_hold` must not be negative: give the seconds the lock stays held at \
                 least, from its acquisition, as in `min_hold = 60`; leave it out to release \
                 the lock when the function returns"
            }
        }
    }

    fn forever(self) -> &'static str {
        match self {
            SecondsKey::Timeout => "to wait without limit, write `timeout = \"forever\"`",
            SecondsKey::MinHold => {
                "`min_hold` can't be \"forever\": the lock would never be released while the \
                 process lives; give a number of seconds, as in `min_hold = 3600`"
            }
        }
    }
}

fn parse_timeout(value: &Expr) -> syn::Result<Timeout> {
    parse_seconds(SecondsKey::Timeout, value)
}

fn parse_min_hold(value: &Expr) -> syn::Result<f64> {
    match parse_seconds(SecondsKey::MinHold, value)? {
        Timeout::Seconds(secs) => Ok(secs),
        // Only `timeout` accepts "forever".
        Timeout::Forever => Err(syn::Error::new_spanned(
            value,
            SecondsKey::MinHold.forever(),
        )),
    }
}

fn parse_seconds(key: SecondsKey, value: &Expr) -> syn::Result<Timeout> {
    match peel(value) {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Int(int) => seconds(key, lit, int.base10_digits(), int.suffix()),
            Lit::Float(float) => seconds(key, lit, float.base10_digits(), float.suffix()),
            Lit::Str(string) => seconds_from_string(key, string),
            _ => Err(syn::Error::new_spanned(lit, key.forms())),
        },
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) if matches!(
            peel(expr),
            Expr::Lit(ExprLit {
                lit: Lit::Int(_) | Lit::Float(_),
                ..
            })
        ) =>
        {
            Err(syn::Error::new_spanned(value, key.negative()))
        }
        other => Err(syn::Error::new_spanned(
            other,
            format!(
                "{}; constants and expressions are not accepted here",
                key.forms()
            ),
        )),
    }
}

/// Seconds from the digits of a number literal (in base 10, without `_`).
fn seconds(key: SecondsKey, lit: &Lit, digits: &str, suffix: &str) -> syn::Result<Timeout> {
    let error = |message: String| Err(syn::Error::new_spanned(lit, message));
    let forms = key.forms();
    let name = key.key();
    // An integer or float literal always has digits that parse; a huge one
    // parses as infinity, caught below.
    let Ok(secs) = digits.parse::<f64>() else {
        return error(forms.to_owned());
    };
    match suffix {
        "" | "f32" | "f64" | "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16"
        | "i32" | "i64" | "i128" | "isize" => {}
        "s" | "sec" | "secs" => {
            return error(format!(
                "`{name}` is a number of seconds, without unit: write `{name} = {digits}`"
            ));
        }
        "ms" => {
            return error(format!(
                "`{name}` is a number of seconds: write `{name} = {}` for {digits} ms",
                secs / 1000.0
            ));
        }
        other => {
            return error(format!("unexpected suffix `{other}`: {forms}"));
        }
    }
    if mysql_lock_core::is_unlimited(secs) {
        let lit = lit.to_token_stream();
        return error(match key {
            SecondsKey::Timeout => format!(
                "timeout `{lit}` is too long: from 100000000 seconds (about 3 years) on, \
                 the lock is awaited without limit; to mean that, write `timeout = \"forever\"`"
            ),
            SecondsKey::MinHold => format!(
                "min_hold `{lit}` is too long: it must stay under 100000000 seconds (about \
                 3 years)"
            ),
        });
    }
    Ok(Timeout::Seconds(secs))
}

fn seconds_from_string(key: SecondsKey, lit: &LitStr) -> syn::Result<Timeout> {
    let value = lit.value();
    let name = key.key();
    if value == "forever" && key == SecondsKey::Timeout {
        return Ok(Timeout::Forever);
    }
    let trimmed = value.trim();
    let message = if let Some(secs) = seconds_in_text(trimmed) {
        format!("`{name}` expects a number of seconds, not a string: write `{name} = {secs}`")
    } else if matches!(
        trimmed.to_ascii_lowercase().as_str(),
        "forever" | "infinite" | "infinity" | "inf" | "never" | "none" | "unlimited" | "max"
    ) {
        key.forever().to_owned()
    } else {
        format!("{}; found {}", key.forms(), lit.token())
    };
    Err(syn::Error::new_spanned(lit, message))
}

/// The seconds meant by text like `10`, `10s`, `1.5 secs` or `500ms`.
fn seconds_in_text(text: &str) -> Option<f64> {
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(text.len());
    let secs: f64 = text[..number_end].replace('_', "").parse().ok()?;
    let scale = match text[number_end..].trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "ms" | "millis" | "milliseconds" => 0.001,
        "min" | "mins" | "minute" | "minutes" => 60.0,
        _ => return None,
    };
    Some(secs * scale).filter(|secs| !mysql_lock_core::is_unlimited(*secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse_ok(tokens: TokenStream) -> Args {
        match parse(tokens) {
            Ok(args) => args,
            Err(error) => panic!("unexpected error: {error}"),
        }
    }

    fn messages(tokens: TokenStream) -> Vec<String> {
        match parse(tokens) {
            Ok(_) => panic!("expected an error"),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn defaults() {
        let args = parse_ok(quote!(name = "job"));
        assert_eq!(args.name, "job");
        assert_eq!(args.timeout, None);
        assert_eq!(args.using, None);
        assert_eq!(args.krate.to_token_stream().to_string(), ":: mysql_lock");
    }

    #[test]
    fn every_argument() {
        let args = parse_ok(quote!(
            name = "job",
            timeout = 0.5,
            using = "other",
            crate = "deps::lock",
        ));
        assert_eq!(args.timeout, Some(Timeout::Seconds(0.5)));
        assert_eq!(args.using.as_deref(), Some("other"));
        assert_eq!(args.krate.to_token_stream().to_string(), "deps :: lock");
    }

    #[test]
    fn timeouts() {
        for (tokens, expected) in [
            (quote!(timeout = 0), Timeout::Seconds(0.0)),
            (quote!(timeout = 2), Timeout::Seconds(2.0)),
            (quote!(timeout = 1_5e-1), Timeout::Seconds(1.5)),
            (quote!(timeout = 0x10), Timeout::Seconds(16.0)),
            (quote!(timeout = 3f64), Timeout::Seconds(3.0)),
            (quote!(timeout = "forever"), Timeout::Forever),
            (quote!(timeout = 99999999.9), Timeout::Seconds(99_999_999.9)),
        ] {
            let timeout = parse_ok(quote!(name = "j", #tokens)).timeout;
            assert_eq!(timeout, Some(expected), "{tokens}");
        }
    }

    #[test]
    fn bad_timeouts() {
        for (tokens, expected) in [
            (quote!(timeout = -1), "must not be negative"),
            (quote!(timeout = -0.5), "must not be negative"),
            (quote!(timeout = 1e400), "too long"),
            (quote!(timeout = 100000000), "too long"),
            (quote!(timeout = "10"), "write `timeout = 10`"),
            (quote!(timeout = "10s"), "write `timeout = 10`"),
            (quote!(timeout = "250 ms"), "write `timeout = 0.25`"),
            (quote!(timeout = "2min"), "write `timeout = 120`"),
            (quote!(timeout = "1e3"), "found \"1e3\""),
            (quote!(timeout = "Forever"), "write `timeout = \"forever\"`"),
            (quote!(timeout = "soon"), "found \"soon\""),
            (quote!(timeout = 500ms), "write `timeout = 0.5` for 500 ms"),
            (quote!(timeout = 2s), "write `timeout = 2`"),
            (quote!(timeout = f64::NAN), "constants and expressions"),
            (quote!(timeout = true), "expects a number of seconds"),
        ] {
            let all = messages(quote!(name = "j", #tokens));
            assert_eq!(all.len(), 1, "{all:?}");
            assert!(all[0].contains(expected), "{tokens}: {}", all[0]);
        }
    }

    #[test]
    fn every_mistake_is_reported() {
        let all = messages(quote!(
            nmae = "x",
            timeout = -1,
            using = "",
            timeout = 1,
            crate = 3
        ));
        // No "missing lock name" on top of the suggestion to spell it right.
        assert_eq!(all.len(), 5, "{all:?}");
        assert!(all[0].contains("unknown argument `nmae`; did you mean `name`?"));
        assert!(all[1].contains("negative"));
        assert!(all[2].contains("`using` must not be empty"));
        assert!(all[3].contains("`timeout` set multiple times"));
        assert!(all[4].contains("`crate` expects a string literal"));
        // `name` was never set: reported too, last.
        let all = messages(quote!(timeout = 1));
        assert_eq!(all.len(), 1);
        assert!(all[0].starts_with("missing lock name"));
    }

    #[test]
    fn syntax_errors_recover_at_the_next_comma() {
        let all = messages(quote!(name "x", timeout = (1, 2), using = "a" "b", "job"));
        // No "missing lock name" after the name without key.
        assert_eq!(all.len(), 4, "{all:?}");
        assert!(all[0].contains("expected `=` after `name`"));
        assert!(all[1].contains("expects a number of seconds"));
        assert!(all[2].contains("expected `,`"));
        assert!(all[3].contains("give the lock name as `name = \"job\"`"));
    }

    #[test]
    fn names() {
        assert_eq!(parse_ok(quote!(name = r"a\b")).name, "a\\b");
        assert_eq!(parse_ok(quote!(r#name = "x")).name, "x");
        assert!(messages(quote!(name = ""))[0].contains("must not be empty"));
        assert!(messages(quote!(name = "a\0b"))[0].contains("NUL"));
        let long = "x".repeat(mysql_lock_core::MAX_NAME_BYTES + 1);
        assert!(messages(quote!(name = #long))[0].contains("at most MAX_NAME_BYTES"));
        let longest = "x".repeat(mysql_lock_core::MAX_NAME_BYTES);
        assert_eq!(parse_ok(quote!(name = #longest)).name, longest);
        assert!(messages(quote!(name = NAME))[0].contains("constants and expressions"));
        assert!(messages(quote!(name = 1))[0].contains("expects a string literal"));
    }

    #[test]
    fn templates_min_hold_and_skip() {
        let args = parse_ok(quote!(
            name = "invoice:{id}",
            min_hold = 1.5,
            if_busy = "skip"
        ));
        assert!(args.template.is_some());
        assert_eq!(args.name, "invoice:{id}");
        assert_eq!(args.min_hold, Some(1.5));
        assert!(args.skip.is_some());
        assert_eq!(args.effective_timeout(), Some(Timeout::Seconds(0.0)));
        let args = parse_ok(quote!(name = "a{{b}}", if_busy = "skip", timeout = 2));
        assert!(args.template.is_none());
        assert_eq!(args.name, "a{b}");
        assert_eq!(args.effective_timeout(), Some(Timeout::Seconds(2.0)));
        for (tokens, expected) in [
            (quote!(name = "a\0{id}"), "NUL"),
            (quote!(name = "{id"), "unclosed `{id`"),
            (
                quote!(name = format!("inv:{}-{}", self.t, &id)),
                "write `name = \"inv:{self.t}-{id}\"`",
            ),
            (
                quote!(name = format!("inv:{id}")),
                "write `name = \"inv:{id}\"`",
            ),
            (
                quote!(name = format!("inv:{}", id + 1)),
                "as in `name = \"invoice:{id}\"`",
            ),
            (
                quote!(name = concat!("a", "{b}")),
                "write `name = \"a{{b}}\"`",
            ),
            (quote!(min_hold = "forever"), "can't be \"forever\""),
            (quote!(min_hold = -1), "`min_hold` must not be negative"),
            (quote!(min_hold = 1e9), "min_hold `1e9` is too long"),
            (quote!(min_hold = "60s"), "write `min_hold = 60`"),
            (quote!(min_hold = 2s), "write `min_hold = 2`"),
            (quote!(if_busy = "wait"), "found \"wait\""),
            (quote!(if_busy = skip), "constants and expressions"),
            (
                quote!(if_busy = "skip", timeout = "forever"),
                "would never skip",
            ),
        ] {
            let sets_name = tokens.to_string().starts_with("name");
            let all = if sets_name {
                messages(tokens.clone())
            } else {
                messages(quote!(name = "j", #tokens))
            };
            assert_eq!(all.len(), 1, "{tokens}: {all:?}");
            assert!(all[0].contains(expected), "{tokens}: {}", all[0]);
        }
        let long = format!("{{id}}{}", "x".repeat(mysql_lock_core::MAX_NAME_BYTES + 1));
        assert!(messages(quote!(name = #long))[0].contains("at most MAX_NAME_BYTES"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("timout"), Some("timeout"));
        assert_eq!(suggest("nmae"), Some("name"));
        assert_eq!(suggest("Name"), Some("name"));
        assert_eq!(suggest("usign"), Some("using"));
        assert_eq!(suggest("alias"), Some("using"));
        assert_eq!(suggest("krate"), Some("crate"));
        assert_eq!(suggest("retries"), None);
        assert_eq!(suggest("x"), None);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("ab", "ba"), 1);
    }
}
