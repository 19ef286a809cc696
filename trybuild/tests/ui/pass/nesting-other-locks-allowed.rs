// What is not re-entrance: other names (compared as the server compares
// them: "Job" and "job" are two locks), other aliases, locks whose alias
// is only known at run time, nested functions that are never called with
// the lock, and calls of other values.
use mysql_lock::{mysql_lock, Error, Lock};

const REPLICA: &str = "replica";

#[mysql_lock(name = "job")]
fn job() -> Result<(), Error> {
    // Case variants and spacing are other names.
    #[mysql_lock(name = "Job")]
    fn upper() -> Result<(), Error> {
        Ok(())
    }
    #[mysql_lock(name = "job ")]
    fn trailing_space() -> Result<(), Error> {
        Ok(())
    }
    // The same name on another alias.
    #[mysql_lock(name = "job", using = "replica")]
    fn on_replica() -> Result<(), Error> {
        Ok(())
    }
    upper()?;
    trailing_space()?;
    on_replica()?;
    let _ = Lock::new("JOB").try_acquire()?;
    let _ = Lock::new("job").using("replica").try_acquire()?;
    // Not known at compile time: left to the run-time check.
    let _ = Lock::new("job").using(REPLICA).try_acquire()?;
    let name = String::from("job");
    let _ = Lock::new(name).try_acquire()?;
    Ok(())
}

struct Node {
    children: Vec<Node>,
}

impl Node {
    // `child.count()` is a call on another value: not followed (the
    // run-time check refuses it at once).
    #[mysql_lock(name = "nodes")]
    fn count(&self) -> Result<usize, Error> {
        let mut total = 1;
        for child in &self.children {
            total += child.count()?;
        }
        Ok(total)
    }

    // A free function named like the method: not a call of itself.
    #[mysql_lock(name = "nodes-build")]
    fn build(&self) -> Result<usize, Error> {
        build(self.children.len())
    }
}

fn build(n: usize) -> Result<usize, Error> {
    Ok(n)
}

// Recursion without the lock: the locked function calls a helper that
// recurses.
#[mysql_lock(name = "walk")]
fn walk(depth: u32) -> Result<u32, Error> {
    fn descend(depth: u32) -> u32 {
        if depth == 0 {
            0
        } else {
            1 + descend(depth - 1)
        }
    }
    Ok(descend(depth))
}

pub(crate) fn main() {
    let _ = job;
    let _ = Node::count;
    let _ = Node::build;
    let _ = walk;
}
