use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = format!("invoice:{}", id))]
fn settle(id: u64) -> Result<(), Error> {
    let _ = id;
    Ok(())
}

#[mysql_lock(name = concat!("job-", "a"))]
fn job() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = (settle, job);
}
