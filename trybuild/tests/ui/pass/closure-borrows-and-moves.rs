// The body runs in a closure between taking and releasing the lock: it
// may still return borrows of `self` and of the arguments, and move them.
use mysql_lock::{mysql_lock, Error};

struct Counter {
    count: u32,
    name: String,
    history: Vec<u32>,
}

impl Counter {
    // A reborrow of `&mut self`, returned.
    #[mysql_lock(name = "reborrow")]
    fn count_mut(&mut self) -> Result<&mut u32, Error> {
        self.count += 1;
        Ok(&mut self.count)
    }

    // The same, through an early return and a method call.
    #[mysql_lock(name = "reborrow-early")]
    fn last_or_count(&mut self) -> Result<&mut u32, Error> {
        if self.history.is_empty() {
            return Ok(&mut self.count);
        }
        Ok(self.history.last_mut().expect("not empty"))
    }

    // `self` moved out whole, then taken apart.
    #[mysql_lock(name = "move-self")]
    fn into_parts(self) -> Result<(String, Vec<u32>), Error> {
        let Self { name, history, .. } = self;
        Ok((name, history))
    }

    // `self` moved out field by field.
    #[mysql_lock(name = "move-fields")]
    fn into_name(self) -> Result<String, Error> {
        drop(self.history);
        Ok(self.name)
    }

    // `mut self`, changed, then returned.
    #[mysql_lock(name = "move-mut-self")]
    fn renamed(mut self, name: String) -> Result<Self, Error> {
        self.name = name;
        Ok(self)
    }
}

// Borrows of arguments, with explicit lifetimes.
#[mysql_lock(name = "borrow-args")]
fn pick<'a, 'b>(items: &'a mut Vec<u32>, key: &'b str) -> Result<&'a mut u32, Error> {
    if items.is_empty() {
        items.push(0);
    }
    let index = key.len() % items.len();
    Ok(&mut items[index])
}

#[mysql_lock(name = "split")]
fn split_once<'text>(text: &'text str, at: char) -> Result<(&'text str, &'text str), Error> {
    Ok(text.split_once(at).unwrap_or((text, "")))
}

// An argument moved into what is returned, another only dropped.
#[mysql_lock(name = "move-args")]
fn join(mut first: Vec<String>, second: Vec<String>, unused: String) -> Result<Vec<String>, Error> {
    first.extend(second);
    let _ = unused.len();
    Ok(first)
}

// Patterns in the arguments.
#[mysql_lock(name = "patterns")]
fn swap(
    (left, right): (String, u32),
    Counter { count, .. }: &Counter,
) -> Result<(u32, String), Error> {
    Ok((right + count, left))
}

pub(crate) fn main() {
    let _ = Counter::count_mut;
    let _ = Counter::last_or_count;
    let _ = Counter::into_parts;
    let _ = Counter::into_name;
    let _ = Counter::renamed;
    let _ = pick;
    let _ = split_once;
    let _ = join;
    let _ = swap;
}
