//! `#[mysql_lock]` against the live server: exclusion, timeouts as `Err`,
//! every function shape, early exits and panics, other aliases, error types.

use mysql_lock::{mysql_lock, Error};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

static INSIDE: AtomicBool = AtomicBool::new(false);
static OVERLAPS: AtomicUsize = AtomicUsize::new(0);

#[mysql_lock(name = "attr-exclusive", timeout = 30)]
fn exclusive_work() -> Result<(), Error> {
    if INSIDE.swap(true, Ordering::SeqCst) {
        OVERLAPS.fetch_add(1, Ordering::SeqCst);
    }
    thread::sleep(Duration::from_micros(200));
    INSIDE.store(false, Ordering::SeqCst);
    Ok(())
}

#[test]
fn annotated_functions_exclude_each_other_across_threads() {
    testkit::setup();
    let threads: Vec<_> = (0..6)
        .map(|_| thread::spawn(|| (0..30).for_each(|_| exclusive_work().unwrap())))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(OVERLAPS.load(Ordering::SeqCst), 0);
    assert_eq!(testkit::holder("test.attr-exclusive"), None);
}

#[mysql_lock(name = "attr-held", timeout = 0.2)]
fn short_timeout() -> Result<u32, Error> {
    Ok(7)
}

#[mysql_lock(name = "attr-held", timeout = 0)]
fn no_wait() -> Result<u32, Error> {
    Ok(8)
}

#[test]
fn a_held_lock_gives_timeout_as_err_and_the_body_does_not_run() {
    testkit::setup();
    let guard = mysql_lock::Lock::new("attr-held").acquire().unwrap();
    let result = thread::spawn(|| {
        let started = Instant::now();
        (short_timeout(), no_wait(), started.elapsed())
    })
    .join()
    .unwrap();
    assert!(
        matches!(result.0, Err(Error::Timeout { timeout, .. }) if timeout == Duration::from_millis(200))
    );
    assert!(matches!(result.1, Err(Error::Timeout { timeout, .. }) if timeout == Duration::ZERO));
    assert!(
        result.2 >= Duration::from_millis(200) && result.2 < Duration::from_secs(2),
        "{:?}",
        result.2
    );
    // The same thread holding the lock: re-entrance, refused at once.
    assert!(matches!(no_wait(), Err(Error::Reentrant { .. })));
    guard.release().unwrap();
    assert_eq!(short_timeout().unwrap(), 7);
    assert_eq!(no_wait().unwrap(), 8);
}

struct Counter {
    value: u32,
}

impl Counter {
    #[mysql_lock(name = "attr-methods")]
    fn get(&self) -> Result<u32, Error> {
        Ok(self.value)
    }

    #[mysql_lock(name = "attr-methods")]
    fn bump(&mut self, by: u32) -> Result<u32, Error> {
        self.value += by;
        Ok(self.value)
    }

    #[mysql_lock(name = "attr-methods")]
    fn into_value(self) -> Result<u32, Error> {
        Ok(self.value)
    }

    #[allow(clippy::boxed_local)] // the receiver shape is the point here
    #[mysql_lock(name = "attr-methods")]
    fn boxed(self: Box<Self>) -> Result<u32, Error> {
        Ok(self.value * 2)
    }
}

#[test]
fn methods_with_every_receiver() {
    testkit::setup();
    let mut counter = Counter { value: 1 };
    assert_eq!(counter.get().unwrap(), 1);
    assert_eq!(counter.bump(2).unwrap(), 3);
    assert_eq!(Box::new(Counter { value: 5 }).boxed().unwrap(), 10);
    assert_eq!(counter.into_value().unwrap(), 3);
    assert_eq!(testkit::holder("test.attr-methods"), None);
}

#[mysql_lock(name = "attr-generic")]
fn largest<T, I>(items: I) -> Result<Option<T>, Error>
where
    T: Ord,
    I: IntoIterator<Item = T>,
{
    Ok(items.into_iter().max())
}

#[mysql_lock(name = "attr-impl-trait")]
fn total(items: impl IntoIterator<Item = u32>, label: &str) -> Result<String, Error> {
    Ok(format!("{label}: {}", items.into_iter().sum::<u32>()))
}

#[mysql_lock(name = "attr-lifetime")]
fn first_word<'a>(text: &'a str, separator: &str) -> Result<&'a str, Error> {
    Ok(text.split(separator).next().unwrap_or(""))
}

