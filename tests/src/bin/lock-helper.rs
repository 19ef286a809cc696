//! The competing process of the cross-process tests.
//!
//! `lock-helper exclusive URL NAME ITERATIONS MARKER`: takes the lock
//! ITERATIONS times; while holding, creates MARKER with `create_new` (which
//! fails if another holder's marker exists), sleeps briefly, removes it.
//! Prints `overlaps=N acquired=N` and exits 0.
//!
//! `lock-helper counter URL NAME ITERATIONS TABLE [ROW]`: takes the lock
//! ITERATIONS times; while holding, reads the row `ROW` (default: NAME) of
//! TABLE and
//! writes it back plus one, without a transaction (a lost update whenever
//! two holders overlap). Prints `acquired=N`.
//!
//! `lock-helper hold URL NAME SECONDS`: takes the lock, prints `held ID`,
//! holds it SECONDS, releases, prints `released`; on failure prints
//! `error: MESSAGE` and exits 1.
//!
//! A URL of `-` registers nothing: the default alias then comes from the
//! `DATABASE_URL` environment variable.

use std::fs::OpenOptions;
use std::io::Write;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| {
        args.get(i)
            .unwrap_or_else(|| panic!("missing argument {i}: see the source"))
    };
    // "-": don't register; the default alias then comes from DATABASE_URL.
    if arg(2) != "-" {
        mysql_lock::register("default", arg(2)).expect("register");
    }
    let lock = mysql_lock::Lock::new(arg(3).as_str()).timeout(Duration::from_secs(60));
    match arg(1).as_str() {
        "exclusive" => {
            let iterations: u32 = arg(4).parse().expect("iterations");
            let marker = arg(5);
            let (mut overlaps, mut acquired) = (0, 0);
            for _ in 0..iterations {
                let guard = lock.acquire().expect("acquire");
                acquired += 1;
                match OpenOptions::new().write(true).create_new(true).open(marker) {
                    Ok(_) => {
                        std::thread::sleep(Duration::from_micros(200));
                        std::fs::remove_file(marker).expect("remove marker");
                    }
                    Err(_) => overlaps += 1,
                }
                guard.release().expect("release");
            }
            println!("overlaps={overlaps} acquired={acquired}");
        }
        "counter" => {
            use mysql::prelude::Queryable;
            let iterations: u32 = arg(4).parse().expect("iterations");
            let table = arg(5);
            let mut data =
                mysql::Conn::new(mysql::Opts::from_url(arg(2)).expect("url")).expect("connect");
            let select = format!("SELECT n FROM {table} WHERE name = ?");
            let update = format!("UPDATE {table} SET n = ? WHERE name = ?");
            let row = args.get(6).unwrap_or(arg(3));
            for _ in 0..iterations {
                let guard = lock.acquire().expect("acquire");
                let n: u64 = data
                    .exec_first(&select, (row,))
                    .expect("read")
                    .expect("row");
                std::thread::sleep(Duration::from_micros(50));
                data.exec_drop(&update, (n + 1, row)).expect("write");
                guard.release().expect("release");
            }
            println!("acquired={iterations}");
        }
        "hold" => {
            let seconds: f64 = arg(4).parse().expect("seconds");
            let guard = match lock.acquire() {
                Ok(guard) => guard,
                Err(err) => {
                    println!("error: {err}");
                    std::process::exit(1);
                }
            };
            println!("held {}", guard.connection_id());
            std::io::stdout().flush().expect("flush");
            std::thread::sleep(Duration::from_secs_f64(seconds));
            guard.release().expect("release");
            println!("released");
        }
        other => panic!("unknown mode {other:?}"),
    }
}
