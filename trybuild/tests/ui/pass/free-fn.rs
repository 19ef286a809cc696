use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "job")]
fn run_job(id: u64) -> Result<u64, Error> {
    Ok(id + 1)
}

#[mysql_lock(name = "unsafe-job")]
unsafe fn run_unsafe_job(pointer: *const u8) -> Result<u8, Error> {
    Ok(*pointer)
}

#[mysql_lock(name = "explicit-rust-abi")]
extern "Rust" fn run_rust_abi_job() -> Result<(), Error> {
    Ok(())
}

pub(crate) fn main() {
    let _: fn(u64) -> Result<u64, Error> = run_job;
    let _: unsafe fn(*const u8) -> Result<u8, Error> = run_unsafe_job;
    let _: fn() -> Result<(), Error> = run_rust_abi_job;
}
