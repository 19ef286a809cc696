#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "report")]
    pub fn report() -> Result<(), Error> {
        export()
    }

    #[mysql_lock(name = "report")]
    pub fn export() -> Result<(), Error> {
        Ok(())
    }
}

fn main() {
    let _ = jobs::report;
}
