use mysql_lock::mysql_lock;
use std::fmt;

#[derive(Debug)]
enum AppError {
    Lock(mysql_lock::Error),
    Io(std::io::Error),
}

impl From<mysql_lock::Error> for AppError {
    fn from(error: mysql_lock::Error) -> Self {
        AppError::Lock(error)
    }
}

impl From<std::io::Error> for AppError {
    fn from(error: std::io::Error) -> Self {
        AppError::Io(error)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Lock(error) => write!(f, "lock: {error}"),
            AppError::Io(error) => write!(f, "io: {error}"),
        }
    }
}

type AppResult<T> = Result<T, AppError>;

#[mysql_lock(name = "custom")]
fn custom(path: &str) -> Result<String, AppError> {
    Ok(std::fs::read_to_string(path)?)
}

#[mysql_lock(name = "alias")]
fn through_alias() -> AppResult<()> {
    Ok(())
}

#[mysql_lock(name = "boxed")]
fn boxed() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Ok(())
}

#[mysql_lock(name = "plain")]
fn plain() -> Result<(), mysql_lock::Error> {
    Ok(())
}

#[allow(unused_parens)]
#[mysql_lock(name = "parenthesized")]
fn parenthesized() -> (Result<(), mysql_lock::Error>) {
    Ok(())
}

pub(crate) fn main() {
    let _ = custom;
    let _ = through_alias;
    let _ = boxed;
    let _ = plain;
    let _ = parenthesized;
}
