// A closure stored and then called in the body runs under its lock; so
// does one handed to an adaptor that calls it at once.
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "notify")]
    pub fn notify() -> Result<(), Error> {
        Ok(())
    }

    #[mysql_lock(name = "notify")]
    pub fn run_now() -> Result<(), Error> {
        let task = || notify();
        task()
    }

    #[mysql_lock(name = "notify")]
    pub fn each(ids: &[u32]) -> Result<(), Error> {
        ids.iter().try_for_each(|_| notify())
    }
}

fn main() {
    let _ = jobs::run_now;
    let _ = jobs::each;
}
