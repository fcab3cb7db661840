//! A real download -> resize -> upload job over files, run by the crate's
//! `Pipeline`:
//!
//! - **download** reads each PNG or JPEG image of the input folder into
//!   memory;
//! - **resize** decodes it and makes a thumbnail with the `image` crate (at
//!   most `--thumb` pixels on its longest side, and never larger than the
//!   image);
//! - **upload** encodes the thumbnail as PNG and writes it to the output
//!   folder, `a.png` or `a.jpg` as `a-thumb.png`.
//!
//! With `--http`, download and upload go over HTTP instead: the example
//! starts a server on a free loopback port (`examples/thumbnails/http.rs`)
//! that serves the input folder and stores uploads in the output folder;
//! download is a `GET` and upload a `PUT`, and `--latency-ms` makes the
//! server answer like a distant one.
//!
//! Two images that would give the same thumbnail name, ignoring case
//! (`a.png` and `a.PNG`), stop the job before anything is written.
//!
//! An image that cannot be read, fetched, decoded or stored is skipped and
//! named, with the reason, at the end; the others are still made, and the
//! exit status is 1. `--fail-fast` stops the whole job at the first failure
//! instead. With `--retries N`, download and upload try each image up to N
//! more times before they give up on it, for flaky I/O. Ctrl-C stops taking
//! new images and finishes those in flight; a second Ctrl-C drops them.
//!
//! With `--redis URL --role ROLE` (built with `--features redis`), this
//! process runs one stage only, and the queues between the stages live in
//! Redis: start one process per role, source, download, resize, upload and
//! sink, on one machine (they share files); any number of them for the
//! middle three (`examples/thumbnails/distributed.rs`,
//! `scripts/thumbnails_distributed.sh`).
//!
//! With no `--input`, it first draws a set of test images into a folder
//! under the system's temporary directory (once; later runs reuse them), so
//! the command runs on a fresh machine. On a terminal, one line per stage
//! shows its progress; at the end the per-stage report says where the time
//! went, and `--json` (built with `--features serde`) prints it as JSON.
//!
//! ```text
//! cargo run --release --example thumbnails
//! cargo run --release --example thumbnails -- --input ~/Pictures --output /tmp/thumbs --workers 2,4,2
//! cargo run --release --example thumbnails -- --http --latency-ms 20 --workers 3,4,5
//! ```

