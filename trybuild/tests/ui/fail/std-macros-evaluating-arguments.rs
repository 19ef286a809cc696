// The standard macros that evaluate their arguments are read: `matches!`
// (its guard too), `assert!(matches!(..))`, `format_args!`, `unreachable!`,
// `todo!`, `debug_assert!`, `write!`.
#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};
    use std::fmt::Write as _;

    #[mysql_lock(name = "audit")]
    fn audit() -> Result<u32, Error> {
        Ok(1)
    }

    #[mysql_lock(name = "audit")]
    pub fn check(kind: Option<u32>) -> Result<(), Error> {
        assert!(matches!(audit(), Ok(_)));
        let _ = matches!(kind, Some(n) if audit().is_ok_and(|m| m == n));
        let mut out = String::new();
        let _ = write!(out, "{}", format_args!("{:?}", audit()));
        debug_assert!(audit().is_ok());
        if kind.is_none() {
            unreachable!("{:?}", audit());
        }
        if kind == Some(0) {
            todo!("{:?}", audit());
        }
        Ok(())
    }
}

fn main() {
    let _ = jobs::check;
}
