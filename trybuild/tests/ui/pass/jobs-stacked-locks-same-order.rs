// Stacked #[mysql_lock]s in the same order as every other path, or taking
// the later one without waiting: no lock-order inversion.
#![allow(dead_code, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "orders")]
    #[mysql_lock(name = "stock")]
    pub fn place_order() -> Result<(), Error> {
        Ok(())
    }

    #[mysql_lock(name = "orders")]
    pub fn restock() -> Result<(), Error> {
        count_stock()
    }

    #[mysql_lock(name = "stock")]
    fn count_stock() -> Result<(), Error> {
        Ok(())
    }

    #[mysql_lock(name = "stock")]
    #[mysql_lock(name = "orders", timeout = 0)]
    pub fn reconcile() -> Result<(), Error> {
        Ok(())
    }
}

pub(crate) fn main() {
    let _ = jobs::place_order;
    let _ = jobs::restock;
    let _ = jobs::reconcile;
}
