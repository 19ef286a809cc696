#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "billing")]
    pub fn close_month() -> Result<(), Error> {
        send_invoices()
    }

    // Another lock: fine on its own, but `billing` is still held.
    #[mysql_lock(name = "mailer")]
    fn send_invoices() -> Result<(), Error> {
        recompute_totals()
    }

    #[mysql_lock(name = "billing")]
    fn recompute_totals() -> Result<(), Error> {
        Ok(())
    }
}

fn main() {
    let _ = jobs::close_month;
}
