// In a trait impl, `self.prepare()` calls an inherent `prepare` when there
// is one, wherever it is (inherent methods win): here outside the module,
// where the macro can't see it. So the call is not taken for the trait's
// locked `prepare`.
#![allow(dead_code, clippy::all)]

pub struct Import;

impl Import {
    pub fn prepare(&self) -> Result<(), mysql_lock::Error> {
        Ok(())
    }
}

#[mysql_lock::jobs]
mod jobs {
    use super::Import;
    use mysql_lock::{mysql_lock, Error};

    pub trait Step {
        fn prepare(&self) -> Result<(), Error>;
        fn run(&self) -> Result<(), Error>;
    }

    impl Step for Import {
        #[mysql_lock(name = "import")]
        fn prepare(&self) -> Result<(), Error> {
            Ok(())
        }

        #[mysql_lock(name = "import")]
        fn run(&self) -> Result<(), Error> {
            self.prepare()?;
            Self::prepare(self)
        }
    }
}

pub(crate) fn main() {
    let _ = <Import as jobs::Step>::run;
}
