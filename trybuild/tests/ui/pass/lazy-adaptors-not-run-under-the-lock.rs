// A lazy adaptor's closure runs when its chain is consumed: returned or
// stored unconsumed (an iterator, a future), it runs after the release, so
// it is not taken for work under the lock. Consumed where it stands
// (`for_each`, `collect`, `?`, `unwrap`, a dropped `Option`), it is.
#![allow(dead_code, unused_variables, clippy::all)]

use mysql_lock::{mysql_lock, Error, Lock};

#[mysql_lock(name = "a")]
fn batches() -> Result<impl Iterator<Item = Result<(), Error>>, Error> {
    // Runs when the caller iterates, after the release: a lazy value (the
    // docs warn of it), not re-entrance.
    Ok((0..3u8).map(|_| Lock::new("a").acquire().map(drop)))
}

#[mysql_lock(name = "a")]
fn filtered() -> Result<usize, Error> {
    let unconsumed = (0..3u8).filter(|_| Lock::new("a").try_acquire().is_ok());
    Ok(3)
}

struct Builder<F>(F);

impl<F> Builder<F> {
    // A user's `map` that stores its closure.
    fn map<G>(self, g: G) -> Builder<G> {
        Builder(g)
    }
}

#[mysql_lock(name = "a")]
fn builder() -> Result<Builder<impl Fn() -> bool>, Error> {
    Ok(Builder(|| true).map(|| Lock::new("a").try_acquire().is_ok()))
}

pub(crate) fn main() {
    let _ = batches;
    let _ = filtered;
    let _ = builder;
}
