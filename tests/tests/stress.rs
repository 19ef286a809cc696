//! Stress: several processes take the same lock many times around a shared
//! non-atomic counter (a row read and written back without a transaction).
//! Any overlap loses an update, so the final count equals the number of
//! acquisitions only if no two holders ever overlapped.

use mysql::prelude::Queryable;
use mysql_lock as _;
use std::process::{Command, Stdio};
use std::time::Instant;

const PROCESSES: u64 = 4;
const TABLE: &str = "mysql_lock_stress_counter";

/// The final value of the counter row `name`, which is then removed.
fn take_count(admin: &mut mysql::Conn, name: &str) -> u64 {
    let count = admin
        .exec_first(format!("SELECT n FROM {TABLE} WHERE name = ?"), (name,))
        .unwrap()
        .unwrap();
    admin
        .exec_drop(format!("DELETE FROM {TABLE} WHERE name = ?"), (name,))
        .unwrap();
    count
}

/// An observer connection, with the counter row `name` at 0 in [`TABLE`].
fn counter(name: &str) -> mysql::Conn {
    let mut admin = testkit::admin();
    admin
        .query_drop(format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (name VARCHAR(190) PRIMARY KEY, n BIGINT NOT NULL)"
        ))
        .unwrap();
    admin
        .exec_drop(
            format!("INSERT INTO {TABLE} (name, n) VALUES (?, 0)"),
            (name,),
        )
        .unwrap();
    admin
}
const ITERATIONS: u64 = 150;

#[test]
fn processes_around_a_non_atomic_counter_lose_no_update() {
    let url = testkit::setup();
    let name = testkit::unique("stress");
    let table = TABLE;
    let mut admin = counter(&name);

    let started = Instant::now();
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_lock-helper"))
                .args(["counter", url, &name, &ITERATIONS.to_string(), table])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut acquired = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        acquired += text
            .trim()
            .strip_prefix("acquired=")
            .unwrap()
            .parse::<u64>()
            .unwrap();
    }
    let elapsed = started.elapsed();
    let count = take_count(&mut admin, &name);
    testkit::report(&format!(
        "stress: {PROCESSES} processes x {ITERATIONS} iterations: acquisitions={acquired}, \
         final count={count}, {:.0} acquisitions/s",
        acquired as f64 / elapsed.as_secs_f64()
    ));
    assert_eq!(acquired, PROCESSES * ITERATIONS);
    assert_eq!(
        count, acquired,
        "an update was lost: two holders overlapped"
    );
}

/// The figures one `lock-helper fenced` worker printed.
#[derive(Debug, Default)]
struct Tally {
    acquired: u64,
    accepted: u64,
    rejected: u64,
    lost: u64,
    rejected_not_lost: u64,
    errors: u64,
}

impl Tally {
    fn parse(line: &str) -> Tally {
        let mut tally = Tally::default();
        for pair in line.split_whitespace() {
            let (key, value) = pair.split_once('=').expect("key=value");
            let value: u64 = value.parse().expect("a count");
            match key {
                "acquired" => tally.acquired = value,
                "accepted" => tally.accepted = value,
                "rejected" => tally.rejected = value,
                "lost" => tally.lost = value,
                "rejected_not_lost" => tally.rejected_not_lost = value,
                "errors" => tally.errors = value,
                other => panic!("unknown figure {other}"),
            }
        }
        tally
    }
}

/// Faults mid-run: a holder's connection is killed, and one worker's
/// network path (through a proxy) freezes. Writes are fenced by the lock
/// (`IS_USED_LOCK(name) = <the guard's connection id>`), which is how work
/// protected by a user lock stays correct when a holder loses its lock: a
/// holder that lost it can't write, its release says `LockLost`, and no
/// accepted write is ever lost. The frozen worker's session is killed by
/// its own library once it stops answering, so the others go on.
#[test]
fn with_faults_mid_run_no_accepted_update_is_lost() {
    testkit::setup();
    let name = testkit::unique("stress-faults");
    let server_name = mysql_lock::Lock::new(name.as_str())
        .server_name()
        .unwrap()
        .to_owned();
    let table = TABLE;
    let mut admin = counter(&name);
    let proxy = testkit::Proxy::start();
    let direct = format!(
        "mysql://root@{}:{}/test?prefer_socket=false",
        mysql::Opts::from_url(testkit::url())
            .unwrap()
            .get_ip_or_hostname(),
        mysql::Opts::from_url(testkit::url())
            .unwrap()
            .get_tcp_port()
    );
    const WORKERS: usize = 4;
    const FAULTY_ITERATIONS: u64 = 100;
    let started = Instant::now();
    let children: Vec<_> = (0..WORKERS)
        .map(|i| {
            // The last worker reaches the server through the proxy, and
            // holds the lock longer, so that the freeze finds it holding.
            let proxied = i == WORKERS - 1;
            let url = if proxied { proxy.url() } else { direct.clone() };
            Command::new(env!("CARGO_BIN_EXE_lock-helper"))
                .args(["fenced", &url, &name, &FAULTY_ITERATIONS.to_string(), table])
                .env("DATA_URL", &direct)
                .env("HOLD_MS", if proxied { "40" } else { "5" })
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();

    // Fault 1: a direct worker's connection is killed while it holds the
    // lock. Fault 2: the proxied worker's network path freezes while it
    // holds the lock (without the library killing its abandoned session,
    // the server would keep the lock until its wait_timeout).
    let holder_now = |admin: &mut mysql::Conn| -> Option<u64> {
        admin
            .exec_first("SELECT IS_USED_LOCK(?)", (&server_name,))
            .unwrap()
            .flatten()
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (mut killed, mut frozen) = (false, false);
    while !(killed && frozen) && started.elapsed() < std::time::Duration::from_secs(10) {
        let Some(id) = holder_now(&mut admin) else {
            continue;
        };
        if proxy.carries(&mut admin, id) {
            if !frozen {
                proxy.freeze_existing();
                frozen = true;
            }
        } else if !killed && admin.query_drop(format!("KILL CONNECTION {id}")).is_ok() {
            killed = true;
        }
    }
    assert!(
        killed && frozen,
        "the faults were not injected: killed={killed} frozen={frozen}"
    );

    let mut total = Tally::default();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let tally = Tally::parse(String::from_utf8_lossy(&out.stdout).trim());
        testkit::report(&format!("stress with faults, one worker: {tally:?}"));
        total.acquired += tally.acquired;
        total.accepted += tally.accepted;
        total.rejected += tally.rejected;
        total.lost += tally.lost;
        total.rejected_not_lost += tally.rejected_not_lost;
        total.errors += tally.errors;
    }
    let elapsed = started.elapsed();
    let count = take_count(&mut admin, &name);
    testkit::report(&format!(
        "stress with faults: {WORKERS} processes x {FAULTY_ITERATIONS} iterations in \
         {elapsed:?}: {total:?}, final count={count}"
    ));
    assert_eq!(count, total.accepted, "an accepted update was lost");
    assert_eq!(
        total.rejected_not_lost, 0,
        "a write was refused although the release said the lock was held"
    );
    assert!(total.lost >= 1, "the killed holder's loss was not reported");
    assert!(
        total.acquired >= (WORKERS as u64) * FAULTY_ITERATIONS * 9 / 10,
        "the workers did not get on after the faults: {total:?}"
    );
}
