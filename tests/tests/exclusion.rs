//! Mutual exclusion: no two holders ever overlap, across threads and
//! across processes.

use mysql_lock::Lock;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn threads_never_overlap() {
    testkit::setup();
    let name = testkit::unique("threads");
    let inside = Arc::new(AtomicBool::new(false));
    let overlaps = Arc::new(AtomicUsize::new(0));
    let acquired = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (inside, overlaps, acquired) = (inside.clone(), overlaps.clone(), acquired.clone());
            let lock = Lock::new(name.as_str()).timeout(Duration::from_secs(30));
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let guard = lock.acquire().expect("acquire");
                    if inside.swap(true, Ordering::SeqCst) {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    std::thread::sleep(Duration::from_micros(100));
                    inside.store(false, Ordering::SeqCst);
                    acquired.fetch_add(1, Ordering::SeqCst);
                    guard.release().expect("release");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("worker thread");
    }
    assert_eq!(acquired.load(Ordering::SeqCst), 400);
    assert_eq!(
        overlaps.load(Ordering::SeqCst),
        0,
        "two threads held the lock at once"
    );
    assert_eq!(
        testkit::holder(Lock::new(name.as_str()).server_name().unwrap()),
        None
    );
}

#[test]
fn processes_never_overlap() {
    let url = testkit::setup();
    let name = testkit::unique("processes");
    let marker = std::env::temp_dir().join(format!("{name}.marker"));
    let _ = std::fs::remove_file(&marker);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_lock-helper"))
                .args(["exclusive", url, &name, "40"])
                .arg(&marker)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("spawn lock-helper")
        })
        .collect();
    let mut total = 0;
    for child in handles {
        let out = child.wait_with_output().expect("lock-helper output");
        assert!(out.status.success(), "lock-helper failed: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("overlaps=0 "),
            "a process saw an overlap: {text}"
        );
        total += text
            .trim()
            .rsplit('=')
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .expect("acquired count");
    }
    assert_eq!(total, 160);
    assert!(!marker.exists());
}
