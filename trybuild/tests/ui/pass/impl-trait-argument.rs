use mysql_lock::{mysql_lock, Error};
use std::fmt::Display;

#[mysql_lock(name = "sum")]
fn sum(values: impl IntoIterator<Item = u32>) -> Result<u32, Error> {
    Ok(values.into_iter().sum())
}

#[mysql_lock(name = "describe")]
fn describe(value: impl Display, also: &dyn Display) -> Result<impl Display, Error> {
    Ok(format!("{value} {also}"))
}

pub(crate) fn main() {
    let _: fn(Vec<u32>) -> Result<u32, Error> = sum;
    let _: fn(u8, &dyn Display) -> _ = describe;
}
