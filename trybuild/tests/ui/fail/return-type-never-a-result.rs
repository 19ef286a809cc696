use mysql_lock::mysql_lock;

#[mysql_lock(name = "reference")]
fn reference() -> &'static str {
    ""
}

#[mysql_lock(name = "tuple")]
fn tuple() -> (u32, u32) {
    (1, 2)
}

#[mysql_lock(name = "opaque")]
fn opaque() -> impl std::fmt::Display {
    1
}

fn main() {
    let _ = (reference, tuple, opaque);
}
