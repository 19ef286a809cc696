#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    pub struct Account {
        pub balance: i64,
    }

    impl Account {
        #[mysql_lock(name = "ledger")]
        pub fn transfer(&mut self, amount: i64) -> Result<(), Error> {
            self.balance -= amount;
            self.audit()
        }

        #[mysql_lock(name = "ledger")]
        fn audit(&self) -> Result<(), Error> {
            Ok(())
        }
    }
}

fn main() {
    let _ = jobs::Account::transfer;
}