use std::collections::HashMap;
use std::fs;
use std::io::{self, Cursor, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::builder::RangedI64ValueParser;
use clap::{CommandFactory, Parser};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use queuelab::Pipeline;
use queuelab::pipeline::{CancelHandle, FailurePolicy, Progress};

#[path = "common/cli.rs"]
mod cli;
// Empty without the feature `redis` (its first line is
// `#![cfg(feature = "redis")]`), but read, so that cargo rebuilds this
// example when it changes.
#[path = "thumbnails/distributed.rs"]
mod distributed;
#[path = "thumbnails/http.rs"]
mod http;

/// The largest side of a test image or a thumbnail, in pixels.
const MAX_SIDE: i64 = 4096;
/// The most workers per stage.
const MAX_WORKERS: usize = 256;

/// Make thumbnails of every PNG and JPEG image in a folder: download -> resize -> upload.
#[derive(Parser)]
#[command(name = "thumbnails")]
struct Args {
    /// Folder of .png, .jpg and .jpeg images [default: generated test images]
    #[arg(long, value_name = "DIR")]
    input: Option<PathBuf>,
    /// Where thumbnails go
    #[arg(long, value_name = "DIR", default_value_os_t = work_dir().join("thumbs"))]
    output: PathBuf,
    /// How many test images to generate without --input (1 to 10000)
    #[arg(long, value_name = "N", default_value_t = 64, conflicts_with = "input",
          allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u32>::new().range(1..=10_000))]
    count: u32,
    /// Width of the generated test images, in pixels (1 to 4096)
    #[arg(long, value_name = "N", default_value_t = 1024, conflicts_with = "input",
          allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u32>::new().range(1..=MAX_SIDE))]
    width: u32,
    /// Height of the generated test images, in pixels (1 to 4096)
    #[arg(long, value_name = "N", default_value_t = 768, conflicts_with = "input",
          allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u32>::new().range(1..=MAX_SIDE))]
    height: u32,
    /// Longest side of a thumbnail, in pixels (1 to 4096); an image that already
    /// fits keeps its size: thumbnails are never enlarged
    #[arg(long, value_name = "N", default_value_t = 128, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u32>::new().range(1..=MAX_SIDE))]
    thumb: u32,
    /// Workers for download, resize, upload (1 to 256 each; with --redis, a
    /// process uses its role's) [default: 2,<cores>,2]
    #[arg(long, value_name = "D,R,U", value_parser = workers)]
    workers: Option<[usize; 3]>,
    /// Capacity of the queues between stages (1 to 1000000)
    #[arg(long, value_name = "N", default_value_t = 8, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(1..=1_000_000))]
    capacity: usize,
    /// Download by HTTP GET and upload by HTTP PUT, from and to a server that
    /// the example starts on a loopback port
    #[arg(long)]
    http: bool,
    /// With --http: the server's port (0 to 65535; 0 picks a free one)
    #[arg(long, value_name = "N", default_value_t = 0, requires = "http",
          allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u16>::new().range(0..=65_535))]
    port: u16,
    /// With --http: how long the server waits before each answer, like a
    /// distant one, in milliseconds (0 to 60000)
    #[arg(long, value_name = "MS", default_value_t = 0, requires = "http",
          allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(0..=60_000))]
    latency_ms: u64,
    /// Stop the whole job at the first image that fails, instead of skipping it
    #[arg(long)]
    fail_fast: bool,
    /// How many more times download and upload try an image that failed
    /// (0 to 10), waiting 50 ms, then 100 ms, ... in between
    #[arg(long, value_name = "N", default_value_t = 0, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u32>::new().range(0..=10))]
    retries: u32,
    /// Print the report as JSON instead of a table (needs `--features serde`)
    #[arg(long)]
    json: bool,
    /// Run one stage of the pipeline as this process, with its queues in the
    /// Redis server at URL (as redis://127.0.0.1:6379/; needs `--features
    /// redis`); with --role
    #[arg(long, value_name = "URL", requires = "role",
          conflicts_with_all = ["http", "json", "fail_fast", "retries"])]
    redis: Option<String>,
    /// With --redis: the stage this process runs; start one process per role
    /// (any number for download, resize and upload)
    #[arg(long, value_enum, requires = "redis")]
    role: Option<Role>,
    /// With --redis: what the queues' names start with, so that runs on one
    /// server do not mix
    #[arg(
        long,
        value_name = "NAME",
        default_value = "thumbnails",
        requires = "redis"
    )]
    name: String,
    /// With --redis: the folder the stages share for downloaded images and
    /// thumbnails not yet uploaded [default: a folder named after --name
    /// under the system's temporary directory]
    #[arg(long, value_name = "DIR", requires = "redis")]
    work: Option<PathBuf>,
    /// With --redis: how long an item may stay taken and not done before
    /// another worker takes it over, in milliseconds (1 to 3600000)
    #[arg(long, value_name = "MS", default_value_t = 30_000, requires = "redis",
          allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(1..=3_600_000))]
    visibility_ms: u64,
    /// With --role download, resize or upload, for a demonstration of a
    /// killed worker: after N images, a worker hands its next one on and
    /// then stops before marking it done, holding it until the process is
    /// killed
    #[arg(long, value_name = "N", requires = "redis", allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(0..=1_000_000))]
    stall_after: Option<u64>,
}

