//! Finds the MySQL/MariaDB server the tests, the bench and the demo's test
//! run against, and the fault-injection tools they share (a freezable
//! proxy, a private server to restart).
//!
//! The URL is `MYSQL_URL`, else `DATABASE_URL`, else
//! `mysql://root@127.0.0.1:3306/test`. When nothing answers there and
//! `mariadbd` is installed, a private throwaway server is started in a
//! temporary directory on a free port, and stopped when the process that
//! started it exits. When neither works, [`url`] panics with a message that
//! says how to install a server: a test about locking never skips silently.

#![forbid(unsafe_code)]

mod proxy;

pub use proxy::Proxy;

use mysql::prelude::Queryable;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The URL used when neither `MYSQL_URL` nor `DATABASE_URL` is set.
pub const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// The URL of a server that answers, found (or started) once per process.
pub fn url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let configured = configured_url();
        match probe(&configured) {
            Ok(()) => configured,
            Err(why) => match start_private_server() {
                Ok(url) => url,
                Err(start_error) => panic!(
                    "no MySQL/MariaDB server answers at {} ({why}), and a private one could \
                     not be started ({start_error}).\nInstall and start one, for example \
                     `apt-get install mariadb-server && start-stop-daemon --start --oknodo \
                     --background --exec /usr/sbin/mariadbd`, or point MYSQL_URL at a server.",
                    redact(&configured)
                ),
            },
        }
    })
}

/// Registers [`url`] as the default alias and returns it.
pub fn setup() -> &'static str {
    let url = url();
    mysql_lock::register(mysql_lock::DEFAULT_ALIAS, url).expect("register the test server");
    url
}

/// A connection of its own, outside the library's pool: an observer.
pub fn admin() -> mysql::Conn {
    mysql::Conn::new(mysql::Opts::from_url(url()).expect("valid URL")).expect("admin connection")
}

/// `IS_USED_LOCK(name)` asked on a connection of its own.
pub fn holder(name: &str) -> Option<u64> {
    admin()
        .exec_first::<Option<u64>, _, _>("SELECT IS_USED_LOCK(?)", (name,))
        .expect("IS_USED_LOCK")
        .flatten()
}

/// The test server's URL with database `db` (created if missing).
pub fn url_with_db(db: &str) -> String {
    let url = url();
    admin()
        .query_drop(format!("CREATE DATABASE IF NOT EXISTS `{db}`"))
        .expect("create the test database");
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail
        .split_once('?')
        .map(|(_, query)| format!("?{query}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{db}{query}")
}

/// Sessions on database `db` running `GET_LOCK` now.
pub fn waiting_sessions(admin: &mut mysql::Conn, db: &str) -> u64 {
    admin
        .exec_first::<u64, _, _>(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE DB = ? AND INFO LIKE 'SELECT GET_LOCK%'",
            (db,),
        )
        .expect("PROCESSLIST")
        .unwrap_or(0)
}

/// Polls `done` every millisecond for up to `limit`; the time it took.
pub fn within(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

/// Runs the `lock-helper` binary at `helper` (`env!("CARGO_BIN_EXE_lock-helper")`)
/// holding `name` for `seconds`; returns once it holds the lock, with the
/// holding connection's id. Wait for the child to see it release.
pub fn hold_in_another_process(
    helper: &str,
    name: &str,
    seconds: f64,
) -> (std::process::Child, u64) {
    hold_in_another_process_at(helper, url(), name, seconds)
}

/// [`hold_in_another_process`] on the server at `url`.
pub fn hold_in_another_process_at(
    helper: &str,
    url: &str,
    name: &str,
    seconds: f64,
) -> (std::process::Child, u64) {
    let mut child = Command::new(helper)
        .args(["hold", url, name, &seconds.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start lock-helper");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().expect("piped stdout")),
        &mut line,
    )
    .expect("read lock-helper's output");
    let id = line
        .trim()
        .strip_prefix("held ")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("lock-helper did not take the lock: {line:?}"));
    (child, id)
}

/// Takes `name` (on the default alias) and releases it, panicking unless
/// that happens within a second: for a lock whose holder process just
/// exited, which the server must have freed at once.
pub fn assert_freed_at_once(name: &str) {
    let started = Instant::now();
    let guard = mysql_lock::Lock::new(name)
        .timeout(Duration::from_secs(5))
        .acquire()
        .expect("freed when the process exits");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "freed only after {:?}",
        started.elapsed()
    );
    guard.release().expect("release");
}

/// Panics when `text` (a message called `what`) contains `secret`.
pub fn assert_no_secret(what: &str, text: &str, secret: &str) {
    assert!(!text.contains(secret), "{what} shows the password: {text}");
}

/// Panics when `err`, its `Debug` forms or any error in its source chain
/// shows `secret`.
pub fn assert_error_hides(err: &mysql_lock::Error, secret: &str) {
    assert_no_secret("Display", &err.to_string(), secret);
    assert_no_secret("Debug", &format!("{err:?}"), secret);
    assert_no_secret("Debug (pretty)", &format!("{err:#?}"), secret);
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        assert_no_secret("a source's Display", &inner.to_string(), secret);
        assert_no_secret("a source's Debug", &format!("{inner:?}"), secret);
        source = inner.source();
    }
}

