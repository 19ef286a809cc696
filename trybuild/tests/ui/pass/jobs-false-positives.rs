// Valid code that `#[mysql_lock::jobs]` must accept: the same cases as
// `nesting-false-positives.rs`, across the functions of a module.
#![allow(dead_code, unused_variables, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error, Lock};

    mod other {
        pub fn job(n: u32) -> u32 {
            n
        }
    }

    // 1. Creating or asking about a `Lock` takes nothing; `try_acquire`
    // never waits, so takes no part in a lock-order inversion.
    #[mysql_lock(name = "a")]
    pub fn holds_a() -> Result<(), Error> {
        let _ = Lock::new("b").try_acquire()?;
        let _ = Lock::new("a").is_held()?;
        let lock = Lock::new("a");
        asks_about_a()
    }

    fn asks_about_a() -> Result<(), Error> {
        let _ = Lock::new("a").holding_connection_id()?;
        let _ = Lock::new("a").name();
        let _ = Lock::new("a").using("replica").acquire()?;
        Ok(())
    }

    #[mysql_lock(name = "b")]
    pub fn holds_b() -> Result<(), Error> {
        let _ = Lock::new("a").try_acquire()?;
        Ok(())
    }

    // 2. Bindings that shadow a function of the module.
    #[mysql_lock(name = "c")]
    pub fn job(job2: &dyn Fn() -> u32) -> Result<u32, Error> {
        let job = |x: u32| x + 1;
        Ok(job(2) + job2())
    }

    #[mysql_lock(name = "c")]
    pub fn job2() -> Result<u32, Error> {
        use other::job;
        Ok(job(1))
    }

    // 3 and 4. A trait impl delegating to the inherent method of the same
    // name; methods of one name on types of one name.
    pub struct W<T>(T);

    pub trait Job {
        fn run(&self) -> Result<u32, Error>;
    }

    impl<T> W<T> {
        pub fn run(&self) -> Result<u32, Error> {
            Ok(1)
        }
    }

    impl<T> Job for W<T> {
        #[mysql_lock(name = "run")]
        fn run(&self) -> Result<u32, Error> {
            self.run()
        }
    }

    pub struct V<T>(T);

    impl V<u8> {
        #[mysql_lock(name = "v")]
        pub fn start(&self) -> Result<(), Error> {
            V::<u16>::finish()
        }
    }

    impl V<u16> {
        pub fn finish() -> Result<(), Error> {
            Ok(())
        }
    }

    impl V<u8> {
        #[mysql_lock(name = "v")]
        pub fn finish() -> Result<(), Error> {
            Ok(())
        }
    }

    // 5. A bare name or `self::` in an impl is the free function.
    pub fn job4() -> Result<(), Error> {
        Ok(())
    }

    pub fn job5() -> Result<(), Error> {
        Ok(())
    }

    impl W<u8> {
        #[mysql_lock(name = "job4")]
        pub fn job4() -> Result<(), Error> {
            job4()
        }

        #[mysql_lock(name = "job5")]
        pub fn job5() -> Result<(), Error> {
            self::job5()
        }
    }

    // 6. `#[cfg]`'d code and macros that don't run their arguments.
    #[mysql_lock(name = "d")]
    pub fn six() -> Result<(), Error> {
        #[cfg(any())]
        takes_d()?;
        let _ = stringify!(takes_d());
        Ok(())
    }

    #[mysql_lock(name = "d")]
    fn takes_d() -> Result<(), Error> {
        Ok(())
    }

    // 7. Closures run on another thread.
    #[mysql_lock(name = "e")]
    pub fn seven() -> Result<(), Error> {
        let _ = std::thread::spawn(takes_e_later).join();
        let _ = std::thread::spawn(|| takes_e()).join();
        Ok(())
    }

    fn takes_e_later() {}

    #[mysql_lock(name = "e")]
    fn takes_e() -> Result<(), Error> {
        Ok(())
    }
}

pub(crate) fn main() {
    let _ = jobs::holds_a;
    let _ = jobs::holds_b;
    let _ = jobs::job;
    let _ = jobs::job2;
    let _ = <jobs::W<u8> as jobs::Job>::run;
    let _ = jobs::V::<u8>::start;
    let _ = jobs::W::<u8>::job4;
    let _ = jobs::W::<u8>::job5;
    let _ = jobs::six;
    let _ = jobs::seven;
}
