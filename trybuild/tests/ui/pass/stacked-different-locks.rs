// Two #[mysql_lock] of different locks on one function: the first expands
// both, so the body runs holding "stacked-a" and "stacked-b", taken in the
// order written. Also with `#[track_caller]`, another attribute between
// them, and different timeouts and aliases.
#![deny(warnings)]

use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "stacked-a", timeout = 1)]
#[mysql_lock(name = "stacked-b", using = "other")]
fn both(n: u32) -> Result<u32, Error> {
    let doubled = n.checked_mul(2).ok_or(Error::InvalidName {
        name: n.to_string(),
        reason: "too large",
    })?;
    Ok(doubled)
}

#[mysql_lock(name = "stacked-a")]
#[inline]
#[mysql_lock(name = "stacked-c", timeout = "forever")]
#[track_caller]
fn tracked(n: u32) -> Result<u32, Error> {
    const ONE: u32 = 1;
    Ok(n + ONE)
}

struct Worker {
    count: u32,
}

impl Worker {
    #[mysql_lock(name = "stacked-a")]
    #[mysql_lock(name = "stacked-b")]
    #[mysql_lock(name = "stacked-c")]
    fn bump(&mut self) -> Result<&mut u32, Error> {
        self.count += 1;
        Ok(&mut self.count)
    }
}

pub(crate) fn main() {
    let _ = both;
    let _ = tracked;
    let _ = Worker::bump;
    let _ = Worker { count: 0 }.count;
}
