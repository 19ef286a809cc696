use mysql_lock::{mysql_lock, Error};
use std::fmt::Display;

// One lock for every instantiation: the static names no generic parameter.
#[mysql_lock(name = "render")]
fn render<T, const N: usize>(items: [T; N]) -> Result<Vec<String>, Error>
where
    T: Display + Clone,
{
    Ok(items.iter().map(ToString::to_string).collect())
}

#[mysql_lock(name = "convert")]
fn convert<E: From<Error> + std::fmt::Debug, T: Default>() -> Result<T, E> {
    Ok(T::default())
}

pub(crate) fn main() {
    let _ = render::<u8, 2>;
    let _ = render::<&str, 3>;
    let _ = convert::<Error, String>;
}