/// The processes of the pipeline across processes (`--redis`). (Plain
/// comments on the values: doc comments would switch `--help` to its long
/// layout.)
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Role {
    // Puts one job per image into the first queue.
    Source,
    // Copies each image into the shared work folder.
    Download,
    // Makes each thumbnail, into the shared work folder.
    Resize,
    // Copies each thumbnail to the output folder.
    Upload,
    // Records each thumbnail once, dropping repeats.
    Sink,
}

/// Parses `--workers`: three numbers.
fn workers(text: &str) -> Result<[usize; 3], String> {
    let parsed: Vec<usize> = text
        .split(',')
        .map(|part| match part.trim().parse() {
            Ok(n) if (1..=MAX_WORKERS).contains(&n) => Ok(n),
            _ => Err(format!(
                "{part:?} is not a whole number from 1 to {MAX_WORKERS}"
            )),
        })
        .collect::<Result<_, _>>()?;
    parsed
        .try_into()
        .map_err(|v: Vec<usize>| format!("takes three numbers, not {}", v.len()))
}

/// The folder for the test images and, by default, the thumbnails.
fn work_dir() -> PathBuf {
    std::env::temp_dir().join("queuelab-thumbnails")
}

// ANCHOR: stages
// The errors leave out the image's path: the pipeline's report names each
// failed item (by `describe`, in `main`).

/// "Download": read the file into memory, from the input folder or, with a
/// client, by HTTP `GET` of its name.
fn download(path: &Path, http: Option<&http::Client>) -> Result<(PathBuf, Vec<u8>), String> {
    let bytes = match http {
        Some(client) => client.get(file_name(path)?)?,
        None => fs::read(path).map_err(|e| e.to_string())?,
    };
    Ok((path.to_path_buf(), bytes))
}

/// "Resize": decode the PNG or JPEG (as its extension says) and shrink it
/// to fit in `side` x `side`, keeping its proportions. An image that
/// already fits keeps its size: a thumbnail is never larger than its source.
fn resize(path: PathBuf, bytes: &[u8], side: u32) -> Result<(PathBuf, DynamicImage), String> {
    let image = ImageFormat::from_path(&path)
        .and_then(|format| image::load_from_memory_with_format(bytes, format))
        .map_err(|e| e.to_string())?;
    if image.width() <= side && image.height() <= side {
        return Ok((path, image));
    }
    Ok((path, image.thumbnail(side, side)))
}

/// "Upload": encode the thumbnail as PNG and write it to `out_dir` or, with
/// a client, send it by HTTP `PUT`. Returns the number of bytes sent.
fn upload(
    path: &Path,
    thumb: &DynamicImage,
    out_dir: &Path,
    http: Option<&http::Client>,
) -> Result<u64, String> {
    let png = png(thumb)?;
    let name = thumb_name(path);
    match http {
        Some(client) => client.put(&name, &png)?,
        None => {
            let target = out_dir.join(name);
            fs::write(&target, &png).map_err(|e| format!("{}: {e}", target.display()))?;
        }
    }
    Ok(png.len() as u64)
}
// ANCHOR_END: stages

/// The thumbnail encoded as PNG.
fn png(thumb: &DynamicImage) -> Result<Vec<u8>, String> {
    let mut png = Cursor::new(Vec::new());
    thumb
        .write_to(&mut png, ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(png.into_inner())
}

/// The name of the file at `path`, for a URL.
fn file_name(path: &Path) -> Result<&str, String> {
    path.file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| format!("{}: the name is not UTF-8 text", path.display()))
}

/// The file name of the thumbnail of `path`: `a.png` -> `a-thumb.png`.
fn thumb_name(path: &Path) -> String {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    format!("{stem}-thumb.png")
}

/// Two of `paths` whose thumbnails would have the same name, ignoring case
/// (`a.png` and `a.PNG`): one thumbnail would overwrite the other (on a
/// file system that ignores case, also `a.png` and `A.png`).
fn same_thumb_name(paths: &[PathBuf]) -> Option<(&Path, &Path)> {
    let mut seen = HashMap::new();
    for path in paths {
        if let Some(first) = seen.insert(thumb_name(path).to_lowercase(), path) {
            return Some((first, path));
        }
    }
    None
}

