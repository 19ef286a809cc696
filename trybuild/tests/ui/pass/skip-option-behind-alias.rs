// `if_busy = "skip"` with the `Option` behind a type alias or an associated
// type: left to the type checker, which accepts it.
#![allow(dead_code)]

use mysql_lock::{mysql_lock, Error};

type Maybe = Option<u8>;

#[mysql_lock(name = "skip-alias", if_busy = "skip")]
fn aliased() -> Result<Maybe, Error> {
    Ok(Some(1))
}

trait Job {
    type Out;
    fn run(&self) -> Result<Self::Out, Error>;
}

struct Sync;

impl Job for Sync {
    type Out = Option<u8>;

    #[mysql_lock(name = "skip-assoc", if_busy = "skip")]
    fn run(&self) -> Result<Self::Out, Error> {
        Ok(Some(2))
    }
}

pub(crate) fn main() {
    let _ = aliased;
    let _ = <Sync as Job>::run;
}
