// An async fn must return a `Result` too: the lock's errors are returned
// as its `Err`.
use mysql_lock::mysql_lock;

#[mysql_lock(name = "unit")]
async fn unit(id: u64) {
    let _ = id;
}

#[mysql_lock(name = "number")]
async fn number() -> u32 {
    1
}

#[mysql_lock(name = "option")]
async fn option() -> Option<u32> {
    Some(1)
}

fn main() {
    let _ = (unit, number, option);
}
