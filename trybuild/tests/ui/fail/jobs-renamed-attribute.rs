// The attribute under another name, imported in the module: recognised.
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::mysql_lock as exclusive;
    use mysql_lock::Error;

    #[exclusive(name = "ledger")]
    pub fn transfer() -> Result<(), Error> {
        audit()
    }

    #[exclusive(name = "ledger")]
    fn audit() -> Result<(), Error> {
        Ok(())
    }
}

fn main() {
    let _ = jobs::transfer;
}
