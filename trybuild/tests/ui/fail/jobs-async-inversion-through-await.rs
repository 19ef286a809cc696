// Lock order across async functions: `place_order` takes "orders" then
// "stock" (awaiting `reserve_stock`), `restock` takes "stock" then
// "orders" (awaiting `acquire_async`).
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error, Lock};

    #[mysql_lock(name = "orders")]
    pub async fn place_order() -> Result<(), Error> {
        reserve_stock().await
    }

    #[mysql_lock(name = "stock")]
    async fn reserve_stock() -> Result<(), Error> {
        Ok(())
    }

    #[mysql_lock(name = "stock")]
    pub async fn restock() -> Result<(), Error> {
        let guard = Lock::new("orders").acquire_async().await?;
        guard.release().await
    }
}

fn main() {
    let _ = jobs::place_order;
    let _ = jobs::restock;
}
