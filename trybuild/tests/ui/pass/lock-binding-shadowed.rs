// A binding of a `Lock` is followed as Rust scopes it: shadowed by another
// `let`, or only in its inner block; a `Lock` made elsewhere is unknown.
#![allow(dead_code, unused_variables, clippy::all)]

use mysql_lock::{mysql_lock, Error, Lock};

fn make() -> Lock {
    Lock::new("elsewhere")
}

#[mysql_lock(name = "x")]
fn job() -> Result<(), Error> {
    let lock = Lock::new("x");
    let lock = Lock::new("y").using("default");
    let _ = lock.try_acquire()?;
    {
        let lock = Lock::new("x");
        let _ = lock.is_held()?;
    }
    let _ = lock.try_acquire()?;
    let other = make();
    let _ = other.try_acquire()?;
    let lock = Lock::new("x").using("replica");
    let _ = lock.try_acquire()?;
    Ok(())
}

pub(crate) fn main() {
    let _ = job;
}
