use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job", timeout = "soon")]
fn job() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "quoted", timeout = "10s")]
fn quoted() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "infinite", timeout = "infinite")]
fn infinite() -> Result<(), Error> {
    Ok(())
}

fn main() {
    let _ = (job, quoted, infinite);
}
