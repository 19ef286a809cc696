use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job")]
fn job(skip: bool) -> Result<(), Error> {
    if skip {
        return;
    }
    // A closure's own `return;` is fine.
    let check = || {
        return;
    };
    check();
    Ok(())
}

fn main() {
    let _ = job;
}
