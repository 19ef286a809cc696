//! A server (or proxy) that stops answering, through an in-test loopback
//! proxy that stops forwarding: every wait of the library stays bounded,
//! and loss detection on other aliases goes on as if nothing happened.

use mysql::prelude::Queryable;
use mysql_lock::{Error, Lock};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const INTERVAL: Duration = Duration::from_millis(100);
/// The statement timeout of the hung alias (`read_timeout`).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(1);

fn register_through(alias: &str, proxy: &testkit::Proxy) {
    let opts = mysql::Opts::from_url(&proxy.url()).unwrap();
    let opts = mysql::OptsBuilder::from_opts(opts).read_timeout(Some(STATEMENT_TIMEOUT));
    mysql_lock::register_opts(alias, opts.into()).unwrap();
}

#[test]
fn a_hung_alias_delays_nothing_else_and_every_wait_is_bounded() {
    testkit::setup();
    mysql_lock::set_check_interval(INTERVAL);
    let proxy = testkit::Proxy::start();
    register_through("hung", &proxy);

    // Another thread holds a lock through the alias that will hang, so that
    // its background check is stuck on the hung connection.
    let hung_name = testkit::unique("hung-held");
    let (held_tx, held_rx) = mpsc::channel();
    let (frozen_tx, frozen_rx) = mpsc::channel::<()>();
    let other = {
        let lock = Lock::new(hung_name.as_str()).using("hung");
        thread::spawn(move || {
            let guard = lock.acquire().expect("acquire through the proxy");
            held_tx.send(()).unwrap();
            frozen_rx.recv().unwrap();
            // Let the monitor get stuck on this connection's check.
            thread::sleep(INTERVAL * 3);
            let started = Instant::now();
            let innermost = mysql_lock::current().map(|held| held.server_name().to_owned());
            let current_took = started.elapsed();

            // A second lock on the hung connection: bounded by its timeout
            // plus the answer margin, and the first lock is lost with it.
            let started = Instant::now();
            let second = Lock::new(testkit::unique("hung-second"))
                .using("hung")
                .timeout(Duration::from_millis(500))
                .acquire()
                .map(drop);
            let second_took = started.elapsed();
            let first_lost = guard.is_lost();
            let started = Instant::now();
            let released = guard.release();
            let release_took = started.elapsed();
            (
                innermost,
                current_took,
                second,
                second_took,
                first_lost,
                released,
                release_took,
            )
        })
    };
    held_rx.recv().unwrap();

    // A lock held directly on the healthy server.
    let healthy = Lock::new(testkit::unique("healthy"));
    let guard = healthy.acquire().unwrap();

    proxy.freeze_all();
    frozen_tx.send(()).unwrap();
    thread::sleep(INTERVAL * 2);

    // Killing the healthy holder is noticed within the check cadence, while
    // the hung alias's monitor is stuck.
    testkit::admin()
        .query_drop(format!("KILL CONNECTION {}", guard.connection_id()))
        .unwrap();
    let killed = Instant::now();
    while !guard.is_lost() && killed.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(5));
    }
    let detected = killed.elapsed();
    testkit::report(&format!(
        "with another alias hung, a killed holder was noticed after {detected:?} \
         (interval {INTERVAL:?})"
    ));
    assert!(guard.is_lost(), "not noticed within 5 s");
    assert!(detected < INTERVAL * 4, "{detected:?}");
    assert!(matches!(guard.release(), Err(Error::LockLost { .. })));

    // A new lock through the hung alias: bounded by its timeout plus the
    // margin, although the connection can't even be opened.
    let started = Instant::now();
    let result = Lock::new(testkit::unique("hung-new"))
        .using("hung")
        .timeout(Duration::from_millis(500))
        .acquire()
        .map(drop);
    let took = started.elapsed();
    testkit::report(&format!(
        "acquire(0.5 s) through a hung proxy returned after {took:?}: {result:?}"
    ));
    assert!(matches!(result, Err(Error::Connect { .. })), "{result:?}");
    assert!(took < Duration::from_millis(2500), "{took:?}");

    let (innermost, current_took, second, second_took, first_lost, released, release_took) =
        other.join().unwrap();
    testkit::report(&format!(
        "on the hung alias: current() took {current_took:?}, a second acquire(0.5 s) \
         {second_took:?} ({second:?}), the release {release_took:?} ({released:?})"
    ));
    assert_eq!(innermost, Some(format!("test.{hung_name}")));
    assert!(current_took < Duration::from_millis(50), "{current_took:?}");
    // Unanswered when it got to send GET_LOCK; Connect when the background
    // check had already given the hung connection up. Either way within the
    // documented bound: the timeout, the margin, a check in flight (one
    // statement timeout) and the kill of its abandoned session (two).
    assert!(
        matches!(
            second,
            Err(Error::Unanswered { .. } | Error::Connect { .. })
        ),
        "{second:?}"
    );
    assert!(
        second_took
            < Duration::from_millis(500)
                + Duration::from_secs(1)
                + STATEMENT_TIMEOUT * 3
                + Duration::from_millis(500),
        "{second_took:?}"
    );
    assert!(first_lost, "the lock on the abandoned connection is lost");
    assert!(matches!(released, Err(Error::LockLost { .. })));
    assert!(release_took < STATEMENT_TIMEOUT * 2, "{release_took:?}");
    mysql_lock::set_check_interval(mysql_lock::DEFAULT_CHECK_INTERVAL);
}

