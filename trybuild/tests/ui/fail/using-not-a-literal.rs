use mysql_lock::{mysql_lock, Error};

const REPLICA: &str = "replica";

#[mysql_lock(name = "job", using = REPLICA)]
fn job() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "job", using = 2)]
fn numbered() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = (job, numbered, REPLICA);
}
