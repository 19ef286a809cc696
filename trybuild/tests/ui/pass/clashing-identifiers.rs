#![deny(warnings)]

use mysql_lock::{mysql_lock, Error};

// Names the expansion uses, taken by the user at every level: a static or
// const in scope would break a pattern binding of the same name.
static __MYSQL_LOCK: u8 = 0;
#[allow(non_upper_case_globals)]
static guard: u8 = 1;
#[allow(non_upper_case_globals)]
const error: u8 = 2;

mod core {}

#[mysql_lock(name = "clash")]
fn clash(first: u32, second: u32) -> Result<u32, Error> {
    static __MYSQL_LOCK: u32 = 2;
    use std::fmt as __mysql_lock_private;
    struct Result;
    mod core {}
    let __mysql_lock_guard = first + second;
    let _: Option<&dyn __mysql_lock_private::Debug> = None;
    let _ = Result;
    Ok(__mysql_lock_guard + __MYSQL_LOCK)
}

#[mysql_lock(name = "outer")]
#[mysql_lock(name = "inner", timeout = 0)]
fn stacked() -> Result<(), Error> {
    Ok(())
}

pub(crate) fn main() {
    let _ = clash;
    let _ = stacked;
    let _ = (__MYSQL_LOCK, guard, error);
}
