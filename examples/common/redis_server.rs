//! Starting a `redis-server` of one's own, shared by the Redis example and
//! the Redis tests. Included with
//! `#[path = "…/examples/common/redis_server.rs"] mod redis_server;`.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;

/// Runs `program` (a `redis-server`) on loopback `port`, with its files in
/// `dir`, no snapshots, and an append-only file written at every command if
/// `appendonly`. Returns once it says it accepts connections, or `Ok(None)`
/// if it exited first (its port was taken in the meantime).
pub fn spawn(
    program: impl AsRef<OsStr>,
    port: u16,
    dir: &Path,
    appendonly: bool,
) -> io::Result<Option<Child>> {
    let persistence: &[&str] = if appendonly {
        &["--appendonly", "yes", "--appendfsync", "always"]
    } else {
        &["--appendonly", "no"]
    };
    let mut child = Command::new(program)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(dir)
        .args(["--save", "", "--daemonize", "no"])
        .args(persistence)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut log = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut line = String::new();
    loop {
        line.clear();
        match log.read_line(&mut line) {
            Ok(0) | Err(_) => break, // it exited
            Ok(_) if line.contains("Ready to accept connections") => {
                // Keep reading its log so that the pipe never fills.
                thread::spawn(move || io::copy(&mut log, &mut io::sink()));
                return Ok(Some(child));
            }
            Ok(_) => {}
        }
    }
    let _ = child.wait();
    Ok(None)
}
