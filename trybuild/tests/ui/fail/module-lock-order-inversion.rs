#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error, Lock};

    // Takes "orders", then "stock".
    #[mysql_lock(name = "orders")]
    pub fn place_order() -> Result<(), Error> {
        reserve_stock()
    }

    #[mysql_lock(name = "stock")]
    fn reserve_stock() -> Result<(), Error> {
        Ok(())
    }

    // Takes "stock", then "orders": a worker running `place_order` and one
    // running `restock` can each wait for the other.
    #[mysql_lock(name = "stock")]
    pub fn restock() -> Result<(), Error> {
        let guard = Lock::new("orders").acquire()?;
        guard.release()
    }
}

fn main() {
    let _ = jobs::place_order;
    let _ = jobs::restock;
}
