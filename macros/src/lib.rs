//! The `#[mysql_lock]` attribute. Use it through the `mysql-lock` crate,
//! which re-exports it: `use mysql_lock::mysql_lock;`.

use proc_macro::TokenStream;

/// Placeholder until the attribute is implemented: passes the item through.
#[proc_macro_attribute]
pub fn mysql_lock(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
