//! The trap from the multiprocessing notes, in Rust: a parent waits for a
//! child process to exit before it reads the child's output, and the child
//! cannot exit because the pipe to its parent is full.
//!
//! A pipe holds a fixed number of bytes (`F_GETPIPE_SZ`: 64 KiB by default on
//! Linux). The child writes `--bytes` bytes to its standard output, which is
//! a pipe to the parent. If they fit, the child exits. If they do not, its
//! `write` blocks until someone reads, and in `--mode wait-then-read` nobody
//! does: the parent is inside `Child::wait`, waiting for the child. CPython's
//! `multiprocessing.Queue` blocks the same way: its feeder thread writes
//! into a pipe, and a process exits only once that thread has written
//! everything.
//!
//! So that the demonstration ends, a watchdog kills the child after
//! `--timeout-ms` (exit status 1, and the report says so). The two fixes read
//! while waiting: `--mode wait-with-output` (std reads both pipes while it
//! waits) and `--mode reader-thread` (a thread reads, the parent waits).
//!
//! ```text
//! cargo run --example pipe_deadlock                          # hangs, until the watchdog
//! cargo run --example pipe_deadlock -- --bytes 1000          # fits in the pipe: no hang
//! cargo run --example pipe_deadlock -- --mode wait-with-output
//! cargo run --example pipe_deadlock -- --mode reader-thread
//! ```
//!
//! Linux only: the watchdog kills the child through a pidfd, which names
//! that process and no other, even once it has exited.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use clap::builder::RangedI64ValueParser;
use clap::{Parser, ValueEnum};

#[path = "common/cli.rs"]
mod cli;

/// A parent that waits for its child before reading the child's output,
/// and a child that writes more than the pipe between them holds.
#[derive(Parser)]
#[command(name = "pipe_deadlock")]
struct Args {
    /// How the parent collects the child's output
    #[arg(long, value_enum, default_value_t = Mode::WaitThenRead)]
    mode: Mode,
    /// Bytes the child writes to its standard output (1 to 1073741824)
    #[arg(long, value_name = "N", default_value_t = 1 << 20, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(1..=1 << 30))]
    bytes: usize,
    /// The watchdog kills the child after this many milliseconds (1 to 600000)
    #[arg(long, value_name = "MS", default_value_t = 2000, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(1..=600_000))]
    timeout_ms: u64,
    /// Be the child: write N bytes to standard output (internal)
    #[arg(long, value_name = "N", hide = true, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(0..=1 << 30))]
    child_write: Option<usize>,
}

/// How the parent collects the child's output.
#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    /// `wait()`, then read: hangs once the output is larger than the pipe
    WaitThenRead,
    /// `wait_with_output()`, which reads while it waits
    WaitWithOutput,
    /// a thread reads the pipe while the parent waits
    ReaderThread,
}

/// The child: writes `bytes` bytes, in pieces of 4 KiB, and exits.
fn child(bytes: usize) -> io::Result<()> {
    let piece = [b'x'; 4096];
    let mut out = io::stdout().lock();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(piece.len());
        out.write_all(&piece[..n])?;
        left -= n;
    }
    out.flush()
}

/// How many bytes the pipe behind `fd` holds.
fn pipe_capacity(fd: RawFd) -> io::Result<usize> {
    // SAFETY: `fcntl` with `F_GETPIPE_SZ` only reads the size of the pipe
    // that `fd`, a descriptor this process owns, refers to.
    let size = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
    usize::try_from(size).map_err(|_| io::Error::last_os_error())
}

// ANCHOR: wait_then_read
/// The mistake: wait for the child to exit, then read what it wrote.
fn wait_then_read(child: &mut Child, stdout: &mut ChildStdout) -> io::Result<(ExitStatus, usize)> {
    let status = child.wait()?;
    let mut output = Vec::new();
    stdout.read_to_end(&mut output)?;
    Ok((status, output.len()))
}
// ANCHOR_END: wait_then_read

