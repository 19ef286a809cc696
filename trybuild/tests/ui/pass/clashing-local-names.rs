#![deny(warnings)]

use mysql_lock::{mysql_lock, Error};

// Locals and parameters named like the expansion's bindings.
#[mysql_lock(name = "locals")]
fn locals(guard: u32, error: u32) -> Result<u32, Error> {
    let __mysql_lock_guard = guard;
    let __mysql_lock_error = error;
    let __mysql_lock_acquired = __mysql_lock_guard + __mysql_lock_error;
    #[allow(non_snake_case)]
    let __MYSQL_LOCK = __mysql_lock_acquired;
    Ok(__MYSQL_LOCK)
}

pub(crate) fn main() {
    let _ = locals;
}
