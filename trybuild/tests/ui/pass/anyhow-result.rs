use mysql_lock::mysql_lock;

#[mysql_lock(name = "anyhow")]
fn with_anyhow(path: &str) -> anyhow::Result<usize> {
    anyhow::ensure!(!path.is_empty(), "empty path");
    Ok(path.len())
}

#[mysql_lock(name = "anyhow-full")]
fn with_anyhow_error() -> Result<(), anyhow::Error> {
    Ok(())
}

pub(crate) fn main() {
    let _ = with_anyhow;
    let _ = with_anyhow_error;
}
