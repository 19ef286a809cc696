// Items are visible throughout their block, also to what comes before
// them; the expansion must not split a body's items from its statements.

use mysql_lock::{mysql_lock, Error};

#[mysql_lock(name = "items")]
fn uses_later_items() -> Result<u32, Error> {
    fn first() -> u32 {
        second() + N.0
    }
    let value = first();
    fn second() -> u32 {
        1
    }
    const N: Later = Later(3);
    struct Later(u32);
    Ok(value)
}

pub(crate) fn main() {
    let _ = uses_later_items;
}
