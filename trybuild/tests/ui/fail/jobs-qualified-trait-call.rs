// `<Self as Trait>::f(self)` names the trait's method for sure: followed,
// as `Self::f` is for an inherent one.
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    pub struct Import;

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
            <Self as Step>::prepare(self)?;
            <Import as Step>::run(self)
        }
    }
}

fn main() {
    let _ = <jobs::Import as jobs::Step>::run;
}
