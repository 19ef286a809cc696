//! The README's first quick-start command, `cargo run --bin demo`, works
//! and shows what it promises.

#[test]
fn the_demo_runs_workers_one_at_a_time() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_demo"))
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("3 workers ran the job one after another, 1 skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no two ever ran it at the same time"),
        "{stdout}"
    );
    assert!(stdout.contains("after waiting"), "{stdout}");
}
