use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job", crate = "lock_runtime")]
fn job() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "job", crate = "not a path")]
fn not_a_path() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = (job, not_a_path);
}
