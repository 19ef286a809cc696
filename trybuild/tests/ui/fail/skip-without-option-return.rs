use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "sync", if_busy = "skip")]
fn sync() -> Result<u32, Error> {
    Ok(1)
}

#[mysql_lock(name = "report", if_busy = "skip")]
fn report() -> anyhow::Result<()> {
    Ok(())
}

type JobResult = Result<(), Error>;

#[mysql_lock(name = "aliased", if_busy = "skip")]
fn aliased() -> JobResult {
    Ok(())
}

fn main() {
    let _ = (sync, report, aliased);
}
