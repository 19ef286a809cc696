use mysql_lock::{mysql_lock, Error};

#[mysql_lock(nmae = "job", timeout = -1, using = "", timeout = 2, retries = 3)]
async fn job() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = job;
}
