// What standard macros don't evaluate is no call: the pattern of
// `matches!`, and macros that don't run their arguments.
#![allow(dead_code, clippy::all)]

#[mysql_lock::jobs]
mod jobs {
    use mysql_lock::{mysql_lock, Error};

    pub enum Kind {
        Audit,
        Other,
    }

    #[mysql_lock(name = "audit")]
    pub fn audit() -> Result<(), Error> {
        Ok(())
    }

    #[mysql_lock(name = "audit")]
    pub fn check(kind: Kind) -> Result<(), Error> {
        let audit = 1;
        let _ = matches!(kind, Kind::Audit | Kind::Other);
        let _ = matches!(Some(2), Some(n) if n > audit);
        let _ = stringify!(audit());
        Ok(())
    }
}

pub(crate) fn main() {
    let _ = jobs::check;
}
