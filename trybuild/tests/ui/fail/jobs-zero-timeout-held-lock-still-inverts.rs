// `timeout = 0` only exempts the lock it takes: here "orders" is taken
// without waiting, but "stock" is then awaited while "orders" is held, and
// another path takes them the other way round, waiting for "orders".
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error, Lock};

    #[mysql_lock(name = "orders", timeout = 0)]
    pub fn place_order() -> Result<(), Error> {
        reserve_stock()
    }

    #[mysql_lock(name = "stock")]
    fn reserve_stock() -> Result<(), Error> {
        Ok(())
    }

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
