//! `mysql-lock`: the library's locks from the shell.
//!
//! - `mysql-lock run --name NAME -- CMD ARGS...`: a fleet-wide `flock(1)`
//!   for cron jobs: runs the command while holding the lock.
//! - `mysql-lock list`, `mysql-lock holder NAME`: who holds what.
//! - `mysql-lock release NAME --kill`: ends the holder's connection.
//!
//! Names are encoded exactly as the library encodes them (the command uses
//! [`mysql_lock::Lock`]), so the command and a `#[mysql_lock]` function
//! exclude each other. Exit codes are in [`EXIT_CODES`] and `--help`.

// One audited `unsafe` block: kill(2) to forward a signal (`send_signal`).
#![deny(unsafe_code)]

mod json;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mysql_lock::{Error, Lock, ServerLock};
use signal_hook::consts::signal::{
    SIGCHLD, SIGHUP, SIGINT, SIGKILL, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
};
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::iterator::SignalsInfo;
use signal_hook::low_level::siginfo::Cause;
use std::ffi::OsString;
use std::io::Write;
use std::process::{Command, ExitCode};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The lock is busy: `--skip-if-busy` found it held, or `--timeout` ran
/// out (`EX_TEMPFAIL` of sysexits.h; try again later).
const EXIT_BUSY: u8 = 75;
/// The lock server could not be used: a bad URL, the server unreachable or
/// refusing, a failed statement, no list of held locks (`EX_UNAVAILABLE`).
const EXIT_UNAVAILABLE: u8 = 69;
/// The lock was found lost while the command ran (or during `--min-hold`,
/// or by the release), and the command exited 0: its work may have
/// overlapped with another holder's.
const EXIT_LOST: u8 = 76;
/// `holder`, `release`: the lock is free.
const EXIT_FREE: u8 = 1;
/// Bad usage (clap's own code), and `release` without `--kill`.
const EXIT_USAGE: u8 = 2;
/// The command could not be run: not executable (126) or not found (127),
/// as a shell says.
const EXIT_CANNOT_EXECUTE: u8 = 126;
const EXIT_NOT_FOUND: u8 = 127;

/// The exit codes, as `--help` shows them.
const EXIT_CODES: &str = "\
Exit codes:
  run      the command's own exit code; 128+N when it died from signal N;
           75 the lock is busy (--skip-if-busy found it held, or --timeout ran out);
           76 the lock was found lost (while the command ran, or before the
              release) and the command exited 0;
           126/127 the command is not executable / not found
  holder   0 held, 1 free
  release  0 killed the holder, 1 free, 2 refused without --kill
  any      69 the lock server could not be used (URL, connection, privileges,
           no list of held locks); 2 bad usage

