// A `use` in an inner block shadows only there: after the block,
// `Report::build()` is the module's again.
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    pub struct Report;

    impl Report {
        #[mysql_lock(name = "report")]
        pub fn build() -> Result<(), Error> {
            Ok(())
        }
    }

    mod legacy {
        pub struct Report;
        impl Report {
            pub fn build() -> Result<(), mysql_lock::Error> {
                Ok(())
            }
        }
    }

    #[mysql_lock(name = "report")]
    pub fn nightly() -> Result<(), Error> {
        {
            use self::legacy::Report;
            Report::build()?;
        }
        Report::build()
    }
}

fn main() {
    let _ = jobs::nightly;
}
