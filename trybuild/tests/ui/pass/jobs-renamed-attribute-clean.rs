// The attribute under another name, imported in the module, with nothing
// wrong: the module is checked, and passes.
#![allow(dead_code, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::mysql_lock as exclusive;
    use mysql_lock::Error;

    #[exclusive(name = "ledger")]
    pub fn transfer() -> Result<(), Error> {
        audit()
    }

    #[exclusive(name = "audit")]
    fn audit() -> Result<(), Error> {
        Ok(())
    }
}

pub(crate) fn main() {
    let _ = jobs::transfer;
}