The server's URL is --url or the DATABASE_URL environment variable
(mysql://user:password@host:3306/database); prefer the variable, which other
users can't read in the process list.";

/// Locks shared by every machine that uses one MySQL/MariaDB server.
#[derive(Parser)]
#[command(name = "mysql-lock", version, after_help = EXIT_CODES)]
struct Cli {
    /// The server: mysql://user:password@host:3306/database [default: $DATABASE_URL].
    #[arg(long, global = true, value_name = "URL")]
    url: Option<String>,
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Runs a command while holding a lock: a fleet-wide flock(1).
    ///
    /// Waits for the lock (without limit unless --timeout), runs the
    /// command, forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and
    /// SIGUSR2 to it, and exits with its exit code. The lock is checked
    /// while the command runs; a lost lock is reported on stderr.
    Run(RunArgs),
    /// Lists the user locks held on the server, with their holders.
    List {
        /// Only names (as written, or as the server shows them) starting with this.
        #[arg(long)]
        prefix: Option<String>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Shows who holds one lock (exit 1 when it is free).
    Holder {
        /// The lock's name, as the program that takes it writes it.
        name: String,
        /// JSON instead of a table (`null` when free).
        #[arg(long)]
        json: bool,
    },
    /// Frees a lock by ending its holder's connection: a last resort.
    ///
    /// KILL CONNECTION ends the holder's server session: every lock it
    /// holds is freed, and the holder's work goes on without it until it
    /// notices. Refused without --kill.
    Release {
        /// The lock's name, as the program that takes it writes it.
        name: String,
        /// Really end the holder's connection.
        #[arg(long)]
        kill: bool,
    },
}

#[derive(Args)]
struct RunArgs {
    /// The lock's name, as a #[mysql_lock] function or Lock::new writes it.
    #[arg(long)]
    name: String,
    /// Give up after this many seconds (exit 75) [default: wait without limit].
    #[arg(long, value_name = "SECONDS", conflicts_with = "skip_if_busy", value_parser = seconds)]
    timeout: Option<Duration>,
    /// Don't wait: exit 75 at once, quietly, when the lock is held.
    #[arg(long)]
    skip_if_busy: bool,
    /// Hold the lock at least this long from acquisition, even if the command ends sooner.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    min_hold: Option<Duration>,
    /// What to do when the lock is lost while the command runs: report it on
    /// stderr, or also send the command SIGTERM or SIGKILL.
    #[arg(long, value_enum, default_value_t = OnLost::Report)]
    on_lost: OnLost,
    /// How often the server is asked whether the lock is still held.
    #[arg(long, value_name = "SECONDS", default_value = "1", value_parser = seconds)]
    check_interval: Duration,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OnLost {
    /// Report on stderr; the command goes on.
    Report,
    /// Report, and send the command SIGTERM.
    Term,
    /// Report, and send the command SIGKILL.
    Kill,
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("`{text}` is not a number of seconds (e.g. 30 or 0.5)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let url = match cli.url.or_else(|| std::env::var("DATABASE_URL").ok()) {
        Some(url) => url,
        None => {
            return fail(
                EXIT_USAGE,
                "no server URL: pass --url mysql://user:password@host:3306/database or set \
                 DATABASE_URL",
            )
        }
    };
    if let Err(err) = mysql_lock::register(mysql_lock::DEFAULT_ALIAS, &url) {
        return fail(EXIT_UNAVAILABLE, &err.to_string());
    }
    let code = match cli.command {
        Commands::Run(args) => run(&args),
        Commands::List { prefix, json } => list(prefix.as_deref(), json),
        Commands::Holder { name, json } => holder(&name, json),
        Commands::Release { name, kill } => release(&name, kill),
    };
    ExitCode::from(code)
}

/// Prints `mysql-lock: message` on stderr and returns `code`.
fn fail(code: u8, message: &str) -> ExitCode {
    ExitCode::from(complain(code, message))
}

fn complain(code: u8, message: &str) -> u8 {
    let _ = writeln!(std::io::stderr().lock(), "mysql-lock: {message}");
    code
}

/// The signals forwarded to the command.
const FORWARDED: [i32; 6] = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2];

fn run(args: &RunArgs) -> u8 {
    mysql_lock::set_check_interval(args.check_interval);
    let lock = Lock::new(args.name.as_str()).timeout(args.timeout.unwrap_or(Lock::FOREVER));
    // Until the lock is held, signals keep their default action: a SIGTERM
    // while waiting ends the process, and the server frees its session.
    let guard = if args.skip_if_busy {
        match lock.try_acquire() {
            Ok(Some(guard)) => guard,
            Ok(None) => return EXIT_BUSY,
            Err(err) => return complain(EXIT_UNAVAILABLE, &err.to_string()),
        }
    } else {
        match lock.acquire() {
            Ok(guard) => guard,
            Err(err @ Error::Timeout { .. }) => return complain(EXIT_BUSY, &err.to_string()),
            Err(err) => return complain(EXIT_UNAVAILABLE, &err.to_string()),
        }
    };
    let (tx, signals) = mpsc::channel();
    let mut handled = FORWARDED.to_vec();
    handled.push(SIGCHLD);
    let mut listener = match SignalsInfo::<WithOrigin>::new(&handled) {
        Ok(listener) => listener,
        Err(err) => {
            return complain(
                EXIT_UNAVAILABLE,
                &format!("could not set up signal forwarding: {err}"),
            )
        }
    };
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for origin in listener.forever() {
                // A terminal's ^C (or ^\) is sent by the kernel to the whole
                // foreground process group: the command has it already.
                let from_terminal = origin.cause == Cause::Kernel;
                if tx.send((origin.signal, from_terminal)).is_err() {
                    break;
                }
            }
        });
    if let Err(err) = spawned {
        return complain(
            EXIT_UNAVAILABLE,
            &format!("could not start a thread: {err}"),
        );
    }
    let mut child = match Command::new(&args.command[0])
        .args(&args.command[1..])
        .spawn()
    {
        Ok(child) => child,
        Err(err) => {
            let code = if err.kind() == std::io::ErrorKind::NotFound {
                EXIT_NOT_FOUND
            } else {
                EXIT_CANNOT_EXECUTE
            };
            return complain(
                code,
                &format!("could not run {}: {err}", args.command[0].to_string_lossy()),
            );
        }
    };
    let pid = child.id();
    let mut lost = false;
    let mut stopping = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(err) => {
                complain(0, &format!("could not wait for the command: {err}"));
                break None;
            }
        }
        // Woken by SIGCHLD as soon as the command ends; every 100 ms to
        // look at the lock.
        match signals.recv_timeout(Duration::from_millis(100)) {
            Ok((SIGCHLD, _)) | Err(RecvTimeoutError::Timeout) => {}
            // The signal thread is gone (it never ends on its own): poll.
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(Duration::from_millis(100)),
            Ok((signal, from_terminal)) => {
                if !from_terminal {
                    send_signal(pid, signal);
                }
                // Told to stop: no --min-hold afterwards.
                stopping |= [SIGTERM, SIGINT, SIGHUP, SIGQUIT].contains(&signal);
            }
        }
        if !lost && guard.is_lost() {
            lost = true;
            complain(0, &lost_message(&args.name, Some(args.on_lost)));
            match args.on_lost {
                OnLost::Report => {}
                OnLost::Term => send_signal(pid, SIGTERM),
                OnLost::Kill => send_signal(pid, SIGKILL),
            }
        }
    };
    let mut code = match status {
        Some(status) => exit_code(status),
        None => EXIT_UNAVAILABLE,
    };
    if let Some(min_hold) = args.min_hold {
        // Hold on, unless told to stop or there is nothing left to hold.
        while !stopping && !guard.is_lost() {
            let left = min_hold.saturating_sub(guard.held_for());
            if left.is_zero() {
                break;
            }
            match signals.recv_timeout(left.min(Duration::from_millis(100))) {
                Ok((signal, _)) if [SIGTERM, SIGINT, SIGHUP, SIGQUIT].contains(&signal) => {
                    stopping = true;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(left.min(Duration::from_millis(100)));
                }
                _ => {}
            }
        }
    }
    if !lost && guard.is_lost() {
        lost = true;
        complain(0, &lost_message(&args.name, None));
    }
    if let Err(err) = guard.release() {
        // LockLost: found only now, by RELEASE_LOCK.
        if !lost {
            complain(0, &err.to_string());
        }
        lost = true;
    }
    if lost && code == 0 {
        code = EXIT_LOST;
    }
    code
}