#[test]
fn generic_where_clause_impl_trait_and_lifetimes() {
    testkit::setup();
    assert_eq!(largest(vec![3, 9, 4]).unwrap(), Some(9));
    assert_eq!(largest(Vec::<String>::new()).unwrap(), None);
    assert_eq!(total([1, 2, 3], "sum").unwrap(), "sum: 6");
    assert_eq!(first_word("hello world", " ").unwrap(), "hello");
}

#[derive(Debug)]
enum AppError {
    Lock(Error),
    Parse(#[allow(dead_code)] std::num::ParseIntError), // read through Debug
}

impl From<Error> for AppError {
    fn from(err: Error) -> Self {
        AppError::Lock(err)
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(err: std::num::ParseIntError) -> Self {
        AppError::Parse(err)
    }
}

#[mysql_lock(name = "attr-early-exit")]
fn parse_positive(text: &str) -> Result<u32, AppError> {
    let n: i64 = text.parse()?; // `?` leaves early
    if n < 0 {
        return Ok(0); // so does `return`
    }
    Ok(n as u32)
}

#[test]
fn early_return_and_question_mark_release_the_lock() {
    testkit::setup();
    assert_eq!(parse_positive("12").unwrap(), 12);
    assert_eq!(parse_positive("-3").unwrap(), 0);
    assert!(matches!(parse_positive("x"), Err(AppError::Parse(_))));
    assert_eq!(testkit::holder("test.attr-early-exit"), None);
    // A custom error type receives the lock's errors through From.
    let guard = mysql_lock::Lock::new("attr-early-exit").acquire().unwrap();
    let err = thread::spawn(|| parse_positive_no_wait("1"))
        .join()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, AppError::Lock(Error::Timeout { .. })),
        "{err:?}"
    );
    guard.release().unwrap();
}

#[mysql_lock(name = "attr-early-exit", timeout = 0)]
fn parse_positive_no_wait(text: &str) -> Result<u32, AppError> {
    Ok(text.parse()?)
}

#[mysql_lock(name = "attr-panic")]
fn panics() -> Result<(), Error> {
    panic!("the job failed")
}

#[test]
fn a_panic_in_the_body_releases() {
    testkit::setup();
    assert!(std::panic::catch_unwind(panics).is_err());
    assert_eq!(testkit::holder("test.attr-panic"), None);
    assert!(mysql_lock::current().is_none());
}

#[mysql_lock(name = "attr-anyhow", using = "attr-other")]
fn with_anyhow() -> anyhow::Result<u64> {
    let held = mysql_lock::current().expect("holding");
    anyhow::ensure!(
        held.server_name() == "test.attr-anyhow",
        "unexpected name {}",
        held.server_name()
    );
    Ok(held.connection_id())
}

#[test]
fn another_alias_and_anyhow() {
    testkit::setup();
    // Before registration: the alias is unknown, and anyhow carries our error.
    let err = thread::spawn(with_anyhow).join().unwrap();
    // No other test registers this alias.
    let unknown = err.map(|_| ()).unwrap_err();
    match unknown.downcast_ref::<Error>() {
        Some(Error::UnknownAlias { alias, .. }) => assert_eq!(alias, "attr-other"),
        other => panic!("expected UnknownAlias inside anyhow, got {other:?}"),
    }
    mysql_lock::register("attr-other", testkit::url()).unwrap();
    let id = with_anyhow().unwrap();
    assert!(id > 0);
    assert_eq!(testkit::holder("test.attr-anyhow"), None);
}

#[test]
fn annotated_functions_exclude_each_other_across_processes() {
    testkit::setup();
    let (mut child, _) =
        testkit::hold_in_another_process(env!("CARGO_BIN_EXE_lock-helper"), "attr-process", 0.8);
    let started = Instant::now();
    assert!(matches!(attr_process_no_wait(), Err(Error::Timeout { .. })));
    // The patient version waits for the other process to let go.
    attr_process_wait().unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(500), "{waited:?}");
    assert!(child.wait().unwrap().success());
}

#[mysql_lock(name = "attr-process", timeout = 0)]
fn attr_process_no_wait() -> Result<(), Error> {
    Ok(())
}

#[mysql_lock(name = "attr-process", timeout = 10)]
fn attr_process_wait() -> Result<(), Error> {
    Ok(())
}
