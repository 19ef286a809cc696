use mysql_lock::mysql_lock;

#[derive(Debug)]
struct AppError;

#[mysql_lock(name = "job")]
fn job() -> Result<(), AppError> {
    Ok(())
}

type AppResult<T> = Result<T, AppError>;

// Through an alias, the error points at the alias.
#[mysql_lock(name = "alias")]
fn through_alias() -> AppResult<()> {
    Ok(())
}

fn main() {
    let _ = (job, through_alias);
}
