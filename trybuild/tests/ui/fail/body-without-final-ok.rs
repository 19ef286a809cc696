use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job")]
fn job(id: u64) -> Result<(), Error> {
    let doubled = id * 2;
    println!("{doubled}");
}

#[mysql_lock(name = "value")]
fn value(id: u64) -> Result<u64, Error> {
    let doubled = id * 2;
    doubled
}

fn main() {
    let _ = (job, value);
}
