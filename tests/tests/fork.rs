//! After a `fork()`, the child never uses, releases or closes a connection
//! of its parent: its first lock opens its own, and the guards it inherited
//! are inert. Tested with a real `fork()`; the only test of its binary, so
//! that no other test's thread is inside the library when it forks.

use mysql_lock::{Error, Lock};
use std::time::Duration;

/// What the child checks; its exit code says which check failed.
fn child(lock: &Lock, inherited: mysql_lock::LockGuard, parent_conns: &[u64]) -> i32 {
    // The parent holds the lock: the child is another holder and must not
    // get it (the server would see the parent's session re-take it).
    match lock.try_acquire() {
        Ok(None) => {}
        Ok(Some(guard)) => {
            eprintln!(
                "child: got the parent's lock on connection {}",
                guard.connection_id()
            );
            std::mem::forget(guard);
            return 10;
        }
        Err(err) => {
            eprintln!("child: try_acquire failed: {err}");
            return 11;
        }
    }
    // The inherited guard is not the child's: lost here, and its release
    // touches nothing.
    if !inherited.is_lost() {
        eprintln!("child: the inherited guard claims to hold the lock");
        return 12;
    }
    if !matches!(inherited.release(), Err(Error::LockLost { .. })) {
        return 13;
    }
    // A lock of its own works, on a connection of its own (not the
    // parent's busy one, nor its idle pooled one).
    let own = Lock::new(testkit::unique("fork-child"));
    match own.acquire() {
        Ok(guard) if !parent_conns.contains(&guard.connection_id()) => {
            if guard.release().is_err() {
                return 14;
            }
        }
        Ok(guard) => {
            eprintln!(
                "child: used the parent's connection {}",
                guard.connection_id()
            );
            std::mem::forget(guard);
            return 15;
        }
        Err(err) => {
            eprintln!("child: its own lock failed: {err}");
            return 16;
        }
    }
    0
}

#[test]
#[allow(unsafe_code)]
fn a_forked_child_never_uses_its_parents_connections() {
    testkit::setup();
    // An idle pooled connection, opened by another thread of the parent.
    let idle_conn = std::thread::spawn(|| {
        let guard = Lock::new(testkit::unique("fork-idle")).acquire().unwrap();
        let id = guard.connection_id();
        guard.release().unwrap();
        id
    })
    .join()
    .unwrap();
    let lock = Lock::new(testkit::unique("fork"));
    let guard = lock.acquire().unwrap();
    let held_on = guard.connection_id();
    let server_name = lock.server_name().unwrap().to_owned();

    // SAFETY: the child only runs this test's code and exits with _exit;
    // the other threads of this binary (the monitor) hold no lock the
    // child needs for long, and an alarm ends a child that would hang.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        unsafe { libc::alarm(20) };
        let code = child(&lock, guard, &[held_on, idle_conn]);
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(
        libc::WIFEXITED(status),
        "the child did not exit normally (status {status})"
    );
    assert_eq!(libc::WEXITSTATUS(status), 0, "the child's check failed");

    // The parent still holds its lock, on its connection, and can use and
    // release it: the child neither released it nor closed the session.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(testkit::holder(&server_name), Some(held_on));
    assert!(!guard.is_lost());
    guard.verify().unwrap();
    guard.release().unwrap();
    assert_eq!(testkit::holder(&server_name), None);
    // And its idle pooled connection is still usable.
    Lock::new(testkit::unique("fork-after"))
        .acquire()
        .unwrap()
        .release()
        .unwrap();
}

/// A parent that dies without a word (SIGKILL) while its child lives on:
/// the child closed its copies of the parent's sockets, so the server sees
/// the parent's connection end and frees its lock at once, not when the
/// child exits.
#[test]
fn a_crashed_parents_lock_is_freed_while_its_child_lives() {
    use std::io::BufRead;
    testkit::setup();
    let name = testkit::unique("fork-crash");
    let server_name = Lock::new(name.as_str()).server_name().unwrap().to_owned();
    let mut parent = std::process::Command::new(env!("CARGO_BIN_EXE_lock-helper"))
        .args(["fork-then-die", testkit::url(), &name])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(parent.stdout.take().unwrap()).lines();
    let held: u64 = lines
        .next()
        .unwrap()
        .unwrap()
        .strip_prefix("held ")
        .unwrap()
        .parse()
        .unwrap();
    let child: i32 = lines
        .next()
        .unwrap()
        .unwrap()
        .strip_prefix("child ")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(testkit::holder(&server_name), Some(held));
    let status = parent.wait().unwrap();
    assert!(!status.success(), "the parent was to die by SIGKILL");
    let died = std::time::Instant::now();
    // The child still lives (5 s); the lock is free well before.
    while testkit::holder(&server_name).is_some() && died.elapsed() < Duration::from_secs(4) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let freed = died.elapsed();
    #[allow(unsafe_code)]
    let child_alive = unsafe { libc::kill(child, 0) } == 0;
    testkit::report(&format!(
        "a SIGKILLed parent's lock was freed {freed:?} after its death (child alive: {child_alive})"
    ));
    assert!(
        child_alive,
        "the child exited early: the test proves nothing"
    );
    assert_eq!(
        testkit::holder(&server_name),
        None,
        "still held {freed:?} later"
    );
}
