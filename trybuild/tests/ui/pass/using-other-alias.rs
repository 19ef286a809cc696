use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "reports", using = "analytics")]
fn on_analytics() -> Result<(), Error> {
    Ok(())
}

pub(crate) fn main() {
    let _ = on_analytics;
}
