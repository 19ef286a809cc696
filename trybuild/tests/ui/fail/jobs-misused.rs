use mysql_lock::Error;

// Not a module.
#[mysql_lock::jobs]
fn job() -> Result<(), Error> {
    Ok(())
}

// Arguments belong on the functions.
#[mysql_lock::jobs(name = "job")]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "job")]
    pub fn run() -> Result<(), Error> {
        Ok(())
    }
}

fn main() {
    let _ = job;
    let _ = jobs::run;
}
