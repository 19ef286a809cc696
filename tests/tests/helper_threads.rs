//! Locks belong to threads: a helper thread that the holder starts is
//! another holder, and waits. When a wait times out because the holder is
//! a thread of this same process, the error says so, naming the thread.

use mysql_lock::{mysql_lock, Error};
use std::time::Duration;

#[mysql_lock(name = "helper-threads-report", timeout = 0.3)]
fn report_part() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "helper-threads-report", timeout = 5)]
fn report() -> Result<Result<(), Error>, Error> {
    // A scoped helper thread calling a function with the same lock: it is
    // another holder, so it waits for this thread, which waits for it.
    Ok(std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("report-helper".into())
            .spawn_scoped(scope, report_part)
            .unwrap()
            .join()
            .unwrap()
    }))
}

#[test]
fn a_helper_threads_timeout_names_the_holder_in_this_process() {
    testkit::setup();
    let inner = std::thread::Builder::new()
        .name("report-runner".into())
        .spawn(report)
        .unwrap()
        .join()
        .unwrap()
        .expect("the outer call holds the lock");
    let err = inner.expect_err("the helper can't take its holder's lock");
    let message = err.to_string();
    match &err {
        Error::Timeout {
            timeout, holder, ..
        } => {
            assert_eq!(*timeout, Duration::from_millis(300));
            let thread = holder
                .as_deref()
                .and_then(|holder| holder.thread.as_deref())
                .expect("the holder is in this process");
            assert!(thread.contains("report-runner"), "{thread}");
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(
        message.contains("the holder is in this process"),
        "{message}"
    );
    assert!(message.contains("thread `report-runner`"), "{message}");
    testkit::report(&format!("a helper thread's timeout says: {message}"));
}
