use mysql_lock::{mysql_lock, Error};

#[derive(Debug)]
struct ParseError;

impl From<Error> for ParseError {
    fn from(_: Error) -> Self {
        ParseError
    }
}

impl From<std::num::ParseIntError> for ParseError {
    fn from(_: std::num::ParseIntError) -> Self {
        ParseError
    }
}

#[mysql_lock(name = "parse")]
fn parse_all(lines: &[&str]) -> Result<Vec<u32>, ParseError> {
    // Items of the body are visible before their declaration, as before.
    const LIMIT: usize = helper();
    const fn helper() -> usize {
        100
    }
    if lines.len() > LIMIT {
        return Err(ParseError);
    }
    let mut numbers = Vec::new();
    'lines: for line in lines {
        for word in line.split(' ') {
            if word == "stop" {
                break 'lines;
            }
            numbers.push(word.parse()?);
        }
    }
    let twice = |n: u32| -> Option<u32> {
        // `return` in a closure still returns from the closure.
        return n.checked_mul(2);
    };
    let _ = twice(1);
    Ok(numbers)
}

#[mysql_lock(name = "nested")]
fn nested() -> Result<u32, Error> {
    let value = {
        let inner: Result<u32, Error> = Ok(1);
        inner?
    };
    if value == 0 {
        return Ok(0);
    }
    Ok(value)
}

#[mysql_lock(name = "diverges")]
fn diverges() -> Result<u32, Error> {
    panic!("the guard is dropped while unwinding")
}

pub(crate) fn main() {
    let _ = parse_all;
    let _ = nested;
    let _ = diverges;
}
