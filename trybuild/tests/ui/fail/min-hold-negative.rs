use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job", min_hold = -60)]
fn job() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "units", min_hold = 500ms)]
fn units() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = (job, units);
}
