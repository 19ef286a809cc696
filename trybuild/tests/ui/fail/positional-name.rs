use mysql_lock::{mysql_lock, Error};

#[mysql_lock("job")]
fn job() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = job;
}