/// The report of a lost lock, with what is done about it while the
/// command runs (`None`: it has ended).
fn lost_message(name: &str, on_lost: Option<OnLost>) -> String {
    let (when, action) = match on_lost {
        Some(OnLost::Report) => (
            "while the command ran",
            "the command goes on (--on-lost term or kill would stop it)",
        ),
        Some(OnLost::Term) => ("while the command ran", "sending the command SIGTERM"),
        Some(OnLost::Kill) => ("while the command ran", "sending the command SIGKILL"),
        None => ("after the command ended", "its work is done"),
    };
    format!(
        "lock `{name}` was lost {when} (its server connection ended or was killed): \
         another holder may run at the same time; {action}"
    )
}

/// The command's exit code, or 128+N when signal N ended it.
fn exit_code(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(signal)) => u8::try_from(128 + (signal & 0x7f)).unwrap_or(255),
        (None, None) => 1,
    }
}

/// kill(2) of the command's process. It has not been reaped yet (only the
/// loop that calls this reaps it), so its pid can't belong to another.
#[allow(unsafe_code)]
fn send_signal(pid: u32, signal: i32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(pid, signal);
    }
}

fn list(prefix: Option<&str>, json: bool) -> u8 {
    let alias = mysql_lock::DEFAULT_ALIAS;
    let locks = match prefix {
        Some(prefix) => mysql_lock::held_locks_with_prefix(alias, prefix),
        None => mysql_lock::held_locks(alias),
    };
    match locks {
        Ok(locks) => {
            let text = if json {
                json::locks(&locks)
            } else {
                table(&locks)
            };
            print!("{text}");
            0
        }
        Err(Error::NoLockList { reason, .. }) => complain(EXIT_UNAVAILABLE, &reason),
        Err(err) => complain(EXIT_UNAVAILABLE, &err.to_string()),
    }
}

