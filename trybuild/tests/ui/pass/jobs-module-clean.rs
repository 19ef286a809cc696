// A module whose calls take locks in one order (orders → stock → audit),
// never twice: `#[mysql_lock::jobs]` accepts it and leaves it unchanged.
#[mysql_lock::jobs]
pub mod shop {
    use mysql_lock::{mysql_lock, Error, Lock};

    pub struct Warehouse {
        pub items: Vec<u32>,
    }

    #[mysql_lock(name = "orders")]
    pub fn place_order(warehouse: &mut Warehouse, item: u32) -> Result<(), Error> {
        validate(item)?;
        warehouse.reserve(item)?;
        Warehouse::log(item)
    }

    // No lock: runs under whatever its caller holds.
    fn validate(item: u32) -> Result<(), Error> {
        if item == 0 {
            return Err(Error::InvalidName {
                name: item.to_string(),
                reason: "no such item",
            });
        }
        Ok(())
    }

    impl Warehouse {
        #[mysql_lock(name = "stock")]
        pub fn reserve(&mut self, item: u32) -> Result<(), Error> {
            self.items.retain(|i| *i != item);
            self.audit()?;
            Self::log(item)
        }

        #[mysql_lock(name = "stock")]
        pub fn restock(&mut self, item: u32) -> Result<(), Error> {
            self.items.push(item);
            Self::log(item)
        }

        fn audit(&self) -> Result<(), Error> {
            let guard = Lock::new("audit").try_acquire()?;
            drop(guard);
            Ok(())
        }

        #[mysql_lock(name = "audit")]
        pub fn log(item: u32) -> Result<(), Error> {
            let _ = item;
            Ok(())
        }
    }

    // The same name on another alias is another lock.
    #[mysql_lock(name = "orders", using = "archive")]
    pub fn archive_orders() -> Result<(), Error> {
        let mut warehouse = Warehouse { items: Vec::new() };
        place_order(&mut warehouse, 1)
    }

    // Recursion in a function without lock.
    pub fn depth(n: u32) -> u32 {
        if n == 0 {
            0
        } else {
            1 + depth(n - 1)
        }
    }
}

pub(crate) fn main() {
    let _ = shop::place_order;
    let _ = shop::Warehouse::restock;
    let _ = shop::archive_orders;
    let _ = shop::depth(2);
}
