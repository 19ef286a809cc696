//! `if_busy = "skip"`: the function returns `Ok(None)` when the lock is
//! busy, and its body returns `Ok(Some(..))` itself.

use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "hourly-sync", if_busy = "skip")]
fn hourly_sync() -> Result<Option<u32>, Error> {
    Ok(Some(42))
}

#[mysql_lock(name = "nightly", if_busy = "skip", timeout = 5, min_hold = 600)]
fn nightly() -> anyhow::Result<Option<()>> {
    Ok(Some(()))
}

#[mysql_lock(name = "tenant-sync:{tenant}", if_busy = "skip")]
fn tenant_sync(tenant: &str) -> Result<Option<String>, Error> {
    if tenant.is_empty() {
        // The body may skip too.
        return Ok(None);
    }
    Ok(Some(tenant.to_owned()))
}

type JobResult<T> = Result<Option<T>, Error>;

// An alias is checked by the type checker.
#[mysql_lock(name = "aliased", if_busy = "skip")]
fn aliased() -> JobResult<u8> {
    Ok(Some(1))
}

pub(crate) fn main() {
    let _ = hourly_sync;
    let _ = nightly;
    let _ = tenant_sync;
    let _ = aliased;
}
