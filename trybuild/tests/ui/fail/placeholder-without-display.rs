use mysql_lock::{mysql_lock, Error};

struct Id(u64);

#[mysql_lock(name = "invoice:{id}")]
fn settle(id: Id) -> Result<u64, Error> {
    Ok(id.0)
}

fn main() {
    let _ = settle;
}
