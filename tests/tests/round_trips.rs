//! An uncontended acquire + release sends exactly 2 commands to the server,
//! taking and returning the pooled connection included (through `Lock`, the
//! attribute, a name formatted from the arguments, and `if_busy = "skip"`): counted by the
//! server itself (`Questions` + `Com_admin_commands`, so pings count too),
//! not timed. With the feature `async`, the same for `acquire_async`.
//!
//! The only test in its binary, so no other test of this suite talks to the
//! server meanwhile; the count is taken three times and the smallest kept,
//! in case something else on the machine uses the server.

use mysql::prelude::Queryable;
use mysql_lock::{mysql_lock, Lock};

#[mysql_lock(name = "round-trips-annotated", timeout = 5)]
fn annotated() -> Result<(), mysql_lock::Error> {
    Ok(())
}

/// A name formatted on each call: no more statements, even for a name
/// never taken before.
#[mysql_lock(name = "round-trips-{stem}-{id}", timeout = 5)]
fn templated(stem: &str, id: u64) -> Result<(), mysql_lock::Error> {
    Ok(())
}

/// Skipping when busy: the same two statements when free.
#[mysql_lock(name = "round-trips-skip", if_busy = "skip")]
fn skipping() -> Result<Option<()>, mysql_lock::Error> {
    Ok(Some(()))
}

const CYCLES: u64 = 200;

/// Commands the server has received: statements (`Questions`) plus admin
/// commands such as `COM_PING` (`Com_admin_commands`; `Questions` leaves
/// pings out).
fn questions(admin: &mut mysql::Conn) -> u64 {
    let rows: Vec<(String, u64)> = admin
        .query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_admin_commands')")
        .unwrap();
    assert_eq!(rows.len(), 2, "both counters exist: {rows:?}");
    rows.iter().map(|(_, n)| n).sum()
}

/// Commands the server received while `work` ran, less the counter's own.
fn statements_during(admin: &mut mysql::Conn, mut work: impl FnMut()) -> u64 {
    (0..3)
        .map(|_| {
            let baseline = {
                let a = questions(admin);
                questions(admin) - a
            };
            let before = questions(admin);
            work();
            questions(admin) - before - baseline
        })
        .min()
        .unwrap()
}

/// An annotated `async fn`: the same two statements.
#[cfg(feature = "async")]
#[mysql_lock(name = "round-trips-annotated-async")]
async fn annotated_async() -> Result<(), mysql_lock::Error> {
    Ok(())
}

#[test]
fn a_lock_cycle_is_two_statements_through_lock_and_attribute() {
    testkit::setup();
    let mut admin = testkit::admin();
    let lock = Lock::new(testkit::unique("round-trips"));
    // Warm up: the first use opens a connection and prepares statements.
    lock.acquire().unwrap().release().unwrap();

    let through_lock = statements_during(&mut admin, || {
        for _ in 0..CYCLES {
            lock.acquire().unwrap().release().unwrap();
        }
    });
    assert_eq!(
        through_lock,
        2 * CYCLES,
        "statements for {CYCLES} acquire+release cycles"
    );

    annotated().unwrap();
    let through_attribute = statements_during(&mut admin, || {
        for _ in 0..CYCLES {
            annotated().unwrap();
        }
    });
    assert_eq!(
        through_attribute,
        2 * CYCLES,
        "statements for {CYCLES} annotated calls"
    );

    let stem = testkit::unique("t");
    templated(&stem, 0).unwrap();
    let mut next = 0;
    let through_template = statements_during(&mut admin, || {
        for _ in 0..CYCLES {
            next += 1;
            templated(&stem, next % 7).unwrap();
        }
    });
    assert_eq!(
        through_template,
        2 * CYCLES,
        "statements for {CYCLES} annotated calls with a name template"
    );

    assert_eq!(skipping().unwrap(), Some(()));
    let through_skip = statements_during(&mut admin, || {
        for _ in 0..CYCLES {
            assert_eq!(skipping().unwrap(), Some(()));
        }
    });
    assert_eq!(
        through_skip,
        2 * CYCLES,
        "statements for {CYCLES} annotated calls with if_busy = \"skip\""
    );

    // The async API (feature `async`), on its own pool: the same two.
    #[cfg(feature = "async")]
    let through_async = {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let cycle = || {
            runtime.block_on(async {
                lock.acquire_async().await.unwrap().release().await.unwrap();
            })
        };
        cycle();
        let through_async = statements_during(&mut admin, || {
            for _ in 0..CYCLES {
                cycle();
            }
        });
        assert_eq!(
            through_async,
            2 * CYCLES,
            "statements for {CYCLES} async acquire+release cycles"
        );
        runtime.block_on(annotated_async()).unwrap();
        let through_annotated_async = statements_during(&mut admin, || {
            for _ in 0..CYCLES {
                runtime.block_on(annotated_async()).unwrap();
            }
        });
        assert_eq!(
            through_annotated_async,
            2 * CYCLES,
            "statements for {CYCLES} annotated async calls"
        );
        through_async
    };
    #[cfg(not(feature = "async"))]
    let through_async = 0;

    // The counter sees what the library avoids: the driver's default pool
    // pings every connection it hands out and resets every one it takes
    // back: 4 round trips a cycle (5 counted on MariaDB 10.11, where the
    // reset registers under both counters).
    let pool = mysql::Pool::new(testkit::url()).unwrap();
    let name = lock.server_name().unwrap().to_owned();
    let cycle = || {
        let mut conn = pool.get_conn().unwrap();
        let got: Option<i64> = conn.exec_first("SELECT GET_LOCK(?, 1)", (&name,)).unwrap();
        assert_eq!(got, Some(1));
        let released: Option<i64> = conn.exec_first("SELECT RELEASE_LOCK(?)", (&name,)).unwrap();
        assert_eq!(released, Some(1));
    };
    cycle();
    let through_default_pool = statements_during(&mut admin, || {
        for _ in 0..CYCLES {
            cycle();
        }
    });
    testkit::report(&format!(
        "commands per cycle: mysql-lock {}, async {}, default mysql::Pool {}",
        through_lock as f64 / CYCLES as f64,
        through_async as f64 / CYCLES as f64,
        through_default_pool as f64 / CYCLES as f64
    ));
    assert!(
        through_default_pool >= 4 * CYCLES,
        "the counter must see the pings and resets: {through_default_pool}"
    );
}
