// The runtime under other names: as a renamed crate, and through a
// re-export, as a framework that wraps mysql_lock would offer it.
extern crate mysql_lock as locks;

mod framework {
    pub use ::mysql_lock as lock_runtime;
}

#[locks::mysql_lock(name = "renamed", crate = "locks")]
fn renamed() -> Result<(), locks::Error> {
    Ok(())
}

#[framework::lock_runtime::mysql_lock(
    name = "re-exported",
    crate = "crate::framework::lock_runtime"
)]
fn re_exported() -> Result<(), framework::lock_runtime::Error> {
    Ok(())
}

#[mysql_lock::mysql_lock(name = "absolute", crate = "::mysql_lock")]
fn absolute() -> Result<(), mysql_lock::Error> {
    Ok(())
}

fn main() {
    let _ = renamed;
    let _ = re_exported;
    let _ = absolute;
}

/// Built as a crate root of its own (an integration test), and run.
#[test]
fn builds() {
    main();
}
