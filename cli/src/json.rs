//! The JSON of `list --json` and `holder --json`: a few objects of strings
//! and numbers, written by hand rather than with a serialization crate.

use mysql_lock::ServerLock;
use std::fmt::Write;

/// A JSON string literal.
fn string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn optional(out: &mut String, text: Option<&str>) {
    match text {
        Some(text) => string(out, text),
        None => out.push_str("null"),
    }
}

/// One lock as a JSON object, on one line.
pub(crate) fn lock(lock: &ServerLock) -> String {
    let mut out = String::from("{\"name\":");
    optional(&mut out, lock.name.as_deref());
    out.push_str(",\"server_name\":");
    string(&mut out, &lock.server_name);
    let _ = write!(
        out,
        ",\"encoded\":{},\"connection_id\":{},\"user\":",
        lock.encoded, lock.connection_id
    );
    optional(&mut out, lock.user.as_deref());
    out.push_str(",\"host\":");
    optional(&mut out, lock.host.as_deref());
    out.push_str(",\"held_for_ms\":");
    match lock.held_for {
        Some(held) => {
            let _ = write!(out, "{}", held.as_millis());
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"attributes\":{");
    for (i, (key, value)) in lock.attributes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(&mut out, key);
        out.push(':');
        string(&mut out, value);
    }
    out.push_str("},\"source\":");
    string(&mut out, &lock.source.to_string());
    out.push('}');
    out
}

/// The locks as a JSON array, one object per line.
pub(crate) fn locks(locks: &[ServerLock]) -> String {
    if locks.is_empty() {
        return "[]\n".to_owned();
    }
    let mut out = String::from("[\n");
    for (i, item) in locks.iter().enumerate() {
        out.push_str("  ");
        out.push_str(&lock(item));
        out.push_str(if i + 1 < locks.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    out
}

#[cfg(test)]
mod tests {
    use super::string;

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
    }
}
