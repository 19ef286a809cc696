use mysql_lock::{mysql_lock, Error};

struct Worker;

#[mysql_lock(name = "job")]
impl Worker {
    fn run(&self) -> Result<(), Error> {
        Ok(())
    }
}

fn main() {
    let _ = Worker.run();
}
