// A lock taken with `timeout = 0` never waits, so it can't complete a
// deadlock cycle: taking "stock" then "orders" (without waiting) and
// "orders" then "stock" is no lock-order inversion. The same holds for
// `try_acquire` and `.timeout(Duration::ZERO)`.
#![allow(dead_code, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error, Lock};
    use std::time::Duration;

    #[mysql_lock(name = "orders")]
    pub fn place_order() -> Result<(), Error> {
        reserve_stock()
    }

    #[mysql_lock(name = "stock", timeout = 0)]
    fn reserve_stock() -> Result<(), Error> {
        Ok(())
    }

    #[mysql_lock(name = "stock")]
    pub fn restock() -> Result<(), Error> {
        let guard = Lock::new("orders").timeout(Duration::ZERO).acquire()?;
        guard.release()
    }
}

pub(crate) fn main() {
    let _ = jobs::place_order;
    let _ = jobs::restock;
}
