// Async functions with generics, `where` clauses, lifetimes, `impl Trait`
// arguments and `impl Trait` inside the returned `Result`.
use mysql_lock::{mysql_lock, Error};
use std::fmt::{Debug, Display};

#[mysql_lock(name = "generic")]
async fn generic<T, E>(value: T) -> Result<T, E>
where
    T: Clone + Send,
    E: From<Error>,
{
    Ok(value.clone())
}

#[mysql_lock(name = "borrowed")]
async fn borrowed<'a, 'b: 'a>(text: &'a str, _other: &'b str) -> Result<&'a str, Error> {
    Ok(text.trim())
}

#[mysql_lock(name = "elided")]
async fn elided(items: &[u32]) -> Result<&u32, Error> {
    Ok(&items[0])
}

#[mysql_lock(name = "impl-arg")]
async fn impl_arg(
    items: impl IntoIterator<Item = u32>,
    label: impl Display,
) -> Result<String, Error> {
    let sum: u32 = items.into_iter().sum();
    Ok(format!("{label}: {sum}"))
}

#[mysql_lock(name = "impl-return")]
async fn impl_return(n: u32) -> Result<impl Display + Debug, Error> {
    Ok(n * 2)
}

#[mysql_lock(name = "impl-iter")]
async fn impl_iter(n: u32) -> anyhow::Result<impl Iterator<Item = u32>> {
    let all: Vec<u32> = (0..n).collect();
    Ok(all.into_iter())
}

// Coercions in the body as in the function: `Box<dyn ..>` and `&str`.
#[mysql_lock(name = "coerced")]
async fn coerced(flag: bool) -> Result<Box<dyn Display + Send>, Error> {
    if flag {
        return Ok(Box::new("early"));
    }
    Ok(Box::new(1u8))
}

pub(crate) fn main() {
    let _ = generic::<u8, Error>;
    let _ = (borrowed, elided, impl_return, impl_iter, coerced);
    // Made, never polled: nothing connects.
    let _ = impl_arg(vec![1, 2], "sum");
}
