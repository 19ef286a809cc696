//! No password, and no URL with credentials, ever appears in `Debug`,
//! `Display` or error messages.

use mysql_lock::{Error, Lock};
use std::net::TcpListener;

const SECRET: &str = "Pw-s3cret-XYZ";

fn assert_clean(what: &str, text: &str) {
    testkit::assert_no_secret(what, text, SECRET);
}

fn assert_error_clean(err: &Error) {
    testkit::assert_error_hides(err, SECRET);
}

#[test]
fn a_wrong_password_is_not_echoed() {
    let url = testkit::url();
    let opts = mysql::Opts::from_url(url).unwrap();
    let with_password = mysql::OptsBuilder::from_opts(opts).pass(Some(SECRET));
    mysql_lock::register_opts("secrets-wrong-password", with_password.into()).unwrap();
    let lock = Lock::new("job").using("secrets-wrong-password");
    assert_clean("Lock's Debug", &format!("{lock:?}"));
    let err = lock.acquire().unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert_error_clean(&err);
}

#[test]
fn unreachable_and_malformed_urls_are_not_echoed() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("mysql://app:{SECRET}@127.0.0.1:{port}/db?prefer_socket=false");
    mysql_lock::register("secrets-refused", &url).unwrap();
    let err = Lock::new("job")
        .using("secrets-refused")
        .acquire()
        .unwrap_err();
    assert_error_clean(&err);
    let err = mysql_lock::register("secrets-conflict", &url)
        .and_then(|()| mysql_lock::register("secrets-conflict", &url.replace("/db", "/other")))
        .unwrap_err();
    assert!(matches!(err, Error::AliasConflict { .. }));
    assert_error_clean(&err);
    for bad in [
        format!("mysql://app:{SECRET}@127.0.0.1:notaport/db"),
        format!("mysql://app:{SECRET}@127.0.0.1/db?unknown_option=1"),
        // Known parameters with values the driver refuses.
        format!("mysql://app:{SECRET}@127.0.0.1/db?pool_min=5&pool_max=2"),
        format!("mysql://app:{SECRET}@127.0.0.1/db?tcp_connect_timeout_ms=soon"),
    ] {
        let err = mysql_lock::register("secrets-bad", &bad).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
        assert_error_clean(&err);
    }
}

#[test]
fn guards_and_status_show_no_secret() {
    let url = testkit::url();
    mysql_lock::register("secrets-ok", url).unwrap();
    let lock = Lock::new(testkit::unique("secret-guard")).using("secrets-ok");
    let guard = lock.acquire().unwrap();
    assert_clean("guard", &format!("{guard:?}"));
    assert_clean("current", &format!("{:?}", mysql_lock::current()));
    assert_clean(
        "status",
        &format!("{:?}", mysql_lock::pool_status("secrets-ok")),
    );
    guard.release().unwrap();
}
