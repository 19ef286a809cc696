use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job")]
fn job() -> Result<(), Error> {
    // Declared inside `job`, taking the lock `job` already holds.
    #[mysql_lock(name = "job")]
    fn step() -> Result<(), Error> {
        Ok(())
    }

    // Other locks are fine: another name, the same name on another alias.
    #[mysql_lock(name = "job-step")]
    fn other_name() -> Result<(), Error> {
        Ok(())
    }
    #[mysql_lock(name = "job", using = "replica")]
    fn other_alias() -> Result<(), Error> {
        Ok(())
    }

    step()?;
    other_name()?;
    other_alias()
}

fn main() {
    let _ = job;
}
