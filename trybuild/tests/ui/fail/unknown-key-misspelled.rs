use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job", timout = 2)]
fn job() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "job", retries = 3)]
fn unknown() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = (job, unknown);
}