/// Async locks on a connection that stops answering: a wait ends within
/// its timeout plus the answer margin, a check within the statement
/// timeout, and the task's locks on that connection are then lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_statements_on_a_hung_connection_are_bounded() {
    testkit::setup();
    let proxy = testkit::Proxy::start();
    register_through("hung-async", &proxy);
    let first = Lock::new(testkit::unique("hung-async-first")).using("hung-async");
    let mut guard = first.acquire_async().await.unwrap();
    guard.verify().await.unwrap();
    proxy.freeze_existing();
    // A flow reading when frozen forwards what it reads (up to 20 ms).
    tokio::time::sleep(Duration::from_millis(100)).await;

    // A second lock of the same task, on the same (frozen) connection. The
    // background check (another test here sets its interval to 100 ms) may
    // find the connection hung first: the wait then takes a fresh one.
    let frozen = guard.connection_id();
    let started = Instant::now();
    let second = Lock::new(testkit::unique("hung-async-second"))
        .using("hung-async")
        .timeout(Duration::from_millis(500))
        .acquire_async()
        .await;
    let took = started.elapsed();
    testkit::report(&format!(
        "acquire_async(0.5 s) on a frozen connection returned after {took:?}: {second:?}"
    ));
    match second {
        Err(Error::Unanswered { .. }) => {}
        // The check holds the session's connection (its own statement
        // bounded by the statement timeout) for all of the 0.5 s.
        Err(Error::Timeout { .. }) => {}
        Ok(second) => {
            assert_ne!(second.connection_id(), frozen);
            second.release().await.unwrap();
        }
        Err(other) => panic!("{other:?}"),
    }
    assert!(took < Duration::from_millis(2500), "{took:?}");
    // Given up by the wait, or by the check within its statement timeout.
    let given_up = Instant::now();
    while !guard.is_lost() && given_up.elapsed() < STATEMENT_TIMEOUT * 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(guard.is_lost(), "the session's connection was given up");

    let started = Instant::now();
    let verified = guard.verify().await;
    assert!(
        matches!(verified, Err(Error::LockLost { .. })),
        "{verified:?}"
    );
    assert!(
        started.elapsed() < STATEMENT_TIMEOUT,
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(guard.release().await, Err(Error::LockLost { .. })));

    // A lock on a fresh connection of another task, held while the proxy
    // freezes: its check is bounded by the statement timeout.
    let third = Lock::new(testkit::unique("hung-async-third")).using("hung-async");
    let proxy_url_works = tokio::spawn(async move {
        let mut guard = third.acquire_async().await?;
        Ok::<_, Error>(guard.verify().await.map(|()| guard))
    })
    .await
    .unwrap();
    // The proxy's new connections still work (only existing ones froze).
    let mut guard = proxy_url_works.unwrap().unwrap();
    proxy.freeze_existing();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let verified = guard.verify().await;
    let took = started.elapsed();
    assert!(
        matches!(verified, Err(Error::LockLost { .. })),
        "{verified:?}"
    );
    assert!(
        took >= STATEMENT_TIMEOUT / 2 && took < STATEMENT_TIMEOUT * 2,
        "{took:?}"
    );
}
