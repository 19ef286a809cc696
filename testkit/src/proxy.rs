//! A loopback TCP proxy in front of the test server that can stop
//! forwarding, as a hung server, a frozen proxy or a broken network path
//! does: the sockets stay open, nothing arrives. No root, no iptables.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A proxy on `127.0.0.1:<port>` forwarding to the test server.
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// New connections are accepted but never forwarded.
    freeze_new: AtomicBool,
    /// Each flow's own switch.
    flows: Mutex<Vec<Arc<AtomicBool>>>,
    /// The local ports of the connections to the server: the server shows
    /// them as the client's port (`HOST` in `PROCESSLIST`).
    upstream_ports: Mutex<Vec<u16>>,
    stop: AtomicBool,
}

impl Proxy {
    /// Starts a proxy to the server of [`url`](crate::url) (its TCP address).
    pub fn start() -> Proxy {
        let opts = mysql::Opts::from_url(crate::url()).expect("valid URL");
        let target: SocketAddr = format!("{}:{}", opts.get_ip_or_hostname(), opts.get_tcp_port())
            .parse()
            .expect("the test server is at an IP address");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let shared = Arc::new(Shared::default());
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            while !accepting.stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let frozen = Arc::new(AtomicBool::new(
                            accepting.freeze_new.load(Ordering::Relaxed),
                        ));
                        accepting.flows.lock().unwrap().push(Arc::clone(&frozen));
                        let Ok(server) = TcpStream::connect(target) else {
                            continue;
                        };
                        if let Ok(local) = server.local_addr() {
                            accepting.upstream_ports.lock().unwrap().push(local.port());
                        }
                        for (from, to) in [
                            (client.try_clone().unwrap(), server.try_clone().unwrap()),
                            (server, client),
                        ] {
                            let frozen = Arc::clone(&frozen);
                            let shared = Arc::clone(&accepting);
                            thread::spawn(move || pump(from, to, &frozen, &shared));
                        }
                    }
                    Err(err) if err.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => return,
                }
            }
        });
        Proxy { port, shared }
    }

    /// The URL of the test server's `test` database through the proxy.
    pub fn url(&self) -> String {
        format!(
            "mysql://root@127.0.0.1:{}/test?prefer_socket=false",
            self.port
        )
    }

    /// Whether the server session with this `CONNECTION_ID()` came through
    /// this proxy (by its client port in `information_schema.PROCESSLIST`).
    pub fn carries(&self, admin: &mut mysql::Conn, connection_id: u64) -> bool {
        use mysql::prelude::Queryable;
        let host: Option<String> = admin
            .exec_first(
                "SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = ?",
                (connection_id,),
            )
            .ok()
            .flatten();
        let port = host.and_then(|host| host.rsplit_once(':')?.1.parse::<u16>().ok());
        port.is_some_and(|port| self.shared.upstream_ports.lock().unwrap().contains(&port))
    }

    /// Every flow, existing and new, stops forwarding (a hung server).
    pub fn freeze_all(&self) {
        self.shared.freeze_new.store(true, Ordering::Relaxed);
        self.freeze_existing();
    }

    /// The flows open now stop forwarding; new connections still work (a
    /// connection whose network path broke).
    pub fn freeze_existing(&self) {
        for flow in self.shared.flows.lock().unwrap().iter() {
            flow.store(true, Ordering::Relaxed);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

/// Copies `from` to `to` while the flow is not frozen; a frozen flow keeps
/// its sockets open and reads nothing.
fn pump(mut from: TcpStream, mut to: TcpStream, frozen: &AtomicBool, shared: &Shared) {
    let _ = from.set_read_timeout(Some(Duration::from_millis(20)));
    let mut buffer = [0u8; 16 * 1024];
    while !shared.stop.load(Ordering::Relaxed) {
        if frozen.load(Ordering::Relaxed) {
            thread::sleep(Duration::from_millis(20));
            continue;
        }
        match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
