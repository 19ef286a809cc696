// A qualified path names one trait's method: another trait's method of
// the same name, or an inherent one, is another function.
#![allow(dead_code, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    pub struct Worker;

    pub trait Job {
        fn run(&self) -> Result<(), Error>;
    }

    pub trait Other {
        fn run(&self) -> Result<(), Error>;
    }

    impl Other for Worker {
        fn run(&self) -> Result<(), Error> {
            Ok(())
        }
    }

    impl Job for Worker {
        #[mysql_lock(name = "worker")]
        fn run(&self) -> Result<(), Error> {
            <Self as Other>::run(self)?;
            <Worker as Other>::run(self)
        }
    }
}

pub(crate) fn main() {
    let _ = <jobs::Worker as jobs::Job>::run;
}