/// Draws test image number `i`: colourful, different for every `i`, cheap
/// to compute.
fn draw(i: u32, width: u32, height: u32) -> RgbImage {
    let shift = i.wrapping_mul(37);
    RgbImage::from_fn(width, height, |x, y| {
        let r = ((x + shift) ^ y) as u8;
        let g = ((x / 2 + y + shift * 3) & 0xff) as u8;
        let b = (((x * y) >> 6) + shift) as u8;
        Rgb([r, g, b])
    })
}

/// Where test image `i` lives in `dir`.
fn test_image_path(dir: &Path, i: u32) -> PathBuf {
    dir.join(format!("test-{i:03}.png"))
}

/// Makes sure `dir` holds `count` test images of the given size; draws the
/// missing ones (with a pipeline, of course). Returns how many it drew.
fn generate_test_images(dir: &Path, count: u32, width: u32, height: u32) -> io::Result<u64> {
    fs::create_dir_all(dir)?;
    let missing: Vec<u32> = (0..count)
        .filter(|&i| !test_image_path(dir, i).exists())
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let report = Pipeline::new(missing)
        .capacity(Some(4))
        .stage("draw", cores, |i: u32| (i, draw(i, width, height)))
        .try_stage("save", cores, |(i, image): (u32, RgbImage)| {
            // Write under a temporary name, then rename: an interrupted run
            // leaves no half-written image behind to be reused next time.
            let partial = dir.join(format!("test-{i:03}.png.partial"));
            image
                .save_with_format(&partial, ImageFormat::Png)
                .map_err(|e| format!("{}: {e}", partial.display()))?;
            let done = test_image_path(dir, i);
            fs::rename(&partial, &done).map_err(|e| format!("{}: {e}", done.display()))
        })
        .run_with_sink(|()| {})
        .map_err(io::Error::other)?;
    Ok(report.items_out)
}

