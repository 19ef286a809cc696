use mysql_lock::{mysql_lock, Error};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

#[derive(Default)]
struct Worker {
    done: u32,
}

impl Worker {
    #[mysql_lock(name = "new")]
    fn new() -> Result<Self, Error> {
        Ok(Worker::default())
    }

    #[mysql_lock(name = "ref")]
    fn by_ref(&self) -> Result<u32, Error> {
        Ok(self.done)
    }

    #[mysql_lock(name = "mut")]
    fn by_mut(&mut self) -> Result<(), Error> {
        self.done += 1;
        Ok(())
    }

    #[mysql_lock(name = "value")]
    fn by_value(self) -> Result<u32, Error> {
        Ok(self.done)
    }

    #[mysql_lock(name = "mut-value")]
    fn by_mut_value(mut self) -> Result<Self, Error> {
        self.done += 1;
        Ok(self)
    }

    #[mysql_lock(name = "box")]
    fn by_box(self: Box<Self>) -> Result<u32, Error> {
        Ok(self.done)
    }

    #[mysql_lock(name = "rc")]
    fn by_rc(self: Rc<Self>) -> Result<u32, Error> {
        Ok(self.done)
    }

    #[mysql_lock(name = "arc")]
    fn by_arc(self: &Arc<Self>) -> Result<u32, Error> {
        Ok(self.done)
    }

    #[mysql_lock(name = "pin")]
    fn by_pin(self: Pin<&mut Self>) -> Result<u32, Error> {
        Ok(self.done)
    }
}

struct Wrapper<T>(T);

impl<T: Clone> Wrapper<T> {
    // The static in the body names no parameter of the impl either.
    #[mysql_lock(name = "generic-impl")]
    fn get(&self) -> Result<T, Error> {
        Ok(self.0.clone())
    }
}

trait Job {
    // A default body can be locked; the implementations inherit it.
    #[mysql_lock(name = "trait-default")]
    fn run(&self) -> Result<(), Error> {
        Ok(())
    }

    fn name(&self) -> Result<String, Error>;
}

impl Job for Worker {
    #[mysql_lock(name = "trait-impl")]
    fn name(&self) -> Result<String, Error> {
        Ok(String::from("worker"))
    }
}

pub(crate) fn main() {
    let _ = Worker::new;
    let _ = Worker::by_ref;
    let _ = Worker::by_mut;
    let _ = Worker::by_value;
    let _ = Worker::by_mut_value;
    let _ = Worker::by_box;
    let _ = Worker::by_rc;
    let _ = Worker::by_arc;
    let _ = Worker::by_pin;
    let _ = <Worker as Job>::run;
    let _ = <Worker as Job>::name;
    let _ = Wrapper::<u8>::get;
}
