// `Self` in the body of methods and associated functions of a generic
// impl, and of a trait's default method.
use mysql_lock::{mysql_lock, Error};

#[derive(Debug, Clone, Default)]
struct Stack<T> {
    items: Vec<T>,
}

impl<T: Clone + Default> Stack<T> {
    const LIMIT: usize = 8;

    #[mysql_lock(name = "stack-new")]
    fn new() -> Result<Self, Error> {
        let empty: Self = Self { items: Vec::new() };
        Ok(Self::with(empty, T::default()))
    }

    fn with(mut self, item: T) -> Self {
        self.items.push(item);
        self
    }

    #[mysql_lock(name = "stack-push")]
    fn push(&mut self, item: T) -> Result<&mut Self, Error> {
        if self.items.len() >= Self::LIMIT {
            return Ok(self);
        }
        self.items.push(item);
        Ok(self)
    }

    #[mysql_lock(name = "stack-split")]
    fn split(self) -> Result<(Self, Self), Error>
    where
        T: PartialEq,
    {
        let half = self.items.len() / 2;
        let Self { mut items } = self;
        let tail = items.split_off(half);
        Ok((Self { items }, Stack::<T> { items: tail }))
    }
}

trait Job: Sized {
    fn label(&self) -> String;

    #[mysql_lock(name = "job-default")]
    fn describe(&self) -> Result<String, Error> {
        let me: &Self = self;
        Ok(Self::label(me))
    }
}

impl<T> Job for Stack<T> {
    fn label(&self) -> String {
        format!("stack of {}", self.items.len())
    }
}

pub(crate) fn main() {
    let _ = Stack::<u8>::new;
    let _ = Stack::<u8>::push;
    let _ = Stack::<u8>::split;
    let _ = <Stack<u8> as Job>::describe;
}
