// A `cfg_attr` that adds a `cfg` may remove the function: left out of the
// call graph, as a `#[cfg]`'d one is.
#![allow(dead_code, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[cfg_attr(all(), cfg(any()))]
    #[mysql_lock(name = "sync")]
    pub fn sync() -> Result<(), Error> {
        fetch()
    }

    #[mysql_lock(name = "sync")]
    pub fn fetch() -> Result<(), Error> {
        Ok(())
    }
}

pub(crate) fn main() {
    let _ = jobs::fetch;
}
