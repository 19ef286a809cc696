// Valid code that a function's own #[mysql_lock] must accept: creating or
// asking about a `Lock` takes nothing, bindings and `use`s that shadow the
// function's name, calls that may be of another function of the same
// name, code behind `#[cfg]`, macros that don't run their arguments, and
// closures run on another thread.
#![allow(dead_code, unused_variables, clippy::all)]

use mysql_lock::{mysql_lock, Error, Lock};

mod other {
    pub fn job(n: u32) -> u32 {
        n
    }
}

// 1. Only `.acquire()` / `.try_acquire()` takes the lock.
#[mysql_lock(name = "job1")]
fn job1() -> Result<(), Error> {
    let _ = Lock::new("job1").is_held()?;
    let _ = Lock::new("job1").name().len();
    let _ = Lock::new("job1").holding_connection_id()?;
    let _ = Lock::new("job1").server_name()?.len();
    let lock = Lock::new("job1");
    let _ = lock.name();
    let _ = Lock::new("job1")
        .using("replica")
        .wait_forever()
        .try_acquire()?;
    Ok(())
}

// 2. Bindings and `use`s that shadow the function's name.
#[mysql_lock(name = "job2")]
fn job2(job3: &dyn Fn() -> u32) -> Result<u32, Error> {
    let job2 = |x: u32| x + 1;
    let a = job2(2);
    Ok(a + job3())
}

#[mysql_lock(name = "job3")]
fn job3() -> Result<u32, Error> {
    use other::job as job3;
    let mut total = 0;
    for job3 in [other::job as fn(u32) -> u32] {
        total += job3(1);
    }
    if let Some(job1) = Some(|| 1) {
        total += job1();
    }
    match Some(|n: u32| n) {
        Some(job1) => total += job1(3),
        None => {}
    }
    let f = |job1: fn() -> u32| job1();
    Ok(total + job3(1))
}

// 3. A trait impl delegating to the inherent method of the same name.
struct W;

trait Job {
    fn run(&self) -> Result<u32, Error>;
    fn make() -> Result<u32, Error>;
}

impl W {
    fn run(&self) -> Result<u32, Error> {
        Ok(1)
    }
    fn make() -> Result<u32, Error> {
        Ok(2)
    }
}

impl Job for W {
    #[mysql_lock(name = "run")]
    fn run(&self) -> Result<u32, Error> {
        self.run()
    }
    #[mysql_lock(name = "make")]
    fn make() -> Result<u32, Error> {
        Self::make()
    }
}

// 5. A bare name in an impl is a free function, never the method.
fn job4() -> Result<(), Error> {
    Ok(())
}

fn job5() -> Result<(), Error> {
    Ok(())
}

impl W {
    #[mysql_lock(name = "job4")]
    fn job4() -> Result<(), Error> {
        job4()
    }
    #[mysql_lock(name = "job5")]
    fn job5() -> Result<(), Error> {
        self::job5()
    }
}

// 6. `#[cfg]`'d code and macros that don't evaluate their arguments.
#[mysql_lock(name = "job6")]
fn job6() -> Result<(), Error> {
    #[cfg(any())]
    {
        job6()?;
    }
    #[cfg(any())]
    let _ = Lock::new("job6").acquire()?;
    let _ = stringify!(job6()?; Lock::new("job6").acquire()?);
    let _ = concat!("job6", "()");
    Ok(())
}

// 7. Closures run on another thread.
#[mysql_lock(name = "job7")]
fn job7() -> Result<(), Error> {
    let handle = std::thread::spawn(|| Lock::new("job7").acquire().map(drop));
    let _ = handle.join();
    std::thread::scope(|scope| {
        let _ = scope.spawn(|| job7());
    });
    let _ = std::thread::Builder::new().spawn(move || job7());
    Ok(())
}

pub(crate) fn main() {
    let _ = job1;
    let _ = job2;
    let _ = job3;
    let _ = <W as Job>::run;
    let _ = <W as Job>::make;
    let _ = W::job4;
    let _ = W::job5;
    let _ = job6;
    let _ = job7;
}