/// Every `.png`, `.jpg` and `.jpeg` entry directly inside `dir` that is not
/// a folder, sorted by name. A link to nowhere is listed, so that the run
/// says it cannot read it instead of leaving it out without a word.
fn list_images(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let is_image = path.extension().is_some_and(|ext| {
            ["png", "jpg", "jpeg"]
                .iter()
                .any(|known| ext.eq_ignore_ascii_case(known))
        });
        if is_image && !path.is_dir() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// The images of a run and the folder they are in: those in `input`, or,
/// with no `input`, exactly `count` generated test images (drawn if missing;
/// older runs may have left more of them in the folder). Says through `say`
/// which test images it used. Stops the program if there are none, or if two
/// would make the same thumbnail in `output`.
fn images(
    input: Option<PathBuf>,
    [count, width, height]: [u32; 3],
    output: &Path,
    say: impl Fn(String),
) -> (PathBuf, Vec<PathBuf>) {
    let (input, paths) = match input {
        Some(dir) => match list_images(&dir) {
            Ok(paths) if paths.is_empty() => {
                fail(format!("no .png, .jpg or .jpeg files in {}", dir.display()))
            }
            Ok(paths) => (dir, paths),
            Err(e) => fail(format!("cannot read {}: {e}", dir.display())),
        },
        None => {
            let dir = work_dir().join(format!("test-images-{width}x{height}"));
            let started = Instant::now();
            match generate_test_images(&dir, count, width, height) {
                Ok(0) => say(format!("using the test images in {}", dir.display())),
                Ok(n) => say(format!(
                    "drew {n} test images of {width}x{height} into {} in {:.2} s",
                    dir.display(),
                    started.elapsed().as_secs_f64()
                )),
                Err(e) => fail(format!("cannot make test images in {}: {e}", dir.display())),
            }
            let paths = (0..count).map(|i| test_image_path(&dir, i)).collect();
            (dir, paths)
        }
    };
    if let Some((first, second)) = same_thumb_name(&paths) {
        fail(format!(
            "{} and {} would both make the thumbnail {}: rename one of them",
            first.display(),
            second.display(),
            output.join(thumb_name(second)).display()
        ));
    }
    (input, paths)
}

/// One line per stage on a terminal (none elsewhere): items done, failed,
/// the fill of the stage's input queue, and the share of the time its
/// workers were busy.
struct StageLines {
    _all: MultiProgress,
    lines: Vec<ProgressBar>,
}

impl StageLines {
    fn new(stages: &[&str], images: u64) -> Self {
        let all = MultiProgress::with_draw_target(if io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let style = ProgressStyle::with_template("{prefix:>8} {bar:30} {pos:>5}/{len} {msg}")
            .expect("a valid template");
        let lines = stages
            .iter()
            .map(|name| {
                let line = ProgressBar::new(images)
                    .with_style(style.clone())
                    .with_prefix(name.to_string());
                all.add(line)
            })
            .collect();
        StageLines { _all: all, lines }
    }

    fn show(&self, progress: &Progress) {
        for (line, stage) in self.lines.iter().zip(&progress.stages) {
            line.set_position(stage.done + stage.failed);
            let queue = match stage.queue_capacity {
                Some(capacity) => format!("{}/{capacity}", stage.queue_len),
                None => stage.queue_len.to_string(),
            };
            line.set_message(format!(
                "failed {:>3}  queue {queue:>7}  busy {:>3.0}%",
                stage.failed,
                stage.busy * 100.0
            ));
        }
    }

    fn finish(&self) {
        for line in &self.lines {
            line.finish_and_clear();
        }
    }
}

/// Ctrl-C: the first stops taking new images and lets those in flight
/// finish; a second drops those too.
fn stop_on_ctrl_c(cancel: CancelHandle) {
    let presses = AtomicU32::new(0);
    let set = ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::Relaxed) == 0 {
            eprintln!("stopping: finishing the images in flight (Ctrl-C again drops them)");
            cancel.cancel_graceful();
        } else {
            cancel.cancel_now();
        }
    });
    if let Err(e) = set {
        eprintln!("warning: Ctrl-C will stop the job at once: {e}");
    }
}

/// The report as JSON, for scripts.
#[cfg(feature = "serde")]
fn print_json(report: &queuelab::PipelineReport) {
    println!(
        "{}",
        serde_json::to_string_pretty(report).expect("a report is plain data")
    );
}

