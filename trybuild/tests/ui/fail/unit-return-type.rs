use mysql_lock::mysql_lock;

#[mysql_lock(name = "job")]
fn job(id: u64) {
    let _ = id;
}

#[mysql_lock(name = "explicit")]
fn explicit() -> () {}

fn main() {
    let _ = (job, explicit);
}
