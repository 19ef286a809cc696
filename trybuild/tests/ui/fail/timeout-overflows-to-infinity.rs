use mysql_lock::{mysql_lock, Error};

// 1e400 is beyond f64: it would be infinity.
#[mysql_lock(name = "job", timeout = 1e400)]
fn job() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = job;
}
