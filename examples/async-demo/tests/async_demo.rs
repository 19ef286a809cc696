//! `cargo run -p mysql-lock-async-demo` works and shows what it promises: tasks of
//! two tokio processes run the job one at a time, one task skips it, and
//! the runtimes keep ticking while their tasks wait.

#[test]
fn the_async_demo_runs_tasks_one_at_a_time() {
    let stdout = mysql_lock_examples::run_demo(env!("CARGO_BIN_EXE_async-demo"), testkit::url());
    // The skipping task looks while a job runs; in the rare case that it
    // lands in the instant between two runs, it runs the job itself.
    assert!(
        stdout.contains("6 workers ran the job one after another, 1 skipped")
            || stdout.contains("7 workers ran the job one after another, 0 skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no two ever ran it at the same time"),
        "{stdout}"
    );
    // Both runtimes ticked while their tasks waited (about 1.5 s in all).
    let ticks: Vec<u32> = stdout
        .lines()
        .filter_map(|line| line.split("ticker ticked ").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(ticks.len(), 2, "{stdout}");
    assert!(ticks.iter().all(|&n| n >= 5), "{stdout}");
    let stamps = mysql_lock_examples::timeline_stamps(&stdout);
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{stdout}");
}
