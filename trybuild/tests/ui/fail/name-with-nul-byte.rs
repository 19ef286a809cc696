use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "a\0b")]
fn job() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = job;
}
