// Once bound, a local named like a function is the local: calling it is no
// call of the function, in its scope only.
#![allow(dead_code, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    #[mysql_lock(name = "report")]
    pub fn report(export: fn() -> u32) -> Result<u32, Error> {
        let total = export();
        let count = |n: u32| n + 1;
        let mut sum = count(total);
        for count in [count] {
            sum += count(1);
        }
        Ok(sum)
    }

    #[mysql_lock(name = "report")]
    fn export() -> Result<u32, Error> {
        Ok(1)
    }

    #[mysql_lock(name = "report")]
    fn count() -> Result<u32, Error> {
        Ok(1)
    }
}

pub(crate) fn main() {
    let _ = jobs::report;
}
