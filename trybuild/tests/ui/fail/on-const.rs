use mysql_lock::mysql_lock;

#[mysql_lock(name = "job")]
const LIMIT: u32 = 10;

fn main() {
    let _ = LIMIT;
}
