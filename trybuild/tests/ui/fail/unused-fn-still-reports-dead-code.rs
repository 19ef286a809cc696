#![deny(dead_code)]

use mysql_lock::{mysql_lock, Error};

// The expansion must not hide the user's own lints: this is never called.
#[mysql_lock(name = "job")]
fn never_called() -> Result<(), Error> {
    Ok(())
}

fn main() {}
