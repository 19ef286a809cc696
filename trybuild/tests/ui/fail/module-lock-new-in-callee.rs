#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error, Lock};

    #[mysql_lock(name = "nightly")]
    pub fn nightly() -> Result<(), Error> {
        cleanup()
    }

    fn cleanup() -> Result<(), Error> {
        let guard = Lock::new("nightly").acquire()?;
        guard.release()
    }
}

fn main() {
    let _ = jobs::nightly;
}
