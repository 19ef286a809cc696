// Bodies with async blocks, nested closures that `return`, and items
// declared anywhere in them.
use mysql_lock::{mysql_lock, Error};
use std::future::Future;

// Async blocks (and an async closure) inside a sync function. (Returning
// the future would be refused: it would run after the lock is released.)
#[mysql_lock(name = "async-blocks")]
fn make_future(base: u32) -> Result<usize, Error> {
    fn size(future: &impl Future<Output = u32>) -> usize {
        std::mem::size_of_val(future)
    }
    let add = async move |n: u32| n + base;
    let inner = async { 1 };
    Ok(size(&async move { add(inner.await).await }))
}

// `return` in nested closures returns from those closures only.
#[mysql_lock(name = "nested-closures")]
fn nested(values: &[i32]) -> Result<Vec<i32>, Error> {
    let clamp = |v: i32| {
        if v < 0 {
            return 0;
        }
        let double = || -> Option<i32> {
            let doubled = v.checked_mul(2)?;
            return Some(doubled);
        };
        double().unwrap_or(i32::MAX)
    };
    if values.is_empty() {
        return Ok(Vec::new());
    }
    Ok(values.iter().copied().map(clamp).collect())
}

// Items declared in the body, before and after statements, and used.
#[mysql_lock(name = "items")]
fn with_items(input: &str) -> Result<Point, Error> {
    use std::str::FromStr as _;
    const ORIGIN: i64 = 0;
    let x = i64::from_str(input).unwrap_or(ORIGIN);
    #[derive(Debug)]
    struct Scale(i64);
    fn scaled(Scale(by): &Scale, x: i64) -> i64 {
        x * by
    }
    use std::convert::identity;
    const FACTOR: Scale = Scale(3);
    static OFFSET: i64 = 1;
    macro_rules! point {
        ($x:expr) => {
            Point {
                x: $x,
                y: identity(OFFSET),
            }
        };
    }
    Ok(point!(scaled(&FACTOR, x)))
}

#[derive(Debug)]
struct Point {
    x: i64,
    y: i64,
}

// Labels and `break` with a value.
#[mysql_lock(name = "labels")]
fn find(grid: &[Vec<u8>], wanted: u8) -> Result<Option<(usize, usize)>, Error> {
    let found = 'search: {
        for (row, cells) in grid.iter().enumerate() {
            for (column, &cell) in cells.iter().enumerate() {
                if cell == wanted {
                    break 'search Some((row, column));
                }
            }
        }
        None
    };
    Ok(found)
}

pub(crate) fn main() {
    let _ = make_future;
    let _ = nested;
    let _ = with_items;
    let _ = find;
    let _ = |p: Point| (p.x, p.y);
}
