//! `#[mysql_lock]` on `async fn`, against the live server: exclusion across
//! tasks, lock errors as the function's `Err`, `if_busy = "skip"`, and the
//! release on every way out of the body (its end, `Err`, `?`, `return`, a
//! panic, an aborted task, a cancelled call). Every lock name is made
//! unique by a placeholder (`name = "{name}"`), which tests templates too.

use mysql_lock::{mysql_lock, Error, Lock};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The name the server sees (the test URL's database is `test`).
fn on_server(name: &str) -> String {
    format!("test.{name}")
}

/// Whether the server shows `name` free within a second (an async guard
/// dropped without release frees the lock on a task of the runtime).
async fn freed_soon(name: &str) -> bool {
    let name = on_server(name);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        let holder = {
            let name = name.clone();
            tokio::task::spawn_blocking(move || testkit::holder(&name))
                .await
                .unwrap()
        };
        if holder.is_none() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// `name` held by another session (a sync lock on a blocking thread of
/// this process), until the returned guard is released.
async fn hold_elsewhere(name: &str) -> mysql_lock::LockGuard {
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || Lock::new(name).acquire().unwrap())
        .await
        .unwrap()
}

#[derive(Debug)]
enum JobError {
    Lock(Error),
    Body(&'static str),
}

impl From<Error> for JobError {
    fn from(error: Error) -> Self {
        JobError::Lock(error)
    }
}

#[mysql_lock(name = "{name}", timeout = 30)]
async fn exclusive(
    name: Arc<str>,
    inside: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
) -> Result<(), Error> {
    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
    most.fetch_max(now, Ordering::SeqCst);
    // Let the other tasks run (and try the lock) while this one holds it.
    tokio::time::sleep(Duration::from_millis(2)).await;
    inside.fetch_sub(1, Ordering::SeqCst);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_annotated_async_fn_excludes_concurrent_tasks() {
    testkit::setup();
    let name: Arc<str> = testkit::unique("async-attr-exclusive").into();
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (name, inside, most) = (name.clone(), inside.clone(), most.clone());
            // `tokio::spawn`: the future is `Send`.
            tokio::spawn(async move {
                for _ in 0..5 {
                    exclusive(name.clone(), inside.clone(), most.clone())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "two tasks ran the body at once"
    );
    assert!(freed_soon(&name).await);
}

#[mysql_lock(name = "{name}", timeout = 0.2)]
async fn short_timeout(name: &str, ran: &AtomicUsize) -> Result<u32, JobError> {
    ran.fetch_add(1, Ordering::SeqCst);
    Ok(7)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_is_the_functions_err_and_the_body_does_not_run() {
    testkit::setup();
    let name = testkit::unique("async-attr-held");
    let ran = AtomicUsize::new(0);
    let guard = hold_elsewhere(&name).await;
    let started = Instant::now();
    let result = short_timeout(&name, &ran).await;
    let waited = started.elapsed();
    assert!(
        matches!(result, Err(JobError::Lock(Error::Timeout { timeout, .. })) if timeout == Duration::from_millis(200)),
        "{result:?}"
    );
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    tokio::task::spawn_blocking(move || guard.release().unwrap())
        .await
        .unwrap();
    assert_eq!(short_timeout(&name, &ran).await.unwrap(), 7);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[mysql_lock(name = "{name}", if_busy = "skip")]
async fn skippable(name: &str) -> Result<Option<&'static str>, Error> {
    Ok(Some("ran"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_busy_skip_returns_ok_none_while_another_holds_it() {
    testkit::setup();
    let name = testkit::unique("async-attr-skip");
    let guard = hold_elsewhere(&name).await;
    let started = Instant::now();
    assert_eq!(skippable(&name).await.unwrap(), None);
    assert!(started.elapsed() < Duration::from_secs(1));
    tokio::task::spawn_blocking(move || guard.release().unwrap())
        .await
        .unwrap();
    assert_eq!(skippable(&name).await.unwrap(), Some("ran"));
}

#[mysql_lock(name = "{name}")]
async fn ends_in(name: &str, how: &str) -> Result<u32, JobError> {
    let held = {
        let name = on_server(name);
        tokio::task::spawn_blocking(move || testkit::holder(&name))
            .await
            .unwrap()
    };
    assert!(held.is_some(), "the body runs under the lock");
    match how {
        "err" => Err(JobError::Body("the body failed")),
        "question-mark" => {
            let number: u32 = "not a number"
                .parse()
                .map_err(|_| JobError::Body("parse"))?;
            Ok(number)
        }
        "return" => return Ok(1),
        _ => Ok(2),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_out_of_the_body_releases_and_keeps_its_value() {
    testkit::setup();
    let name = testkit::unique("async-attr-exits");
    // Released before the function returns: free at once, not soon.
    let free_now = |name: &str| testkit::holder(&on_server(name)).is_none();
    assert!(matches!(
        ends_in(&name, "err").await,
        Err(JobError::Body("the body failed"))
    ));
    assert!(free_now(&name));
    assert!(matches!(
        ends_in(&name, "question-mark").await,
        Err(JobError::Body("parse"))
    ));
    assert!(free_now(&name));
    assert_eq!(ends_in(&name, "return").await.unwrap(), 1);
    assert!(free_now(&name));
    assert_eq!(ends_in(&name, "end").await.unwrap(), 2);
    assert!(free_now(&name));
}

#[mysql_lock(name = "{name}")]
async fn panics(name: String) -> Result<(), Error> {
    tokio::task::yield_now().await;
    panic!("the job failed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_the_body_releases() {
    testkit::setup();
    let name = testkit::unique("async-attr-panic");
    let joined = tokio::spawn(panics(name.clone())).await;
    assert!(joined.unwrap_err().is_panic());
    assert!(freed_soon(&name).await, "still held after the panic");
    let started = Instant::now();
    let guard = Lock::new(name.as_str())
        .timeout(Duration::from_secs(2))
        .acquire_async()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    guard.release().await.unwrap();
}

#[mysql_lock(name = "{name}")]
async fn long_body(name: String, started: tokio::sync::oneshot::Sender<()>) -> Result<(), Error> {
    let _ = started.send(());
    tokio::time::sleep(Duration::from_secs(30)).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborting_the_task_during_the_body_releases() {
    testkit::setup();
    let name = testkit::unique("async-attr-abort");
    let (started, body_runs) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(long_body(name.clone(), started));
    body_runs.await.unwrap();
    assert!(testkit::holder(&on_server(&name)).is_some());
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(freed_soon(&name).await, "still held after the abort");
}

#[mysql_lock(name = "{name}", timeout = 10)]
async fn patient(name: &str) -> Result<(), Error> {
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_wait_leaves_nothing_held() {
    testkit::setup();
    let name = testkit::unique("async-attr-cancelled");
    let guard = hold_elsewhere(&name).await;
    let gave_up = tokio::time::timeout(Duration::from_millis(300), patient(&name)).await;
    assert!(gave_up.is_err(), "the call should still be waiting");
    tokio::task::spawn_blocking(move || guard.release().unwrap())
        .await
        .unwrap();
    // The abandoned wait must not take the lock once it is free.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(freed_soon(&name).await, "the cancelled wait took the lock");
    let started = Instant::now();
    patient(&name).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[mysql_lock(name = "{prefix}:{id}", timeout = 0)]
async fn per_id(prefix: &str, id: u32, hold: Duration) -> Result<u32, Error> {
    tokio::time::sleep(hold).await;
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_lock_each_value_apart() {
    testkit::setup();
    let prefix = testkit::unique("async-attr-template");
    let holding = {
        let prefix = prefix.clone();
        tokio::spawn(async move { per_id(&prefix, 1, Duration::from_millis(500)).await })
    };
    let one = format!("{prefix}:1");
    let started = Instant::now();
    while testkit::holder(&on_server(&one)).is_none() {
        assert!(started.elapsed() < Duration::from_secs(2), "never held");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Another value: another lock, free.
    assert_eq!(per_id(&prefix, 2, Duration::ZERO).await.unwrap(), 2);
    // The same value: busy.
    assert!(matches!(
        per_id(&prefix, 1, Duration::ZERO).await,
        Err(Error::Timeout { .. })
    ));
    assert_eq!(holding.await.unwrap().unwrap(), 1);
}

struct Worker {
    tenant: String,
    runs: u32,
}

impl Worker {
    #[mysql_lock(name = "{self.tenant}:ref")]
    async fn by_ref(&self) -> Result<bool, Error> {
        tokio::task::yield_now().await;
        Ok(testkit::holder(&on_server(&format!("{}:ref", self.tenant))).is_some())
    }

    #[mysql_lock(name = "{self.tenant}:mut")]
    async fn by_mut(&mut self) -> Result<u32, Error> {
        tokio::task::yield_now().await;
        self.runs += 1;
        Ok(self.runs)
    }

    #[mysql_lock(name = "{self.tenant}:value")]
    async fn by_value(self) -> Result<(String, bool), Error> {
        let held = testkit::holder(&on_server(&format!("{}:value", self.tenant))).is_some();
        Ok((self.tenant, held))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_lock_with_every_receiver() {
    testkit::setup();
    let tenant = testkit::unique("async-attr-worker");
    let mut worker = Worker {
        tenant: tenant.clone(),
        runs: 0,
    };
    assert!(worker.by_ref().await.unwrap(), "held in a `&self` body");
    assert_eq!(worker.by_mut().await.unwrap(), 1);
    assert_eq!(worker.by_mut().await.unwrap(), 2);
    let (moved, held) = worker.by_value().await.unwrap();
    assert_eq!(moved, tenant);
    assert!(held, "held in a `self` body");
    for suffix in ["ref", "mut", "value"] {
        assert!(testkit::holder(&on_server(&format!("{tenant}:{suffix}"))).is_none());
    }
}

/// Kills its own lock's connection from another one, then succeeds: the
/// attribute must turn that `Ok` into `Err(LockLost)`.
#[mysql_lock(name = "{name}")]
async fn loses_its_lock(name: &str) -> Result<&'static str, Error> {
    let holder = Lock::new(name).holding_connection_id_async().await?;
    let id = holder.expect("the attribute holds the lock");
    tokio::task::spawn_blocking(move || {
        use mysql::prelude::Queryable;
        testkit::admin()
            .query_drop(format!("KILL CONNECTION {id}"))
            .unwrap()
    })
    .await
    .unwrap();
    Ok("the work ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_lost_during_the_body_turns_ok_into_lock_lost() {
    testkit::setup();
    let name = testkit::unique("async-attr-lost");
    let result = loses_its_lock(&name).await;
    assert!(matches!(result, Err(Error::LockLost { .. })), "{result:?}");
    assert!(freed_soon(&name).await);
    // The next call gets a sound connection.
    assert_eq!(ends_in(&name, "end").await.unwrap(), 2);
}

/// Holds its lock until the runtime is shut down.
#[mysql_lock(name = "{name}")]
async fn holds_until_shutdown(
    name: String,
    held: std::sync::mpsc::Sender<()>,
) -> Result<(), Error> {
    held.send(()).unwrap();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

/// A runtime shut down while an annotated call holds its lock (and while
/// another waits for it) leaves nothing held and nothing waiting.
#[test]
fn runtime_shutdown_during_an_annotated_call_frees_the_lock() {
    testkit::setup();
    let name = testkit::unique("async-attr-shutdown");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    runtime.spawn(holds_until_shutdown(name.clone(), held_tx));
    held_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let waiting = name.clone();
    runtime.spawn(async move { patient(&waiting).await });
    std::thread::sleep(Duration::from_millis(200));
    drop(runtime);
    let server_name = on_server(&name);
    let started = Instant::now();
    while testkit::holder(&server_name).is_some() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let freed = started.elapsed();
    testkit::report(&format!(
        "runtime shut down: the lock was free after {freed:?}"
    ));
    assert!(
        testkit::holder(&server_name).is_none(),
        "still held after {freed:?}"
    );
    // Nobody waits for it either: another session takes it at once.
    let guard = Lock::new(name.as_str())
        .timeout(Duration::from_secs(1))
        .acquire()
        .unwrap();
    guard.release().unwrap();
}
