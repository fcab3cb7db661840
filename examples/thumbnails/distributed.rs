//! `thumbnails --redis URL --role ROLE`: the same job across processes,
//! included by `thumbnails.rs` (feature `redis`). Each process runs one
//! stage with its own worker threads, and the queues between the stages are
//! `queuelab::redis::RedisQueue`s named after `--name`:
//!
//! ```text
//! source -> NAME-download -> download -> NAME-resize -> resize
//!        -> NAME-upload -> upload -> NAME-sink -> sink
//! ```
//!
//! - **source** puts one job per image (its file name and path) and closes
//!   the first queue;
//! - **download** copies the image into the shared work folder (`--work`);
//! - **resize** makes the thumbnail into the work folder, as a PNG file;
//! - **upload** copies the thumbnail into the output folder;
//! - **sink** records each image once, in the Redis set `NAME-delivered`,
//!   and drops a repeat.
//!
//! A job carries the path of a file, not its bytes: all the processes run on
//! one machine and share its file system. On separate machines the files
//! would go to object storage or an HTTP server that every machine reaches.
//!
//! Delivery is at-least-once: a worker that dies holding a job has it
//! handed out again, so the same thumbnail can reach the sink twice. Every
//! stage but the sink is idempotent (it writes the same file again, under
//! a temporary name and then renamed); the sink records the ids in a set
//! and drops a repeat.
//!
//! A stage's process closes its output queue only when its input is
//! finished: every worker's iterator has ended (the input is closed and
//! nothing in it is held by anyone else), and `join` on the input says that
//! every job ever put into it, by any process, is done. So the last process
//! of a stage to finish closes the next queue, also when another process of
//! that stage was killed (its jobs are taken over after `--visibility-ms`).
#![cfg(feature = "redis")]

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use queuelab::redis::RedisQueue;
use serde::{Deserialize, Serialize};

use super::{Args, Role, download, fail, images, png, resize, thumb_name, work_dir};

