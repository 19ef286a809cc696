use mysql_lock::{mysql_lock, Error};

#[mysql_lock(timeout = 2)]
fn job() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock]
fn bare() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = job;
    let _ = bare;
}
