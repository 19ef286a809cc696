use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job", timeout = f64::NAN)]
fn job() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = job;
}
