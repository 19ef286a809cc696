use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job", timeout = 1)]
#[mysql_lock(name = "job", timeout = 2)]
fn job() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = job;
}
