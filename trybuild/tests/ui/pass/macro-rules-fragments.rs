use mysql_lock::{mysql_lock, Error};

// Arguments passed through macro_rules! fragments arrive wrapped in
// invisible groups.
macro_rules! locked {
    ($fn_name:ident, $lock_name:literal, $timeout:expr) => {
        #[mysql_lock(name = $lock_name, timeout = $timeout)]
        fn $fn_name() -> Result<(), Error> {
            Ok(())
        }
    };
}

locked!(first, "first", 1);
locked!(second, "second", "forever");

pub(crate) fn main() {
    let _ = first;
    let _ = second;
}
