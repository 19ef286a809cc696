#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    pub struct Cache;

    impl Cache {
        #[mysql_lock(name = "cache")]
        pub fn rebuild() -> Result<(), Error> {
            Self::clear()?;
            Cache::warm()
        }

        #[mysql_lock(name = "cache")]
        fn clear() -> Result<(), Error> {
            Ok(())
        }

        #[mysql_lock(name = "cache")]
        fn warm() -> Result<(), Error> {
            Ok(())
        }
    }
}

fn main() {
    let _ = jobs::Cache::rebuild;
}
