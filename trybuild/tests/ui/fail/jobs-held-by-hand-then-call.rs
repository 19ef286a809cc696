// A plain function that takes a lock by hand, then (still holding it)
// calls an annotated function taking the same lock; and one that holds two
// locks by hand in both orders.
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error, Lock};

    pub fn migrate() -> Result<(), Error> {
        let guard = Lock::new("schema").acquire()?;
        apply()?;
        guard.release()
    }

    #[mysql_lock(name = "schema")]
    fn apply() -> Result<(), Error> {
        Ok(())
    }

    pub fn backup() -> Result<(), Error> {
        let _schema = Lock::new("schema").acquire()?;
        let _data = Lock::new("data").acquire()?;
        Ok(())
    }

    #[mysql_lock(name = "data")]
    pub fn restore() -> Result<(), Error> {
        let _schema = Lock::new("schema").acquire().expect("schema lock");
        Ok(())
    }
}

fn main() {
    let _ = jobs::migrate;
    let _ = jobs::backup;
    let _ = jobs::restore;
}