/// What crosses Redis from one stage to the next, as JSON.
#[derive(Serialize, Deserialize)]
struct Job {
    /// The source image's file name, `test-003.png`: the id by which the
    /// sink knows a repeat.
    image: String,
    /// The file the next stage reads: the image, its copy, its thumbnail.
    path: PathBuf,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Download => "download",
            Role::Resize => "resize",
            Role::Upload => "upload",
            Role::Sink => "sink",
        }
    }

    /// The stage after this one.
    fn next(self) -> Role {
        match self {
            Role::Source => Role::Download,
            Role::Download => Role::Resize,
            Role::Resize => Role::Upload,
            Role::Upload => Role::Sink,
            Role::Sink => unreachable!("the sink is the last stage"),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the queues are and how they are opened; the same in every process.
struct Broker {
    url: String,
    prefix: String,
    capacity: usize,
    visibility: Duration,
}

impl Broker {
    /// The name of the queue that `role` reads.
    fn queue_name(&self, role: Role) -> String {
        format!("{}-{role}", self.prefix)
    }

    /// A new handle on the queue that `role` reads: a consumer of its own.
    fn open(&self, role: Role) -> Result<RedisQueue<Job>, String> {
        let name = self.queue_name(role);
        RedisQueue::builder(&self.url, &name)
            .bounded(self.capacity)
            .visibility_timeout(self.visibility)
            .open()
            .map_err(|e| format!("cannot open the queue {name} at {}: {e}", self.url))
    }
}

/// Runs the role `--role` until its input is finished; returns the exit
/// status.
pub fn run(args: Args) -> i32 {
    let role = args.role.expect("clap: --redis requires --role");
    let broker = Broker {
        url: args.redis.clone().expect("--redis was given"),
        prefix: args.name.clone(),
        capacity: args.capacity,
        visibility: Duration::from_millis(args.visibility_ms),
    };
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| work_dir().join(format!("redis-{}", args.name)));
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    let [download_workers, resize_workers, upload_workers] = args.workers.unwrap_or([2, cores, 2]);
    let (side, output) = (args.thumb, args.output.clone());
    let stall = args.stall_after;
    match role {
        Role::Source => source(&broker, args),
        Role::Download => {
            let dir = make_dir(work.join("downloaded"));
            stage(&broker, role, download_workers, stall, |job| {
                let (_, bytes) = download(&job.path, None)?;
                write_whole(&dir.join(&job.image), &bytes)
            })
        }
        Role::Resize => {
            let dir = make_dir(work.join("resized"));
            stage(&broker, role, resize_workers, stall, |job| {
                let (path, thumb) = resize(job.path.clone(), &read(&job.path)?, side)?;
                write_whole(&dir.join(thumb_name(&path)), &png(&thumb)?)
            })
        }
        Role::Upload => {
            let dir = make_dir(output);
            stage(&broker, role, upload_workers, stall, |job| {
                let name = job.path.file_name().ok_or("the job names no file")?;
                write_whole(&dir.join(name), &read(&job.path)?)
            })
        }
        Role::Sink => sink(&broker),
    }
}

/// Creates `dir` if missing, or stops the program.
fn make_dir(dir: PathBuf) -> PathBuf {
    fs::create_dir_all(&dir)
        .unwrap_or_else(|e| fail(format!("cannot create {}: {e}", dir.display())));
    dir
}

/// The bytes of the file at `path`; an error names the file.
fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `bytes` to `target` under a name of its own, then renames it: a
/// reader sees the whole file or none, also when a job is done twice at
/// the same time. Returns `target`.
fn write_whole(target: &Path, bytes: &[u8]) -> Result<PathBuf, String> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let partial = target.with_extension(format!(
        "{}-{}.partial",
        process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    fs::write(&partial, bytes).map_err(|e| format!("{}: {e}", partial.display()))?;
    fs::rename(&partial, target).map_err(|e| format!("{}: {e}", target.display()))?;
    Ok(target.to_path_buf())
}

/// The source: one job per image into the first queue, then closes it.
fn source(broker: &Broker, args: Args) -> i32 {
    let say = |line: String| println!("source: {line}");
    let (dir, paths) = images(
        args.input,
        [args.count, args.width, args.height],
        &args.output,
        say,
    );
    let name = broker.queue_name(Role::Download);
    let queue = broker.open(Role::Download).unwrap_or_else(|e| fail(e));
    if queue.is_closed().unwrap_or_else(|e| fail(e)) {
        fail(format!(
            "the queue {name} was closed by an earlier run: give this run another --name"
        ));
    }
    for path in &paths {
        let path =
            std::path::absolute(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
        let image = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if let Err(e) = queue.put(Job { image, path }) {
            fail(format!("{name}: {e}"));
        }
    }
    queue.close().unwrap_or_else(|e| fail(e));
    println!(
        "source: put {} images from {} into {name}, and closed it",
        paths.len(),
        dir.display()
    );
    0
}

/// What one worker did.
#[derive(Default)]
struct Counts {
    done: u64,
    failed: u64,
}

/// Runs `workers` threads of stage `role`, each with handles of its own on
/// the input and output queues; `work` turns a job's file into the file
/// the next stage reads. Once every worker's input has ended, waits until
/// every job of the input, in every process, is done, and closes the
/// output.
fn stage(
    broker: &Broker,
    role: Role,
    workers: usize,
    stall_after: Option<u64>,
    work: impl Fn(&Job) -> Result<PathBuf, String> + Sync,
) -> i32 {
    let (from, to) = (broker.queue_name(role), broker.queue_name(role.next()));
    println!(
        "{role} (pid {}): {workers} workers, {from} -> {to}",
        process::id()
    );
    let handed_on = AtomicU64::new(0);
    let results: Vec<Result<Counts, String>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..workers)
            .map(|_| scope.spawn(|| worker(broker, role, &work, &handed_on, stall_after)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err("a worker panicked".into())))
            .collect()
    });
    let mut total = Counts::default();
    for result in results {
        match result {
            Ok(counts) => {
                total.done += counts.done;
                total.failed += counts.failed;
            }
            // The jobs a failed worker holds are taken over by others after
            // the visibility timeout; this process does not close `to`.
            Err(e) => fail(format!("{role}: {e}")),
        }
    }
    // ANCHOR: finish
    // Every worker's input has ended. `join` waits until every job ever put
    // into the input, taken by any process, is done, and a job is marked
    // done only after its result was put: only then may the next queue be
    // closed. Every process of the stage closes it; closing is idempotent.
    let finished = broker.open(role).and_then(|input| {
        input.join().map_err(|e| format!("{from}: {e}"))?;
        let output = broker.open(role.next())?;
        output.close().map_err(|e| format!("{to}: {e}"))
    });
    if let Err(e) = finished {
        fail(format!("{role}: {e}"));
    }
    // ANCHOR_END: finish
    println!(
        "{role} (pid {}): {} images done, {} failed; {from} finished, closed {to}",
        process::id(),
        total.done,
        total.failed
    );
    i32::from(total.failed > 0)
}

