// A `use` (or a type declared) in a body gives a name another meaning
// there: `Report::build()` is not the module's locked `Report::build`.
#![allow(dead_code, clippy::all)]

mod legacy {
    pub struct Report;

    impl Report {
        pub fn build() -> Result<(), mysql_lock::Error> {
            Ok(())
        }
    }
}

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

    #[mysql_lock(name = "report")]
    pub fn nightly() -> Result<(), Error> {
        use crate::legacy::Report;
        Report::build()
    }

    #[mysql_lock(name = "report")]
    pub fn weekly() -> Result<(), Error> {
        struct Report;
        impl Report {
            fn build() -> Result<(), Error> {
                Ok(())
            }
        }
        Report::build()
    }
}

fn main() {
    let _ = jobs::nightly;
    let _ = jobs::weekly;
}

/// Built as a crate root of its own (an integration test), and run.
#[test]
fn builds() {
    main();
}
