// `if_busy = "skip"` and names with placeholders on async functions.
use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "hourly-sync", if_busy = "skip")]
async fn hourly_sync() -> Result<Option<u32>, Error> {
    Ok(Some(42))
}

#[mysql_lock(name = "nightly", if_busy = "skip", timeout = 5, min_hold = 600)]
async fn nightly() -> anyhow::Result<Option<()>> {
    Ok(Some(()))
}

type JobResult<T> = Result<Option<T>, Error>;

#[mysql_lock(name = "aliased", if_busy = "skip")]
async fn aliased() -> JobResult<u8> {
    Ok(Some(1))
}

struct Order {
    id: u64,
}

// Parameters, fields of parameters and of `self`, a tuple index: formatted
// before the body, which may then move them.
#[mysql_lock(name = "tenant-sync:{tenant}:{order.id}:{pair.0}", if_busy = "skip")]
async fn tenant_sync(
    tenant: String,
    order: Order,
    pair: (u8, String),
) -> Result<Option<String>, Error> {
    if tenant.is_empty() {
        return Ok(None);
    }
    let moved = tenant;
    Ok(Some(format!("{moved}{}{}", order.id, pair.1)))
}

struct Ledger {
    tenant: String,
}

impl Ledger {
    #[mysql_lock(name = "invoice:{self.tenant}:{id}", timeout = 2)]
    async fn settle(&self, id: u64, amount_cents: i64) -> Result<i64, Error> {
        let _ = id;
        Ok(amount_cents)
    }
}

pub(crate) fn main() {
    let _ = (hourly_sync, nightly, aliased, tenant_sync, Ledger::settle);
}