// ANCHOR: fixes
/// Fix 1: `wait_with_output` reads the child's pipes while it waits.
fn wait_with_output(child: Child) -> io::Result<(ExitStatus, usize)> {
    let output = child.wait_with_output()?;
    Ok((output.status, output.stdout.len()))
}

/// Fix 2: a thread empties the pipe while this one waits.
fn reader_thread(child: &mut Child, mut stdout: ChildStdout) -> io::Result<(ExitStatus, usize)> {
    let reader = thread::spawn(move || {
        let mut output = Vec::new();
        stdout.read_to_end(&mut output).map(|_| output.len())
    });
    let status = child.wait()?;
    let read = reader.join().expect("the reader thread panicked")?;
    Ok((status, read))
}
// ANCHOR_END: fixes

/// Kills the child if `done` has not been signalled within `timeout`;
/// returns whether it did. `pidfd` names the child even after it has exited
/// and been reaped, so the signal can never reach another process that got
/// its pid.
fn watchdog(pidfd: OwnedFd, timeout: Duration, done: mpsc::Receiver<()>) -> bool {
    match done.recv_timeout(timeout) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => false,
        Err(RecvTimeoutError::Timeout) => {
            // SAFETY: `pidfd_send_signal` takes a pidfd this process owns, a
            // signal number, no `siginfo` (null) and no flags.
            let sent = unsafe {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    pidfd.as_raw_fd(),
                    libc::SIGKILL,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                )
            };
            if sent != 0 {
                eprintln!(
                    "watchdog: cannot kill the child: {}",
                    io::Error::last_os_error()
                );
            }
            true
        }
    }
}

/// A pidfd for `child`, which has not been waited for yet.
fn pidfd_of(child: &Child) -> io::Result<OwnedFd> {
    // SAFETY: `pidfd_open` takes a pid and no flags; the child has not been
    // reaped (nobody has waited for it), so the pid is still its own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id(), 0) };
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::last_os_error())?;
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `pidfd_open` returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn main() -> io::Result<()> {
    let args: Args = cli::parse();
    if let Some(bytes) = args.child_write {
        return child(bytes);
    }

    let mut child = Command::new(std::env::current_exe()?)
        .args(["--child-write", &args.bytes.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdout = child.stdout.take().expect("piped");
    let capacity = pipe_capacity(stdout.as_raw_fd())?;
    println!(
        "the pipe holds {capacity} bytes (F_GETPIPE_SZ); the child writes {} bytes",
        args.bytes
    );

    let timeout = Duration::from_millis(args.timeout_ms);
    let (done_tx, done_rx) = mpsc::channel();
    let pidfd = pidfd_of(&child)?;
    let watchdog = thread::spawn(move || watchdog(pidfd, timeout, done_rx));
    let start = Instant::now();
    let (status, read) = match args.mode {
        Mode::WaitThenRead => {
            println!("parent: wait() for the child to exit, then read its output");
            wait_then_read(&mut child, &mut stdout)?
        }
        Mode::WaitWithOutput => {
            println!("parent: wait_with_output(), which reads while it waits");
            child.stdout = Some(stdout);
            wait_with_output(child)?
        }
        Mode::ReaderThread => {
            println!("parent: a thread reads the output while the parent waits");
            reader_thread(&mut child, stdout)?
        }
    };
    let elapsed = start.elapsed();
    // The child has been reaped; the watchdog's pidfd cannot reach another
    // process, so a late signal is harmless.
    let _ = done_tx.send(());
    let killed = watchdog.join().expect("the watchdog panicked");

    if killed {
        println!(
            "watchdog: the child had not exited after {} ms; killed it",
            args.timeout_ms
        );
        println!(
            "parent: then read {read} bytes, what the pipe held: the child was blocked \
             writing into a full pipe while the parent waited for it to exit"
        );
        std::process::exit(1);
    }
    println!(
        "parent: the child exited ({status}) after {:.1} ms; read all {read} bytes",
        elapsed.as_secs_f64() * 1e3
    );
    if read != args.bytes {
        eprintln!("pipe_deadlock: read {read} bytes, expected {}", args.bytes);
        std::process::exit(1);
    }
    Ok(())
}
