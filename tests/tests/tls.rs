//! TLS to the server, against a private MariaDB of this test's own, started
//! with a throwaway CA by `testkit::PrivateServer::start_with_tls` (it needs
//! `mariadbd` and `openssl`: `apt-get install mariadb-server openssl`).
//!
//! The locks go through an account created `REQUIRE SSL`, with a password:
//! the server refuses it any unencrypted connection, so every lock taken
//! through it proves TLS. On top of that, the session holding the lock is
//! checked from the server side (`performance_schema.status_by_thread`: its
//! `Ssl_cipher` and `Ssl_version`). The TLS backend is this crate's feature:
//! rustls with ring by default, `--no-default-features --features
//! native-tls` (or `rustls-tls`) for the others.

#[cfg(not(any(
    feature = "rustls-tls-ring",
    feature = "native-tls",
    feature = "rustls-tls"
)))]
#[test]
fn tls_needs_a_backend() {
    panic!(
        "tests/tls.rs needs a TLS backend: run with this crate's default features, or with \
         --features native-tls (or rustls-tls)"
    );
}

#[cfg(any(
    feature = "rustls-tls-ring",
    feature = "native-tls",
    feature = "rustls-tls"
))]
mod with_tls {
    use mysql::prelude::Queryable;
    use mysql_lock::{Error, Lock};
    use std::sync::OnceLock;
    use std::time::Duration;
    use testkit::PrivateServer;

    /// The account the locks use: `REQUIRE SSL`.
    const USER: &str = "mysql_lock_tls";
    const PASSWORD: &str = "Tls-pw-s3cret-Q7x";

