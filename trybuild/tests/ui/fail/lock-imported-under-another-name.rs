// The library's `Lock` counts under any name the macro sees it imported
// as, and through the `crate = ".."` path.
use mysql_lock::{mysql_lock, Error};

mod deps {
    pub use mysql_lock as locking;
}

#[mysql_lock(name = "nightly")]
fn nightly() -> Result<(), Error> {
    use mysql_lock::Lock as MysqlLock;
    let _guard = MysqlLock::new("nightly").acquire()?;
    Ok(())
}

#[mysql_lock(name = "weekly", crate = "deps::locking")]
fn weekly() -> Result<(), Error> {
    let _guard = deps::locking::Lock::new("weekly").acquire()?;
    Ok(())
}

fn main() {
    let _ = nightly;
    let _ = weekly;
}
