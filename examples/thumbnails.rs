//! A real download -> resize -> upload job over files, run by the crate's
//! `Pipeline`:
//!
//! - **download** reads each PNG image of the input folder into memory;
//! - **resize** decodes it and makes a thumbnail with the `image` crate;
//! - **upload** encodes the thumbnail as PNG and writes it to the output
//!   folder.
//!
//! With no `--input`, it first draws a set of test images into a folder
//! under the system's temporary directory (once; later runs reuse them), so
//! the command runs on a fresh machine. A progress bar shows on a terminal;
//! at the end the per-stage report says where the time went.
//!
//! ```text
//! cargo run --release --example thumbnails
//! cargo run --release --example thumbnails -- --input ~/Pictures --output /tmp/thumbs --workers 2,4,2
//! ```

use std::fs;
use std::io::{self, Cursor, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Instant;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use queuelab::Pipeline;

#[path = "common/args.rs"]
#[allow(dead_code)] // each example uses only some of the helpers
mod args;

const USAGE: &str = "\
Make thumbnails of every PNG image in a folder: download -> resize -> upload.

usage: thumbnails [--input DIR] [--output DIR] [--count N] [--width N] [--height N]
                  [--thumb N] [--workers D,R,U] [--capacity N]
  --input DIR        folder of .png images (default: generated test images)
  --output DIR       where thumbnails go (default: a folder in the temp directory)
  --count N          how many test images to generate without --input (default 64)
  --width/--height   size of the generated test images (default 1024 x 768)
  --thumb N          longest side of a thumbnail, in pixels (default 128)
  --workers D,R,U    workers for download, resize, upload (default 2,<cores>,2)
  --capacity N       capacity of the queues between stages (default 8)";

// ANCHOR: stages
/// "Download": read the file into memory.
fn download(path: PathBuf) -> Result<(PathBuf, Vec<u8>), String> {
    let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((path, bytes))
}

/// "Resize": decode the PNG and shrink it to fit in `side` x `side`,
/// keeping its proportions.
fn resize(path: PathBuf, bytes: &[u8], side: u32) -> Result<(PathBuf, DynamicImage), String> {
    let image = image::load_from_memory_with_format(bytes, ImageFormat::Png)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((path, image.thumbnail(side, side)))
}

/// "Upload": encode the thumbnail as PNG and write it to `out_dir`. Returns
/// the number of bytes written.
fn upload(path: &Path, thumb: &DynamicImage, out_dir: &Path) -> Result<u64, String> {
    let mut png = Cursor::new(Vec::new());
    thumb
        .write_to(&mut png, ImageFormat::Png)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let target = out_dir.join(format!("{stem}-thumb.png"));
    let png = png.into_inner();
    fs::write(&target, &png).map_err(|e| format!("{}: {e}", target.display()))?;
    Ok(png.len() as u64)
}
// ANCHOR_END: stages

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

/// Every `.png` file directly inside `dir`, sorted by name.
fn list_pngs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let is_png = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("png"));
        if is_png && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

fn main() {
    let mut args = args::Args::from_env(USAGE);
    let input: Option<PathBuf> = args.opt("--input");
    let work_dir = std::env::temp_dir().join("queuelab-thumbnails");
    let output: PathBuf = args.get("--output", work_dir.join("thumbs"));
    let count: u32 = args.get("--count", 64);
    let width: u32 = args.get("--width", 1024);
    let height: u32 = args.get("--height", 768);
    let side: u32 = args.get("--thumb", 128);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = args.list("--workers", &[2, cores, 2]);
    let capacity: usize = args.get("--capacity", 8);
    args.finish();
    let [download_workers, resize_workers, upload_workers] = workers[..] else {
        fail("--workers takes three numbers: download,resize,upload");
    };
    if workers.contains(&0) || capacity == 0 || side == 0 || width == 0 || height == 0 {
        fail("workers, capacity and sizes must be at least 1");
    }

    // With no --input, the job runs on exactly `count` generated test images
    // (older runs may have left more of them in the folder).
    let (input, paths) = match input {
        Some(dir) => match list_pngs(&dir) {
            Ok(paths) if paths.is_empty() => fail(format!("no .png files in {}", dir.display())),
            Ok(paths) => (dir, paths),
            Err(e) => fail(format!("cannot read {}: {e}", dir.display())),
        },
        None => {
            let dir = work_dir.join(format!("test-images-{width}x{height}"));
            let started = Instant::now();
            match generate_test_images(&dir, count, width, height) {
                Ok(0) => println!("using the test images in {}", dir.display()),
                Ok(n) => println!(
                    "drew {n} test images of {width}x{height} into {} in {:.2} s",
                    dir.display(),
                    started.elapsed().as_secs_f64()
                ),
                Err(e) => fail(format!("cannot make test images in {}: {e}", dir.display())),
            }
            let paths = (0..count).map(|i| test_image_path(&dir, i)).collect();
            (dir, paths)
        }
    };
    if let Err(e) = fs::create_dir_all(&output) {
        fail(format!("cannot create {}: {e}", output.display()));
    }
    println!(
        "{} images from {} -> thumbnails of at most {side}x{side} px in {}",
        paths.len(),
        input.display(),
        output.display()
    );

    // ANCHOR: pipeline
    // On a terminal a progress bar; otherwise (CI, a pipe) nothing.
    let progress = ProgressBar::new(paths.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images, {per_sec}, eta {eta}")
            .expect("a valid template"),
    );
    if !io::stderr().is_terminal() {
        progress.set_draw_target(ProgressDrawTarget::hidden());
    }
    let mut bytes_written = 0;
    let result = Pipeline::new(paths)
        .capacity(Some(capacity))
        .try_stage("download", download_workers, download)
        .try_stage(
            "resize",
            resize_workers,
            |(path, bytes): (PathBuf, Vec<u8>)| resize(path, &bytes, side),
        )
        .try_stage(
            "upload",
            upload_workers,
            |(path, thumb): (PathBuf, DynamicImage)| upload(&path, &thumb, &output),
        )
        .run_with_sink(|bytes| {
            bytes_written += bytes;
            progress.inc(1);
        });
    progress.finish_and_clear();
    // ANCHOR_END: pipeline

    match result {
        Ok(report) => {
            println!(
                "{} thumbnails written ({:.1} KiB) to {}\n\n{report}",
                report.items_out,
                bytes_written as f64 / 1024.0,
                output.display()
            );
        }
        Err(err) => {
            eprintln!("error: {err}\n\n{}", err.report());
            std::process::exit(1);
        }
    }
}
