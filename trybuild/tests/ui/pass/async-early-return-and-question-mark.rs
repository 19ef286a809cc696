// `?` and `return` in the body of an async fn leave the body's async
// block (whose end releases the lock), with the conversions of `?` into
// the function's error type; labels and items of the body as written.
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

async fn fetch(line: &str) -> Result<String, ParseError> {
    Ok(line.to_owned())
}

#[mysql_lock(name = "parse")]
async fn parse_all(lines: &[&str]) -> Result<Vec<u32>, ParseError> {
    const LIMIT: usize = helper();
    const fn helper() -> usize {
        100
    }
    if lines.len() > LIMIT {
        return Err(ParseError);
    }
    let mut numbers = Vec::new();
    'lines: for line in lines {
        let line = fetch(line).await?;
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
    let doubled = async {
        // ... and in an async block, from the block.
        return numbers
            .iter()
            .filter_map(|n| twice(*n))
            .collect::<Vec<u32>>();
    }
    .await;
    if doubled.is_empty() {
        return Ok(Vec::new());
    }
    Ok(doubled)
}

#[mysql_lock(name = "option-question-mark")]
async fn first_even(numbers: Vec<u32>) -> anyhow::Result<u32> {
    let even = numbers.into_iter().find(|n| n % 2 == 0);
    let Some(even) = even else {
        anyhow::bail!("no even number");
    };
    Ok(even)
}

pub(crate) fn main() {
    let _ = (parse_all, first_even);
}
