// `#[cfg_attr(..)]` only adds attributes: the function stays in the call
// graph, as caller and as callee. (A `cfg_attr` that adds a `cfg` may
// remove it: that one is left out.)
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[cfg_attr(not(any()), inline)]
    #[mysql_lock(name = "sync")]
    pub fn sync() -> Result<(), Error> {
        fetch()
    }

    #[cfg_attr(debug_assertions, inline(never))]
    #[mysql_lock(name = "sync")]
    fn fetch() -> Result<(), Error> {
        Ok(())
    }
}

fn main() {
    let _ = jobs::sync;
}
