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
//! `lock-helper fenced URL NAME ITERATIONS TABLE`: like `counter`, under
//! faults: the write is fenced by the lock (`... WHERE IS_USED_LOCK(name) =
//! <our connection id>`, so a holder that lost its lock can't write), made
//! on a data connection to `DATA_URL`, and failures are counted instead of
//! fatal. The lock waits `LOCK_TIMEOUT_MS` (default 3000); checks run every
//! `CHECK_MS` (default 100), statements are bounded by `READ_TIMEOUT_MS`
//! (default 1000); each hold lasts `HOLD_MS` (default 2). Prints `acquired=N accepted=N rejected=N lost=N
//! rejected_not_lost=N errors=N`.
//!
//! `lock-helper min-hold URL NAME SECONDS STAY_MS`: takes the lock with a
//! minimum hold time of SECONDS, releases it at once, prints `released MS`
//! (how long the release took), stays STAY_MS, prints `exiting`, exits.
//!
//! `lock-helper fork-then-die URL NAME`: takes the lock, prints `held ID`,
//! forks a child that uses the library (another lock), prints `child PID`
//! and lives 5 s more; then the parent kills itself with SIGKILL, as a
//! crash would: no release, no `COM_QUIT`.
//!
//! `lock-helper scheduled URL NAME STAY_MS`: calls a job annotated with
//! `#[mysql_lock(name = "{name}", if_busy = "skip", min_hold = 1.5)]`
//! (NAME as `name`), prints `ran MS` (how long the call took after its
//! body ended) or `skipped`, stays STAY_MS, prints `exiting`, exits.
//!
//! `lock-helper hold URL NAME SECONDS`: takes the lock, prints `held ID`,
//! holds it SECONDS, releases, prints `released`; on failure prints
//! `error: MESSAGE` and exits 1.
//!
//! A URL of `-` registers nothing: the default alias then comes from the
//! `DATABASE_URL` environment variable.

use std::fs::OpenOptions;
use std::io::Write;
use std::time::{Duration, Instant};

/// A scheduled job as a fleet runs it: once per period (here 1.5 s) on
/// whichever machine gets there first. Returns when its body ended.
#[mysql_lock::mysql_lock(name = "{name}", if_busy = "skip", min_hold = 1.5)]
fn scheduled(name: &str) -> Result<Option<Instant>, mysql_lock::Error> {
    Ok(Some(Instant::now()))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| {
        args.get(i)
            .unwrap_or_else(|| panic!("missing argument {i}: see the source"))
    };
    let env_ms = |var: &str, default: u64| {
        Duration::from_millis(
            std::env::var(var)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default),
        )
    };
    // "-": don't register; the default alias then comes from DATABASE_URL.
    if arg(1) == "fenced" {
        let opts = mysql::Opts::from_url(arg(2)).expect("url");
        let opts =
            mysql::OptsBuilder::from_opts(opts).read_timeout(Some(env_ms("READ_TIMEOUT_MS", 1000)));
        mysql_lock::register_opts("default", opts.into()).expect("register");
        mysql_lock::set_check_interval(env_ms("CHECK_MS", 100));
    } else if arg(2) != "-" {
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
        "fenced" => {
            use mysql::prelude::Queryable;
            let iterations: u32 = arg(4).parse().expect("iterations");
            let table = arg(5);
            let lock = lock.timeout(env_ms("LOCK_TIMEOUT_MS", 3000));
            let server_name = lock.server_name().expect("name").to_owned();
            let data_url = std::env::var("DATA_URL").expect("DATA_URL");
            let mut data =
                mysql::Conn::new(mysql::Opts::from_url(&data_url).expect("url")).expect("connect");
            let select = format!("SELECT n FROM {table} WHERE name = ?");
            let update = format!("UPDATE {table} SET n = ? WHERE name = ? AND IS_USED_LOCK(?) = ?");
            let row = arg(3);
            let (mut acquired, mut accepted, mut rejected) = (0, 0, 0);
            let (mut lost, mut rejected_not_lost, mut errors) = (0, 0, 0);
            for _ in 0..iterations {
                let guard = match lock.acquire() {
                    Ok(guard) => guard,
                    Err(err) => {
                        eprintln!("acquire: {err}");
                        errors += 1;
                        continue;
                    }
                };
                acquired += 1;
                let n: u64 = data
                    .exec_first(&select, (row,))
                    .expect("read")
                    .expect("row");
                std::thread::sleep(env_ms("HOLD_MS", 2));
                data.exec_drop(&update, (n + 1, row, &server_name, guard.connection_id()))
                    .expect("write");
                let written = data.affected_rows() == 1;
                if written {
                    accepted += 1;
                } else {
                    rejected += 1;
                }
                match guard.release() {
                    Ok(()) => {
                        if !written {
                            rejected_not_lost += 1;
                        }
                    }
                    Err(mysql_lock::Error::LockLost { .. }) => lost += 1,
                    Err(err) => {
                        eprintln!("release: {err}");
                        errors += 1;
                    }
                }
            }
            println!(
                "acquired={acquired} accepted={accepted} rejected={rejected} lost={lost} \
                 rejected_not_lost={rejected_not_lost} errors={errors}"
            );
        }
        "min-hold" => {
            let seconds: f64 = arg(4).parse().expect("seconds");
            let stay: u64 = arg(5).parse().expect("stay ms");
            let guard = lock
                .min_hold(Duration::from_secs_f64(seconds))
                .acquire()
                .expect("acquire");
            let started = std::time::Instant::now();
            guard.release().expect("release");
            println!("released {}", started.elapsed().as_millis());
            std::io::stdout().flush().expect("flush");
            std::thread::sleep(Duration::from_millis(stay));
            println!("exiting");
        }
        "fork-then-die" => {
            let guard = lock.acquire().expect("acquire");
            println!("held {}", guard.connection_id());
            std::io::stdout().flush().expect("flush");
            // SAFETY: the child runs only library calls and exits with _exit.
            #[allow(unsafe_code)]
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                let own = mysql_lock::Lock::new(format!("{}-child", arg(3)));
                let _ = own.acquire().map(drop);
                std::thread::sleep(Duration::from_secs(5));
                #[allow(unsafe_code)]
                unsafe {
                    libc::_exit(0)
                };
            }
            println!("child {pid}");
            std::io::stdout().flush().expect("flush");
            // Let the child touch the library first.
            std::thread::sleep(Duration::from_millis(500));
            #[allow(unsafe_code)]
            unsafe {
                libc::raise(libc::SIGKILL);
            }
            drop(guard);
        }
        "scheduled" => {
            let stay: u64 = arg(4).parse().expect("stay ms");
            match scheduled(arg(3)).expect("scheduled") {
                Some(ended) => println!("ran {}", ended.elapsed().as_millis()),
                None => println!("skipped"),
            }
            std::io::stdout().flush().expect("flush");
            std::thread::sleep(Duration::from_millis(stay));
            println!("exiting");
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
