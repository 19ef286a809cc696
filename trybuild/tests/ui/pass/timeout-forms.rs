use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "once", timeout = 0)]
fn try_once() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "two-seconds", timeout = 2)]
fn two_seconds() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "half-a-second", timeout = 0.5)]
fn half_a_second() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "forever", timeout = "forever")]
fn forever() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "long", timeout = 86_400, using = "default")]
fn a_day() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(timeout = 1e-3, name = "any-order")]
fn a_millisecond() -> Result<(), Error> {
    Ok(())
}

pub(crate) fn main() {
    let _ = try_once;
    let _ = two_seconds;
    let _ = half_a_second;
    let _ = forever;
    let _ = a_day;
    let _ = a_millisecond;
}
