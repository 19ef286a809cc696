// Async methods: every receiver, inherent and trait impls, and a trait's
// default body.
use mysql_lock::{mysql_lock, Error};
use std::sync::Arc;

#[derive(Default)]
struct Worker {
    done: u32,
    tenant: String,
}

impl Worker {
    #[mysql_lock(name = "new")]
    async fn new() -> Result<Self, Error> {
        Ok(Worker::default())
    }

    #[mysql_lock(name = "ref")]
    async fn by_ref(&self) -> Result<&u32, Error> {
        Ok(&self.done)
    }

    #[mysql_lock(name = "mut")]
    async fn by_mut(&mut self) -> Result<(), Error> {
        self.done += 1;
        Ok(())
    }

    #[mysql_lock(name = "value")]
    async fn by_value(self) -> Result<u32, Error> {
        Ok(self.done)
    }

    #[mysql_lock(name = "mut-value")]
    async fn by_mut_value(mut self) -> Result<Self, Error> {
        self.done += 1;
        Ok(self)
    }

    #[mysql_lock(name = "box")]
    async fn by_box(self: Box<Self>) -> Result<u32, Error> {
        Ok(self.done)
    }

    #[mysql_lock(name = "arc")]
    async fn by_arc(self: Arc<Self>) -> Result<u32, Error> {
        Ok(self.done)
    }

    // A field of `self` in the name, formatted before the body.
    #[mysql_lock(name = "tenant:{self.tenant}")]
    async fn per_tenant(&mut self) -> Result<String, Error> {
        self.done += 1;
        Ok(std::mem::take(&mut self.tenant))
    }
}

trait Job {
    async fn run(&self) -> Result<u32, Error>;

    // A default body is a function with a body: it is locked as any.
    #[mysql_lock(name = "default-body")]
    async fn run_twice(&self) -> Result<u32, Error> {
        Ok(self.run().await? * 2)
    }
}

impl Job for Worker {
    #[mysql_lock(name = "trait-impl")]
    async fn run(&self) -> Result<u32, Error> {
        Ok(self.done)
    }
}

pub(crate) fn main() {
    let _ = (
        Worker::new,
        Worker::by_ref,
        Worker::by_mut,
        Worker::by_value,
        Worker::by_mut_value,
        Worker::by_box,
        Worker::by_arc,
        Worker::per_tenant,
        <Worker as Job>::run,
        <Worker as Job>::run_twice,
    );
}