    /// The TLS server, with the account, started once for the whole file.
    fn server() -> &'static PrivateServer {
        static SERVER: OnceLock<PrivateServer> = OnceLock::new();
        SERVER.get_or_init(|| {
            let server = PrivateServer::start_with_tls().unwrap_or_else(|why| {
                panic!(
                    "this test needs a TLS-enabled MariaDB of its own, which could not be \
                     started: {why}.\nInstall the server and openssl: `apt-get install \
                     mariadb-server openssl`"
                )
            });
            let mut root = root(&server);
            let have_ssl: Option<String> = root.query_first("SELECT @@have_ssl").unwrap();
            assert_eq!(
                have_ssl.as_deref(),
                Some("YES"),
                "mariadbd did not enable TLS with the generated certificates"
            );
            root.query_drop(format!(
                "CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}' REQUIRE SSL"
            ))
            .unwrap();
            root.query_drop(format!("GRANT SELECT ON test.* TO '{USER}'@'%'"))
                .unwrap();
            server
        })
    }

    /// An observer: root over TCP, without TLS (root does not require it).
    fn root(server: &PrivateServer) -> mysql::Conn {
        mysql::Conn::new(mysql::Opts::from_url(&server.url()).unwrap()).expect("root connection")
    }

    /// `mysql://USER:PASSWORD@127.0.0.1:PORT/test?` and `query`.
    fn account_url(query: &str) -> String {
        format!(
            "mysql://{USER}:{PASSWORD}@127.0.0.1:{}/test?{query}",
            server().port()
        )
    }

    /// The CA's path, percent-encoded for a URL's query string.
    fn ca_in_url() -> String {
        let ca = server().tls_ca().expect("a TLS server has a CA");
        let mut encoded = String::new();
        for byte in ca.to_str().expect("a UTF-8 temporary directory").bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                    encoded.push(char::from(byte))
                }
                other => encoded.push_str(&format!("%{other:02X}")),
            }
        }
        encoded
    }

    /// What the server says about the session holding the lock `name` (as
    /// sent to the server): its id, user, `Ssl_version` and `Ssl_cipher`
    /// (empty when the session is not encrypted).
    fn holder_session(name: &str) -> (u64, String, String, String) {
        let mut root = root(server());
        let id: u64 = root
            .exec_first::<Option<u64>, _, _>("SELECT IS_USED_LOCK(?)", (name,))
            .unwrap()
            .flatten()
            .unwrap_or_else(|| panic!("nobody holds {name}"));
        let user: String = root
            .exec_first(
                "SELECT USER FROM information_schema.PROCESSLIST WHERE ID = ?",
                (id,),
            )
            .unwrap()
            .expect("the holder's session");
        let status = |root: &mut mysql::Conn, variable: &str| -> String {
            root.exec_first(
                "SELECT s.VARIABLE_VALUE FROM performance_schema.status_by_thread s \
                 JOIN performance_schema.threads t USING (THREAD_ID) \
                 WHERE t.PROCESSLIST_ID = ? AND s.VARIABLE_NAME = ?",
                (id, variable),
            )
            .unwrap()
            .unwrap_or_else(|| panic!("no {variable} for session {id} in performance_schema"))
        };
        let version = status(&mut root, "Ssl_version");
        let cipher = status(&mut root, "Ssl_cipher");
        (id, user, version, cipher)
    }

    /// Takes and releases a lock through `alias`, and checks on the server
    /// that the session holding it is the account's, over TLS.
    fn assert_lock_is_encrypted(alias: &str) {
        let lock = Lock::new(testkit::unique("tls"))
            .using(alias)
            .timeout(Duration::from_secs(5));
        let guard = lock
            .acquire()
            .unwrap_or_else(|err| panic!("a lock through {alias}: {err}"));
        let (id, user, version, cipher) = holder_session(guard.server_name());
        assert_eq!(id, guard.connection_id());
        assert_eq!(user, USER);
        assert!(
            version.starts_with("TLSv1.") && !cipher.is_empty(),
            "the lock's session is not encrypted: Ssl_version {version:?}, Ssl_cipher {cipher:?}"
        );
        testkit::report(&format!("{alias}: lock held over {version}, {cipher}"));
        let name = guard.server_name().to_owned();
        guard.release().unwrap();
        assert_eq!(
            root(server())
                .exec_first::<Option<u64>, _, _>("SELECT IS_USED_LOCK(?)", (name,))
                .unwrap()
                .flatten(),
            None
        );
    }

    /// Neither the error nor any of its sources shows the password.
    fn assert_no_password(err: &Error) {
        testkit::assert_error_hides(err, PASSWORD);
    }

    #[test]
    fn a_lock_through_a_url_with_tls_options_is_encrypted() {
        let url = account_url(&format!(
            "prefer_socket=false&root_cert_path={}",
            ca_in_url()
        ));
        mysql_lock::register("tls-url", &url).unwrap();
        assert_lock_is_encrypted("tls-url");
    }

    #[test]
    fn a_lock_through_register_opts_with_ssl_opts_is_encrypted() {
        let opts = mysql::Opts::from_url(&account_url("prefer_socket=false")).unwrap();
        let ssl = mysql::SslOpts::default().with_root_cert_path(server().tls_ca());
        let opts = mysql::OptsBuilder::from_opts(opts).ssl_opts(Some(ssl));
        mysql_lock::register_opts("tls-opts", opts.into()).unwrap();
        assert_lock_is_encrypted("tls-opts");
    }

    /// Async locks on the same alias go over TLS too (the async driver
    /// gets the alias's root certificate and checks).
    #[test]
    fn an_async_lock_through_a_url_with_tls_options_is_encrypted() {
        let url = account_url(&format!(
            "prefer_socket=false&root_cert_path={}",
            ca_in_url()
        ));
        mysql_lock::register("tls-async", &url).unwrap();
        let lock = Lock::new(testkit::unique("tls-async"))
            .using("tls-async")
            .timeout(Duration::from_secs(5));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let guard = lock
                .acquire_async()
                .await
                .unwrap_or_else(|err| panic!("an async lock over TLS: {err}"));
            let (id, user, version, cipher) = holder_session(guard.server_name());
            assert_eq!(id, guard.connection_id());
            assert_eq!(user, USER);
            assert!(
                version.starts_with("TLSv1.") && !cipher.is_empty(),
                "the async lock's session is not encrypted: {version:?}, {cipher:?}"
            );
            testkit::report(&format!("async: lock held over {version}, {cipher}"));
            guard.release().await.unwrap();
        });
    }

    #[test]
    fn without_tls_the_account_is_refused_clearly_and_without_its_password() {
        mysql_lock::register("tls-none", &account_url("prefer_socket=false")).unwrap();
        let err = Lock::new("job").using("tls-none").acquire().unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Connect {
                    source: Some(_),
                    ..
                }
            ),
            "expected the server's refusal as Error::Connect: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("Access denied") && message.contains(USER),
            "{message}"
        );
        assert_no_password(&err);
        testkit::report(&format!("without TLS: {message}"));
    }

    #[test]
    fn a_server_certificate_from_an_untrusted_ca_is_refused() {
        // TLS on, but the throwaway CA not trusted: only the backend's
        // default roots, which never signed the server's certificate.
        let opts = mysql::Opts::from_url(&account_url("prefer_socket=false")).unwrap();
        let opts = mysql::OptsBuilder::from_opts(opts).ssl_opts(Some(mysql::SslOpts::default()));
        mysql_lock::register_opts("tls-untrusted", opts.into()).unwrap();
        let err = Lock::new("job")
            .using("tls-untrusted")
            .acquire()
            .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Connect {
                    source: Some(_),
                    ..
                }
            ),
            "expected a failed handshake as Error::Connect: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.to_ascii_lowercase().contains("certificate"),
            "{message}"
        );
        assert_no_password(&err);
        testkit::report(&format!("untrusted CA: {message}"));
    }

    #[test]
    fn a_loopback_url_without_prefer_socket_false_may_skip_tls() {
        // The driver moves a loopback TCP connection to the server's Unix
        // socket unless the URL says `prefer_socket=false`, and a socket
        // gets no TLS: for root, the lock's session is unencrypted. (The
        // README tells users so.)
        let ca = ca_in_url();
        let root_url = server()
            .url()
            .replace("prefer_socket=false", &format!("root_cert_path={ca}"));
        mysql_lock::register("tls-root-socket", &root_url).unwrap();
        let guard = Lock::new(testkit::unique("tls-socket"))
            .using("tls-root-socket")
            .acquire()
            .unwrap();
        let (_, user, _, cipher) = holder_session(guard.server_name());
        assert_eq!((user.as_str(), cipher.as_str()), ("root", ""));
        guard.release().unwrap();

        // A `REQUIRE SSL` account is refused on the socket, and the driver
        // keeps its TLS connection over TCP.
        let url = account_url(&format!("root_cert_path={ca}"));
        mysql_lock::register("tls-account-socket", &url).unwrap();
        assert_lock_is_encrypted("tls-account-socket");
    }
}
