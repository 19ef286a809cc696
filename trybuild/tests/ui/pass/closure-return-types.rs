// The function's return type is the body's expected type, as before the
// body moved into a closure: `impl Trait`, coercions, `?` and `return`.
use mysql_lock::{mysql_lock, Error};
use std::fmt::Display;

#[derive(Debug)]
enum AppError {
    Lock,
    Parse,
}

impl From<Error> for AppError {
    fn from(_: Error) -> Self {
        AppError::Lock
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(_: std::num::ParseIntError) -> Self {
        AppError::Parse
    }
}

#[mysql_lock(name = "impl-iterator")]
fn evens(limit: u32) -> Result<impl Iterator<Item = u32>, Error> {
    Ok((0..limit).filter(|n| n % 2 == 0))
}

#[mysql_lock(name = "impl-iterator-question-mark")]
fn parsed<'a>(words: &'a [&'a str]) -> Result<impl Iterator<Item = u32> + 'a, AppError> {
    let first: u32 = words.first().copied().unwrap_or("0").parse()?;
    let limit = if first == 0 {
        return Ok(words.iter().take(0).map(u32::try_from_len).chain(None));
    } else {
        10
    };
    Ok(words
        .iter()
        .take(limit)
        .map(u32::try_from_len)
        .chain(Some(first)))
}

trait TryFromLen {
    fn try_from_len(word: &&str) -> u32;
}

impl TryFromLen for u32 {
    fn try_from_len(word: &&str) -> u32 {
        u32::try_from(word.len()).unwrap_or(u32::MAX)
    }
}

#[mysql_lock(name = "impl-display")]
fn shown(value: u8) -> Result<impl Display, AppError> {
    Ok(value)
}

// Coercions from the expected type: to a trait object, to a slice.
#[mysql_lock(name = "coerce-box")]
fn boxed(wide: bool) -> Result<Box<dyn Display>, Error> {
    if wide {
        return Ok(Box::new("wide"));
    }
    Ok(Box::new(1))
}

#[mysql_lock(name = "coerce-slice")]
fn slice() -> Result<&'static [u8], Error> {
    Ok(&[1, 2, 3])
}

// `?` converts through the error type of the return type.
#[mysql_lock(name = "question-mark")]
fn sum(words: &[&str]) -> Result<u32, AppError> {
    let mut total = 0;
    for word in words {
        total += word.parse::<u32>()?;
    }
    Ok(total)
}

// `Default::default()` and `into()` infer from the return type.
#[mysql_lock(name = "inferred")]
fn inferred() -> Result<(Vec<u8>, String), Error> {
    Ok((Default::default(), "x".into()))
}

// A body that never returns normally.
#[mysql_lock(name = "loops")]
fn loops_until(limit: u32) -> Result<u32, Error> {
    let mut n = 0;
    loop {
        n += 1;
        if n >= limit {
            return Ok(n);
        }
    }
}

pub(crate) fn main() {
    let _ = evens;
    let _ = parsed;
    let _ = shown;
    let _ = boxed;
    let _ = slice;
    let _ = sum;
    let _ = inferred;
    let _ = loops_until;
}
