use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "longest")]
fn longest<'a, 'b: 'a>(left: &'a str, right: &'b str) -> Result<&'a str, Error> {
    Ok(if left.len() >= right.len() {
        left
    } else {
        right
    })
}

#[mysql_lock(name = "elided")]
fn first_word(text: &str) -> Result<&str, Error> {
    Ok(text.split(' ').next().unwrap_or_default())
}

struct Parser<'input> {
    input: &'input str,
}

impl<'input> Parser<'input> {
    #[mysql_lock(name = "parser")]
    fn rest(&self) -> Result<&'input str, Error> {
        Ok(self.input)
    }
}

#[mysql_lock(name = "static")]
fn greeting() -> Result<&'static str, Error> {
    Ok("hello")
}

pub(crate) fn main() {
    let _ = longest;
    let _ = first_word;
    let _ = Parser::rest;
    let _ = Parser { input: "" }.input;
    let _ = greeting;
}
