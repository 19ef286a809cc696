// The attribute imported under another name outside the module: the
// module's checks can't see it, and say so instead of passing in silence.
use mysql_lock::mysql_lock as exclusive;

#[mysql_lock::jobs]
mod jobs {
    use super::exclusive;
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
