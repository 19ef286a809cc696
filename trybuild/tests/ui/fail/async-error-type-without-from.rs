// The error type of an async fn must convert from `mysql_lock::Error`: the
// compiler says so at the return type.
use mysql_lock::mysql_lock;

#[derive(Debug)]
struct AppError;

#[mysql_lock(name = "job")]
async fn job() -> Result<u32, AppError> {
    Ok(1)
}

fn main() {
    let _ = job;
}