fn holder(name: &str, json: bool) -> u8 {
    match mysql_lock::lock_holder(&Lock::new(name)) {
        Ok(found) => {
            let text = match (&found, json) {
                (Some(lock), true) => format!("{}\n", json::lock(lock)),
                (None, true) => "null\n".to_owned(),
                (Some(lock), false) => table(std::slice::from_ref(lock)),
                (None, false) => format!("lock `{name}` is free\n"),
            };
            print!("{text}");
            if found.is_some() {
                0
            } else {
                EXIT_FREE
            }
        }
        Err(err) => complain(EXIT_UNAVAILABLE, &err.to_string()),
    }
}

fn release(name: &str, kill: bool) -> u8 {
    let lock = Lock::new(name);
    if !kill {
        let holder = match mysql_lock::lock_holder(&lock) {
            Ok(Some(holder)) => format!("connection {}", holder.connection_id),
            Ok(None) => return complain(EXIT_FREE, &format!("lock `{name}` is free")),
            Err(err) => return complain(EXIT_UNAVAILABLE, &err.to_string()),
        };
        return complain(
            EXIT_USAGE,
            &format!(
                "refusing to release lock `{name}`, held by {holder}: a user lock can only be \
                 freed by its own session, so releasing it means ending the holder's \
                 connection, which frees every lock it holds while its work may go on; \
                 pass --kill to do it"
            ),
        );
    }
    match mysql_lock::kill_holder(&lock) {
        Ok(None) => complain(EXIT_FREE, &format!("lock `{name}` is free")),
        Ok(Some(id)) => {
            // The server frees the locks as the killed session ends.
            let deadline = Instant::now() + Duration::from_secs(5);
            let now = loop {
                match lock.holding_connection_id() {
                    Ok(Some(holder)) if holder == id && Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    other => break other,
                }
            };
            let state = match now {
                Ok(None) => "it is free now".to_owned(),
                Ok(Some(holder)) if holder == id => {
                    "it is still held by it 5 s later: check the server".to_owned()
                }
                Ok(Some(holder)) => format!("connection {holder} (a waiter) holds it now"),
                Err(err) => format!("could not check it since: {err}"),
            };
            println!("killed connection {id}, which held lock `{name}`: {state}");
            0
        }
        Err(err) => complain(EXIT_UNAVAILABLE, &err.to_string()),
    }
}

/// The held locks as an aligned table.
fn table(locks: &[ServerLock]) -> String {
    let mut rows = vec![[
        "NAME".to_owned(),
        "CONNECTION".to_owned(),
        "USER".to_owned(),
        "HOST".to_owned(),
        "HELD".to_owned(),
        "PROGRAM".to_owned(),
    ]];
    for lock in locks {
        let name = if lock.encoded {
            format!("{} (encoded)", lock.server_name)
        } else {
            lock.display_name().to_owned()
        };
        let held = lock
            .held_for
            .map_or("-".to_owned(), |held| format!("{:.1}s", held.as_secs_f64()));
        let program = match (lock.attribute("program_name"), lock.attribute("_pid")) {
            (Some(program), Some(pid)) => format!("{program} (pid {pid})"),
            (Some(program), None) => program.to_owned(),
            (None, Some(pid)) => format!("pid {pid}"),
            (None, None) => "-".to_owned(),
        };
        rows.push([
            name,
            lock.connection_id.to_string(),
            lock.user.clone().unwrap_or_else(|| "-".into()),
            lock.host.clone().unwrap_or_else(|| "-".into()),
            held,
            program,
        ]);
    }
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