// ANCHOR: worker
/// One worker: takes jobs until the input is closed and drained. The
/// iterator marks a job done when the worker asks for the next one, that
/// is after its result was put into the next queue.
fn worker(
    broker: &Broker,
    role: Role,
    work: &(impl Fn(&Job) -> Result<PathBuf, String> + Sync),
    handed_on: &AtomicU64,
    stall_after: Option<u64>,
) -> Result<Counts, String> {
    let (input, output) = (broker.open(role)?, broker.open(role.next())?);
    let mut counts = Counts::default();
    for job in &input {
        let job = job.map_err(|e| format!("{}: {e}", broker.queue_name(role)))?;
        let path = match work(&job) {
            Ok(path) => path,
            Err(reason) => {
                eprintln!("{role}: skipped {}: {reason}", job.image);
                counts.failed += 1;
                continue;
            }
        };
        let image = job.image;
        output
            .put(Job {
                image: image.clone(),
                path,
            })
            .map_err(|e| format!("{}: {e}: {image}", broker.queue_name(role.next())))?;
        counts.done += 1;
        if stall_after == Some(handed_on.fetch_add(1, Ordering::Relaxed)) {
            println!(
                "{role} (pid {}): stalled holding {image}: handed on, not marked done",
                process::id()
            );
            let _ = io::stdout().flush();
            loop {
                thread::park();
            }
        }
    }
    Ok(counts)
}
// ANCHOR_END: worker

// ANCHOR: sink
/// The sink: records each image once, in the Redis set `NAME-delivered`,
/// before the job is marked done, and drops a repeat. `SADD` answers
/// whether the id is new, so a sink started again after a crash, or a
/// second sink, drops a repeat too.
fn sink(broker: &Broker) -> i32 {
    let record = format!("{}-delivered", broker.prefix);
    let mut conn = redis::Client::open(broker.url.as_str())
        .and_then(|client| client.get_connection())
        .unwrap_or_else(|e| fail(format!("cannot connect to {}: {e}", broker.url)));
    let from = broker.queue_name(Role::Sink);
    let input = broker.open(Role::Sink).unwrap_or_else(|e| fail(e));
    println!("sink (pid {}): {from} -> the set {record}", process::id());
    let (mut delivered, mut repeats) = (0, Vec::new());
    for job in &input {
        let job = job.unwrap_or_else(|e| fail(format!("{from}: {e}")));
        let added: i64 = redis::cmd("SADD")
            .arg(&record)
            .arg(&job.image)
            .query(&mut conn)
            .unwrap_or_else(|e| fail(format!("{record}: {e}")));
        if added == 1 {
            delivered += 1;
            println!("sink: delivered {} as {}", job.image, job.path.display());
        } else {
            println!("sink: dropped a repeat of {}", job.image);
            repeats.push(job.image);
        }
    }
    println!(
        "sink: {from} finished; {delivered} thumbnails delivered, {} repeat(s) dropped {repeats:?}",
        repeats.len()
    );
    0
}
// ANCHOR_END: sink
