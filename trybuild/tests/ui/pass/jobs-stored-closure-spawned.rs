// Closures that are built but not called in the body do not run under its
// lock: stored and handed to another thread, returned, boxed, pushed, put
// in a struct field, or handed to a function that may keep them.
#![allow(dead_code, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    pub struct Task {
        pub run: Box<dyn Fn() -> Result<(), Error> + Send>,
    }

    #[mysql_lock(name = "notify")]
    pub fn notify() -> Result<(), Error> {
        Ok(())
    }

    #[mysql_lock(name = "notify")]
    pub fn schedule(ids: &[u32]) -> Result<Vec<Task>, Error> {
        let task = move || notify();
        let _ = std::thread::spawn(task);
        let _ = std::thread::spawn({
            let ids = ids.to_vec();
            move || notify().map(|()| ids.len())
        });
        let mut later: Vec<Box<dyn Fn() -> Result<(), Error> + Send>> = Vec::new();
        later.push(Box::new(|| notify()));
        let field = Task {
            run: Box::new(|| notify()),
        };
        keep(|| notify());
        Ok(vec![field])
    }

    #[mysql_lock(name = "notify")]
    pub fn deferred() -> Result<impl Fn() -> Result<(), Error>, Error> {
        Ok(|| notify())
    }

    fn keep(task: impl Fn() -> Result<(), Error>) {
        let _ = task;
    }
}

pub(crate) fn main() {
    let _ = jobs::schedule;
    let _ = jobs::deferred;
}
