use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job")]
async fn job() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = job;
}