#[cfg(not(feature = "serde"))]
fn print_json(_: &queuelab::PipelineReport) {
    unreachable!("--json is refused without the serde feature")
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

/// `--redis`: one stage of the pipeline as this process
/// (`examples/thumbnails/distributed.rs`).
#[cfg(feature = "redis")]
fn distributed(args: Args) -> ! {
    std::process::exit(distributed::run(args))
}

#[cfg(not(feature = "redis"))]
fn distributed(_: Args) -> ! {
    eprintln!(
        "error: --redis needs the crate's Redis support: \
         cargo run --example thumbnails --features redis -- --redis URL --role ROLE"
    );
    std::process::exit(2);
}

fn main() {
    let args: Args = cli::parse();
    if args.stall_after.is_some() && matches!(args.role, Some(Role::Source | Role::Sink)) {
        Args::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--stall-after is for the roles download, resize and upload",
            )
            .exit();
    }
    if args.redis.is_some() {
        distributed(args);
    }
    let Args {
        input,
        output,
        count,
        width,
        height,
        thumb: side,
        workers,
        capacity,
        http,
        port,
        latency_ms,
        fail_fast,
        retries,
        json,
        ..
    } = args;
    // With --json, stdout is for the JSON alone; what the job says goes to
    // stderr.
    macro_rules! say {
        ($($arg:tt)*) => {
            if json { eprintln!($($arg)*) } else { println!($($arg)*) }
        };
    }
    if json && !cfg!(feature = "serde") {
        eprintln!(
            "error: --json needs the report's JSON support: \
             cargo run --example thumbnails --features serde -- --json"
        );
        std::process::exit(2);
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let [download_workers, resize_workers, upload_workers] = workers.unwrap_or([2, cores, 2]);

    let (input, paths) = images(input, [count, width, height], &output, |line| {
        say!("{line}")
    });
    if let Err(e) = fs::create_dir_all(&output) {
        fail(format!("cannot create {}: {e}", output.display()));
    }
    say!(
        "{} images from {} -> thumbnails of at most {side}x{side} px in {}",
        paths.len(),
        input.display(),
        output.display()
    );

    // With --http, a server on a loopback port answers on a thread of its
    // own, in a scope that ends only once the server has stopped.
    let latency = Duration::from_millis(latency_ms);
    let server = http.then(|| http::Server::bind(port).unwrap_or_else(|e| fail(e)));
    if let Some(server) = &server {
        say!(
            "download by GET and upload by PUT from {}, answering after {latency_ms} ms",
            server.url()
        );
    }
    let (result, bytes_written) = thread::scope(|scope| {
        // Stops the server at the end of this block, also during a panic
        // (the scope would otherwise wait for it for ever).
        let _stop = server.as_ref().map(http::StopOnDrop);
        let client = server.as_ref().map(|server| {
            scope.spawn(|| server.serve(&input, &output, latency));
            http::Client::new(server.url())
        });
        let http = client.as_ref();

        // ANCHOR: pipeline
        // A bad image is skipped and named at the end, unless --fail-fast.
        // Download and upload may fail for a moment (a dropped connection):
        // with --retries they try again first. Only stages that borrow their
        // item can retry, hence `try_stage_ref`.
        let on_error = if fail_fast {
            FailurePolicy::fail_fast()
        } else {
            FailurePolicy::skip()
        };
        let flaky = match (retries, fail_fast) {
            (0, _) => on_error,
            (n, true) => FailurePolicy::retry(n + 1, Duration::from_millis(50)),
            (n, false) => FailurePolicy::retry(n + 1, Duration::from_millis(50)).then_skip(),
        };
        let lines = StageLines::new(&["download", "resize", "upload"], paths.len() as u64);
        let pipeline = Pipeline::new(paths)
            .capacity(Some(capacity))
            .on_failure(on_error)
            .describe(|path: &PathBuf| path.display().to_string())
            .try_stage_ref("download", download_workers, |path: &PathBuf| {
                download(path, http)
            })
            .stage_on_failure(flaky)
            .try_stage(
                "resize",
                resize_workers,
                |(path, bytes): (PathBuf, Vec<u8>)| resize(path, &bytes, side),
            )
            .try_stage_ref(
                "upload",
                upload_workers,
                |(path, thumb): &(PathBuf, DynamicImage)| upload(path, thumb, &output, http),
            )
            .stage_on_failure(flaky)
            .on_progress(Duration::from_millis(200), |progress| lines.show(progress));
        stop_on_ctrl_c(pipeline.cancel_handle());
        let mut bytes_written = 0;
        let result = pipeline.run_with_sink(|bytes| bytes_written += bytes);
        lines.finish();
        // ANCHOR_END: pipeline
        (result, bytes_written)
    });

    let report = match result {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {err}");
            if json {
                print_json(err.report());
            } else {
                eprintln!("\n{}", err.report());
            }
            std::process::exit(1);
        }
    };
    if json {
        print_json(&report);
    } else {
        println!(
            "{} thumbnails written ({:.1} KiB) to {}\n\n{report}",
            report.items_out,
            bytes_written as f64 / 1024.0,
            output.display()
        );
    }
    if report.cancelled.is_some() {
        std::process::exit(130);
    }
    if !report.failures.is_empty() {
        eprintln!(
            "error: {} of the images failed (listed above); the others are done",
            report.failures.len()
        );
        std::process::exit(1);
    }
}
