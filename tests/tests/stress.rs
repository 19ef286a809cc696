//! Stress: several processes take the same lock many times around a shared
//! non-atomic counter (a row read and written back without a transaction).
//! Any overlap loses an update, so the final count equals the number of
//! acquisitions only if no two holders ever overlapped.

use mysql::prelude::Queryable;
use std::process::{Command, Stdio};
use std::time::Instant;

const PROCESSES: u64 = 4;
const ITERATIONS: u64 = 150;

#[test]
fn processes_around_a_non_atomic_counter_lose_no_update() {
    let url = testkit::setup();
    let name = testkit::unique("stress");
    let table = "mysql_lock_stress_counter";
    let mut admin = testkit::admin();
    admin
        .query_drop(format!(
            "CREATE TABLE IF NOT EXISTS {table} (name VARCHAR(190) PRIMARY KEY, n BIGINT NOT NULL)"
        ))
        .unwrap();
    admin
        .exec_drop(
            format!("INSERT INTO {table} (name, n) VALUES (?, 0)"),
            (&name,),
        )
        .unwrap();

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
    let count: u64 = admin
        .exec_first(format!("SELECT n FROM {table} WHERE name = ?"), (&name,))
        .unwrap()
        .unwrap();
    admin
        .exec_drop(format!("DELETE FROM {table} WHERE name = ?"), (&name,))
        .unwrap();
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