/// Prints a figure a test measured (counts, latencies) so that it shows in
/// the output of a passing `cargo test` run, which captures `println!`.
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "report: {line}");
}

/// A lock name no other test (or concurrent test run) uses.
pub fn unique(stem: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{stem}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn configured_url() -> String {
    std::env::var("MYSQL_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

fn probe(url: &str) -> Result<(), String> {
    let opts = mysql::Opts::from_url(url).map_err(|e| e.to_string())?;
    let opts =
        mysql::OptsBuilder::from_opts(opts).tcp_connect_timeout(Some(Duration::from_secs(3)));
    mysql::Conn::new(opts).map(drop).map_err(|e| e.to_string())
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn find_program(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.exists())
}

/// A throwaway MariaDB of this process's own, in a temporary directory on a
/// free port. A watchdog stops it and removes the directory once this
/// process has exited, however it exits; dropping the value stops it
/// sooner. [`restart`](PrivateServer::restart) keeps the data and the port.
pub struct PrivateServer {
    dir: PathBuf,
    port: u16,
    program: PathBuf,
    as_root: bool,
    /// Started by [`start_with_tls`](PrivateServer::start_with_tls).
    tls: bool,
    /// Given to [`start_with_args`](PrivateServer::start_with_args).
    extra_args: Vec<String>,
    child: std::sync::Mutex<Option<std::process::Child>>,
}

impl PrivateServer {
    /// Initialises a data directory and starts the server (about a second).
    pub fn start() -> Result<Self, String> {
        Self::start_inner(false, &[])
    }

    /// Like [`start`](PrivateServer::start), with more `mariadbd` options,
    /// kept across [`restart`](PrivateServer::restart): for a test that
    /// needs a plugin or `performance_schema`, which must not be changed on
    /// a shared server, e.g. `["--plugin-load-add=metadata_lock_info",
    /// "--performance-schema=ON"]`.
    ///
    /// # Errors
    ///
    /// As `start`; an option the server refuses makes it fail to answer
    /// (its `error.log` in the server's directory says why).
    pub fn start_with_args(args: &[&str]) -> Result<Self, String> {
        Self::start_inner(false, args)
    }

    /// Like [`start`](PrivateServer::start), with TLS: a throwaway CA and a
    /// server certificate for `127.0.0.1` and `localhost` (EC P-256, valid
    /// two days) are made with the `openssl` command in the server's
    /// directory, and passed to `mariadbd` (`--ssl-ca`, `--ssl-cert`,
    /// `--ssl-key`). Clients trust [`tls_ca`](PrivateServer::tls_ca). TLS is
    /// offered, not required: an account needs `REQUIRE SSL` to refuse
    /// plain connections. `performance_schema` is on, so that an observer
    /// can read another session's `Ssl_cipher` in
    /// `performance_schema.status_by_thread`.
    ///
    /// # Errors
    ///
    /// As `start`, and when `openssl` is not installed (the message says
    /// how to install it) or fails.
    pub fn start_with_tls() -> Result<Self, String> {
        Self::start_inner(true, &[])
    }

    fn start_inner(tls: bool, extra_args: &[&str]) -> Result<Self, String> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let program = find_program("mariadbd").ok_or("mariadbd is not installed")?;
        let openssl = if tls {
            Some(find_program("openssl").ok_or(
                "openssl is not installed (a TLS server needs it to make its throwaway \
                 certificates): apt-get install openssl",
            )?)
        } else {
            None
        };
        let install =
            find_program("mariadb-install-db").ok_or("mariadb-install-db is not installed")?;
        let dir = std::env::temp_dir().join(format!(
            "mysql-lock-server-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        if let Some(openssl) = &openssl {
            make_certificates(openssl, &dir.join("tls"))?;
        }
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.trim_ascii() == b"0")
            .unwrap_or(false);
        let mut init = Command::new(&install);
        init.args([
            "--no-defaults",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ])
        .arg(format!("--datadir={}", dir.join("data").display()));
        if as_root {
            init.arg("--user=root");
        }
        // One at a time in a process: two bootstraps at once were seen to
        // fail now and then (tests that each start a server run in
        // parallel threads). And one retry, on a clean directory.
        static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = INSTALLING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let output = init
                .stdout(Stdio::null())
                .output()
                .map_err(|e| format!("mariadb-install-db: {e}"))?;
            if output.status.success() {
                break;
            }
            if attempt == 2 {
                return Err(format!(
                    "mariadb-install-db failed: {}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            }
            let _ = std::fs::remove_dir_all(dir.join("data"));
        }
        let port = free_port().map_err(|e| e.to_string())?;
        // The watchdog outlives this process and stops the server (by its
        // pid file, so a restarted one too) once this process is gone.
        let watchdog = format!(
            "while kill -0 {parent} 2>/dev/null; do sleep 0.5; done; \
             kill $(cat '{dir}/mysqld.pid' 2>/dev/null) 2>/dev/null; sleep 3; rm -rf '{dir}'",
            parent = std::process::id(),
            dir = dir.display(),
        );
        Command::new("sh")
            .args(["-c", &watchdog])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the watchdog: {e}"))?;
        let server = Self {
            dir,
            port,
            program,
            as_root,
            tls,
            extra_args: extra_args.iter().map(|arg| (*arg).to_owned()).collect(),
            child: std::sync::Mutex::new(None),
        };
        server.launch()?;
        let mut conn =
            mysql::Conn::new(mysql::Opts::from_url(&server.root_url()).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        conn.query_drop("CREATE DATABASE IF NOT EXISTS test")
            .map_err(|e| e.to_string())?;
        Ok(server)
    }

    /// `mysql://root@127.0.0.1:PORT/test`, over TCP.
    pub fn url(&self) -> String {
        format!(
            "mysql://root@127.0.0.1:{}/test?prefer_socket=false",
            self.port
        )
    }

    /// The TCP port, on `127.0.0.1`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The certificate (PEM) of the CA that signed the server's certificate,
    /// when started with [`start_with_tls`](PrivateServer::start_with_tls).
    pub fn tls_ca(&self) -> Option<PathBuf> {
        self.tls.then(|| self.dir.join("tls").join("ca.pem"))
    }

    fn root_url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}/?prefer_socket=false", self.port)
    }

    fn launch(&self) -> Result<(), String> {
        let mut command = Command::new(&self.program);
        command
            .arg("--no-defaults")
            .arg(format!("--datadir={}", self.dir.join("data").display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!(
                "--socket={}",
                self.dir.join("mysqld.sock").display()
            ))
            .arg(format!(
                "--pid-file={}",
                self.dir.join("mysqld.pid").display()
            ))
            .arg(format!(
                "--log-error={}",
                self.dir.join("error.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if self.as_root {
            command.arg("--user=root");
        }
        if self.tls {
            let tls = self.dir.join("tls");
            command
                .arg(format!("--ssl-ca={}", tls.join("ca.pem").display()))
                .arg(format!(
                    "--ssl-cert={}",
                    tls.join("server-cert.pem").display()
                ))
                .arg(format!(
                    "--ssl-key={}",
                    tls.join("server-key.pem").display()
                ))
                .arg("--performance-schema=ON");
        }
        command.args(&self.extra_args);
        let child = command
            .spawn()
            .map_err(|e| format!("starting mariadbd: {e}"))?;
        *self.child.lock().unwrap() = Some(child);
        let started = Instant::now();
        loop {
            match probe(&self.root_url()) {
                Ok(()) => return Ok(()),
                Err(_) if started.elapsed() < Duration::from_secs(60) => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => return Err(format!("private mariadbd did not answer within 60 s: {e}")),
            }
        }
    }

    /// Stops the server (SIGTERM, as a service manager would) and waits
    /// for it to exit: every connection and every lock is gone.
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }

    /// Stops and starts the server again with the same data and port.
    pub fn restart(&self) -> Result<(), String> {
        self.stop();
        self.launch()
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The OpenSSL configuration of the throwaway CA: a self-signed root that
/// may sign certificates and nothing else.
const CA_CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
x509_extensions = ca_ext
[dn]
CN = mysql-lock throwaway test CA
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
";

/// The OpenSSL configuration of the server's certificate: an end entity for
/// TLS servers, valid for the addresses the tests connect to. rustls
/// (webpki) checks all of it: the names against the host in the URL, the
/// extended key usage, and that it is not a CA.
const SERVER_CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = localhost
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
";

/// Writes `ca.pem`, `server-cert.pem` and `server-key.pem` into `dir` (and
/// the CA's key, which nothing else uses): about 0.1 s. The configuration is
/// our own (`-config`), so the system's `openssl.cnf` can't change it.
fn make_certificates(openssl: &Path, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    for (name, text) in [("ca.cnf", CA_CONFIG), ("server.cnf", SERVER_CONFIG)] {
        std::fs::write(dir.join(name), text).map_err(|e| format!("writing {name}: {e}"))?;
    }
    let serial = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos())
        .to_string();
    let new_ec_key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    let steps = [
        format!(
            "req -x509 -new -days 2 -config ca.cnf {new_ec_key} -keyout ca-key.pem -out ca.pem"
        ),
        format!("req -new -config server.cnf {new_ec_key} -keyout server-key.pem -out server.csr"),
        format!(
            "x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -set_serial {serial} \
             -days 2 -extfile server.cnf -extensions server_ext -out server-cert.pem"
        ),
    ];
    // Every argument is a word without spaces: the file names are relative
    // to `dir`, where openssl runs.
    for args in steps {
        let output = Command::new(openssl)
            .args(args.split_whitespace())
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running openssl: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`openssl {args}` failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    Ok(())
}

/// The fallback server of [`url`]: lives as long as the process.
fn start_private_server() -> Result<String, String> {
    static SERVER: OnceLock<PrivateServer> = OnceLock::new();
    let server = PrivateServer::start()?;
    eprintln!("testkit: started a private MariaDB at {}", server.url());
    Ok(SERVER.get_or_init(|| server).url())
}

/// A function of another crate that takes the lock `backstop`: for the
/// test that re-entrance no macro can see is refused at run time.
#[mysql_lock::mysql_lock(name = "backstop", timeout = 10)]
pub fn backstop_in_another_crate() -> Result<(), mysql_lock::Error> {
    Ok(())
}
