use mysql_lock::{mysql_lock, Error};

const NAME: &str = "job";

#[mysql_lock(name = NAME)]
fn job() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = 42)]
fn number() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = (job, number, NAME);
}
