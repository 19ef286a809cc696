// `let export = export()?;` calls the function `export` before the binding
// exists: the call counts.
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "report")]
    pub fn report() -> Result<u32, Error> {
        let export = export()?;
        Ok(export + 1)
    }

    #[mysql_lock(name = "report")]
    fn export() -> Result<u32, Error> {
        Ok(1)
    }
}

fn main() {
    let _ = jobs::report;
}
