use mysql_lock::mysql_lock;

#[mysql_lock(name = "job")]
fn job<T: Default, E>() -> Result<T, E> {
    Ok(T::default())
}

fn main() {
    let _ = job::<u32, String>;
}
