//! Starting a `redis-server` of one's own, shared by the Redis example and
//! the Redis tests. Included with
//! `#[path = "…/examples/common/redis_server.rs"] mod redis_server;`.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;

/// Runs `program` as [`spawn`] does, on a free loopback port, with its
/// files in a new directory `<temp dir>/<prefix>-<pid>-<port>`. A port
/// taken between the look-up and the start makes the server exit; then
/// another port is tried, five in all. Returns the server, its port and
/// its directory (the caller removes it).
pub fn start(
    program: impl AsRef<OsStr>,
    prefix: &str,
    appendonly: bool,
) -> io::Result<(Child, u16, PathBuf)> {
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        if let Some(child) = spawn(program.as_ref(), port, &dir, appendonly)? {
            return Ok((child, port, dir));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    Err(io::Error::other(
        "redis-server did not start on any of five ports",
    ))
}

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
