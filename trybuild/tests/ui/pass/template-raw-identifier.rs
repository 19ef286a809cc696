// A parameter that is a keyword (`r#type`) is named `{type}` in a template.
#![allow(dead_code)]

use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "report:{type}:{pair.1}")]
fn report(r#type: &str, pair: (u8, u16)) -> Result<(), Error> {
    let _ = (r#type, pair);
    Ok(())
}

pub(crate) fn main() {
    let _ = report;
}
