// `self::f()` is resolved as `f()` is, and `<Self as Trait>::f(self)` as
// `Self::f(self)` is.
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "report")]
    pub fn report() -> Result<(), Error> {
        self::export()
    }

    #[mysql_lock(name = "report")]
    fn export() -> Result<(), Error> {
        Ok(())
    }

    pub struct Worker;

    pub trait Job {
        fn run(&self, n: u32) -> Result<(), Error>;
    }

    impl Job for Worker {
        #[mysql_lock(name = "worker")]
        fn run(&self, n: u32) -> Result<(), Error> {
            if n > 0 {
                <Self as Job>::run(self, n - 1)?;
            }
            Ok(())
        }
    }
}

fn main() {
    let _ = jobs::report;
    let _ = <jobs::Worker as jobs::Job>::run;
}
