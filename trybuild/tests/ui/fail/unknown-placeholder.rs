use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "invoice:{invoice_id}")]
fn settle(id: u64, account: &str) -> Result<(), Error> {
    let _ = (id, account);
    Ok(())
}

struct Worker;

impl Worker {
    #[mysql_lock(name = "worker:{slf.id}")]
    fn run(&self) -> Result<(), Error> {
        Ok(())
    }
}

#[mysql_lock(name = "free:{self.id}")]
fn free(id: u64) -> Result<(), Error> {
    let _ = id;
    Ok(())
}

#[mysql_lock(name = "job:{id:?}:{}")]
fn spec(id: u64) -> Result<(), Error> {
    let _ = id;
    Ok(())
}

fn main() {
    let _ = (settle, Worker::run, free, spec);
}
