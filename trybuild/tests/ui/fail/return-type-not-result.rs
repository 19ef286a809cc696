use mysql_lock::mysql_lock;

#[mysql_lock(name = "job")]
fn job() -> u32 {
    1
}

#[mysql_lock(name = "option")]
fn option() -> Option<u32> {
    Some(1)
}

fn main() {
    let _ = (job, option);
}
