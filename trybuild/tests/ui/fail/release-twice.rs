// A guard is released once: `release` takes it by value, so a second
// release (or a release after a move) does not compile. Dropping it
// releases too, so there is nothing to forget either.

fn main() -> Result<(), mysql_lock::Error> {
    let guard = mysql_lock::Lock::new("job").acquire()?;
    guard.release()?;
    guard.release()?;
    Ok(())
}
