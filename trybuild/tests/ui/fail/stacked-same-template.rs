use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "invoice:{id}")]
#[mysql_lock(name = "invoice:{id}", timeout = 0)]
fn settle(id: u64) -> Result<(), Error> {
    let _ = id;
    Ok(())
}

fn main() {
    let _ = settle;
}
