#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "import")]
    pub fn import_all() -> Result<(), Error> {
        for batch in 0..3 {
            import_batch(batch)?;
        }
        Ok(())
    }

    // No lock of its own: it runs under its caller's.
    fn import_batch(batch: u32) -> Result<(), Error> {
        if batch == 2 {
            return import_one(batch);
        }
        Ok(())
    }

    #[mysql_lock(name = "import")]
    pub fn import_one(id: u32) -> Result<(), Error> {
        let _ = id;
        Ok(())
    }
}

fn main() {
    let _ = jobs::import_all;
    let _ = jobs::import_one;
}
