use mysql_lock::{mysql_lock, Error};

trait Job {
    #[mysql_lock(name = "job")]
    fn run(&self) -> Result<(), Error>;
}

fn main() {}
