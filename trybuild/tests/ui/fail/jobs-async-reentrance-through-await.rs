// Across a module: `close_month` holds "billing" while the futures it
// awaits take it again.
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "billing")]
    pub async fn close_month() -> Result<(), Error> {
        send_invoices().await?;
        Self_::recompute().await
    }

    // Another lock: fine on its own, but "billing" is still held.
    #[mysql_lock(name = "mailer")]
    async fn send_invoices() -> Result<(), Error> {
        recompute_totals().await
    }

    #[mysql_lock(name = "billing")]
    async fn recompute_totals() -> Result<(), Error> {
        Ok(())
    }

    pub struct Self_;

    impl Self_ {
        #[mysql_lock(name = "billing")]
        pub async fn recompute() -> Result<(), Error> {
            Ok(())
        }
    }
}

fn main() {
    let _ = jobs::close_month;
}
