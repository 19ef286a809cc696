//! `min_hold`: the number forms of `timeout`.

use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "min-hold-int", min_hold = 60)]
fn int() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "min-hold-float", min_hold = 0.5, timeout = 0)]
fn float() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "min-hold-zero", min_hold = 0, timeout = "forever")]
fn zero() -> Result<(), Error> {
    Ok(())
}

pub(crate) fn main() {
    let _ = (int, float, zero);
}
