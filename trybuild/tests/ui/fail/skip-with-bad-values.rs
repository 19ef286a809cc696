use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "forever", if_busy = "skip", timeout = "forever")]
fn forever() -> Result<Option<()>, Error> {
    Ok(Some(()))
}

#[mysql_lock(name = "wait", if_busy = "wait")]
fn wait() -> Result<Option<()>, Error> {
    Ok(Some(()))
}

#[mysql_lock(name = "bool", skip = true)]
fn boolean() -> Result<Option<()>, Error> {
    Ok(Some(()))
}

fn main() {
    let _ = (forever, wait, boolean);
}
