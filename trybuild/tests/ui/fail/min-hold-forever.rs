use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job", min_hold = "forever")]
fn job() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = job;
}
