// Stacked #[mysql_lock]s take their locks in the order written: "orders"
// then "stock" here, while another path takes "stock" then "orders".
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "orders")]
    #[mysql_lock(name = "stock")]
    pub fn place_order() -> Result<(), Error> {
        Ok(())
    }

    #[mysql_lock(name = "stock")]
    pub fn restock() -> Result<(), Error> {
        audit_orders()
    }

    #[mysql_lock(name = "orders")]
    fn audit_orders() -> Result<(), Error> {
        Ok(())
    }
}

fn main() {
    let _ = jobs::place_order;
    let _ = jobs::restock;
}
