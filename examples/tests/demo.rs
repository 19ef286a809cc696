//! The README's first quick-start command, `cargo run --bin demo`, works
//! and shows what it promises.

#[test]
fn the_demo_runs_workers_one_at_a_time() {
    // The demo reads DATABASE_URL, as the library does; the test kit finds
    // (or starts) the server the other tests use.
    let stdout = mysql_lock_examples::run_demo(env!("CARGO_BIN_EXE_demo"), testkit::url());
    assert!(
        stdout.contains("3 workers ran the job one after another, 1 skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no two ever ran it at the same time"),
        "{stdout}"
    );
    assert!(stdout.contains("after waiting"), "{stdout}");
    // Printed in time order: the timestamps never go back.
    let stamps = mysql_lock_examples::timeline_stamps(&stdout);
    assert!(stamps.len() >= 10, "{stdout}");
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{stdout}");
}
