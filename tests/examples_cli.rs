//! The examples' command lines: a bad argument is refused with a message that
//! names it, the usage line and exit status 2, before anything runs (never
//! a panic, never ignored); `--help` prints the options and exits with 0. And
//! rules of the thumbnails example: two inputs that would write the same
//! thumbnail are refused before anything is written, a thumbnail is never
//! larger than its source, `--http` delivers every thumbnail through its own
//! loopback server, and a missing or corrupt image fails the run with an
//! error that names it.
//!
//! Every run of an example has a watchdog: one that has not ended within
//! `TIMEOUT` (a server that never stops, a request never answered) is killed
//! and fails its test.
//!
//! The tests run the example binaries that cargo builds into
//! `target/<profile>/examples/`. A plain `cargo test` builds them first;
//! `cargo test --test examples_cli` alone does not, so a binary that is
//! missing or older than its source fails the test with that advice.
#![cfg(not(loom))]

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use image::{ImageFormat, RgbImage};

/// Every example, with the options its `--help` must list (the scripts, CI
/// and the book use them).
const EXAMPLES: [(&str, &[&str]); 8] = [
    (
        "producer_consumer",
        &["--delay-ms", "--items", "--capacity"],
    ),
    (
        "busy_polling",
        &[
            "--items",
            "--strategy",
            "--sleep-ms",
            "--latency-us",
            "--json",
        ],
    ),
    (
        "pipeline",
        &[
            "--items",
            "--latency-ms",
            "--workers",
            "--capacity",
            "--json",
        ],
    ),
    ("memory", &["--items"]),
    (
        "ordered_cost",
        &[
            "--items",
            "--workers",
            "--latency-us",
            "--slow-every",
            "--runs",
            "--windows",
        ],
    ),
    ("yield_cost", &["--threads", "--yields", "--hogs"]),
    ("pipe_deadlock", &["--mode", "--bytes", "--timeout-ms"]),
    (
        "thumbnails",
        &[
            "--input",
            "--output",
            "--count",
            "--width",
            "--height",
            "--thumb",
            "--workers",
            "--capacity",
            "--http",
            "--port",
            "--fail-fast",
            "--json",
            "--redis",
            "--role",
            "--name",
            "--work",
            "--visibility-ms",
            "--stall-after",
            "--latency-ms",
            "--retries",
        ],
    ),
];

/// How long one run of an example may take before it is killed.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The binary of example `name`, next to this test's own binary
/// (`target/<profile>/deps/examples_cli-<hash>`).
fn example(name: &str) -> PathBuf {
    let this = std::env::current_exe().expect("the test's own path");
    let profile_dir = this
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test binary>");
    let exe = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let rebuild = "`cargo test` builds the examples; \
                   before `cargo test --test examples_cli` run `cargo build --examples`";
    let built = match fs::metadata(&exe).and_then(|m| m.modified()) {
        Ok(time) => time,
        Err(_) => panic!("{} is missing: {rebuild}", exe.display()),
    };
    let examples_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    // The example's own modules, if it has any, are in examples/<name>/.
    let modules = fs::read_dir(examples_dir.join(name))
        .into_iter()
        .flatten()
        .map(|entry| entry.expect("list the example's modules").path());
    let sources = [
        examples_dir.join(format!("{name}.rs")),
        examples_dir.join("common/cli.rs"),
    ];
    for source in sources.into_iter().chain(modules) {
        let edited = fs::metadata(&source)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        assert!(
            built >= edited,
            "{} is older than {}: {rebuild}",
            exe.display(),
            source.display()
        );
    }
    exe
}

/// Runs example `name` with `args`; kills it and fails if it has not ended
/// within `TIMEOUT`.
fn run(name: &str, args: &[&str]) -> Output {
    let command = format!("{name} {}", args.join(" "));
    let mut child = Command::new(example(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command}: {e}"));
    // Both pipes are read to their end on threads of their own (a child
    // that fills one pipe while nobody reads it would wait forever); each
    // reader reports when its pipe is closed.
    let (closed_tx, closed) = mpsc::channel();
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        let closed_tx = closed_tx.clone();
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = closed_tx.send(());
            bytes
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("piped")));
    let stderr = read_all(Box::new(child.stderr.take().expect("piped")));
    let deadline = Instant::now() + TIMEOUT;
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        if closed.recv_timeout(left).is_err() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{command}` did not end within {TIMEOUT:?}; killed it");
        }
    }
    let status = child.wait().expect("wait for the example");
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs example `name` with `args`, which are wrong, and checks that it
/// refused them: exit status 2, nothing on stdout, and on stderr an error
/// that contains `problem` and the usage line.
fn assert_refused(name: &str, args: &[&str], problem: &str) {
    let out = run(name, args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let command = format!("{name} {}", args.join(" "));
    assert_eq!(
        out.status.code(),
        Some(2),
        "`{command}` should be a usage error\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.starts_with("error: ") && stderr.contains(problem),
        "`{command}`: the error should name {problem:?}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("Usage: {name} ")),
        "`{command}`: no usage line\nstderr:\n{stderr}"
    );
    assert!(
        stdout.is_empty(),
        "`{command}` ran anyway:\nstdout:\n{stdout}"
    );
}

/// The mistakes every example refuses: an unknown flag, a flag without its
/// value, a value that is not a number.
#[test]
fn every_example_refuses_unknown_flags_missing_values_and_non_numbers() {
    for (name, flags) in EXAMPLES {
        assert_refused(name, &["--no-such-flag"], "'--no-such-flag'");
        assert_refused(name, &["extra"], "'extra'");
        // The last flag, so that no other flag can be taken for its value.
        let flag = flags.iter().rev().find(|f| **f != "--json").unwrap();
        assert_refused(name, &[flag], &format!("a value is required for '{flag} "));
        let number = match name {
            "thumbnails" => "--count",
            "yield_cost" => "--yields",
            "pipe_deadlock" => "--bytes",
            _ => "--items",
        };
        assert_refused(
            name,
            &[number, "abc"],
            &format!("invalid value 'abc' for '{number} "),
        );
    }
}

/// Values out of range, each in the example where it used to panic, run
/// anyway or be taken for something else.
#[test]
fn out_of_range_values_are_usage_errors() {
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "producer_consumer",
            &["--capacity", "0"],
            "'0' for '--capacity ",
        ),
        ("producer_consumer", &["--items", "0"], "'0' for '--items "),
        (
            "producer_consumer",
            &["--delay-ms", "-1"],
            "'-1' for '--delay-ms ",
        ),
        (
            "producer_consumer",
            &["--delay-ms", "60001"],
            "'60001' for '--delay-ms ",
        ),
        ("busy_polling", &["--items", "0"], "'0' for '--items "),
        ("yield_cost", &["--threads", "0"], "'0' for '--threads "),
        ("yield_cost", &["--hogs", "65"], "'65' for '--hogs "),
        ("pipe_deadlock", &["--bytes", "0"], "'0' for '--bytes "),
        (
            "pipe_deadlock",
            &["--timeout-ms", "0"],
            "'0' for '--timeout-ms ",
        ),
        ("pipe_deadlock", &["--mode", "wait"], "'wait' for '--mode "),
        (
            "busy_polling",
            &["--strategy", "spin"],
            "'spin' for '--strategy ",
        ),
        (
            "busy_polling",
            &["--sleep-ms", "60001"],
            "'60001' for '--sleep-ms ",
        ),
        (
            "busy_polling",
            &["--latency-us", "-5"],
            "'-5' for '--latency-us ",
        ),
        (
            "pipeline",
            &["--latency-ms", "1e300"],
            "'1e300' for '--latency-ms ",
        ),
        (
            "pipeline",
            &["--latency-ms", "NaN"],
            "'NaN' for '--latency-ms ",
        ),
        (
            "pipeline",
            &["--latency-ms", "-1"],
            "'-1' for '--latency-ms ",
        ),
        (
            "pipeline",
            &["--latency-ms", "1,2"],
            "takes one value or three",
        ),
        (
            "pipeline",
            &["--workers", "3,0,5"],
            "'3,0,5' for '--workers ",
        ),
        ("pipeline", &["--capacity", "0"], "'0' for '--capacity "),
        ("pipeline", &["--items", "0"], "'0' for '--items "),
        ("memory", &["--items", "-5"], "'-5' for '--items "),
        ("memory", &["--items", "0"], "'0' for '--items "),
        (
            "memory",
            &["--items", "10000001"],
            "'10000001' for '--items ",
        ),
        ("memory", &["--child", "9"], "'9' for '--child "),
        ("thumbnails", &["--thumb", "0"], "'0' for '--thumb "),
        ("thumbnails", &["--thumb", "4097"], "'4097' for '--thumb "),
        ("thumbnails", &["--thumb", "big"], "'big' for '--thumb "),
        ("thumbnails", &["--retries", "11"], "'11' for '--retries "),
        ("thumbnails", &["--count", "0"], "'0' for '--count "),
        ("thumbnails", &["--width", "0"], "'0' for '--width "),
        (
            "thumbnails",
            &["--height", "100000"],
            "'100000' for '--height ",
        ),
        ("thumbnails", &["--capacity", "0"], "'0' for '--capacity "),
        ("thumbnails", &["--workers", "2,2"], "takes three numbers"),
        (
            "thumbnails",
            &["--workers", "2,0,2"],
            "'2,0,2' for '--workers ",
        ),
        (
            "thumbnails",
            &["--input", "somewhere", "--count", "3"],
            "cannot be used with",
        ),
        (
            "thumbnails",
            &["--http", "--latency-ms", "-1"],
            "'-1' for '--latency-ms ",
        ),
        (
            "thumbnails",
            &["--http", "--latency-ms", "60001"],
            "'60001' for '--latency-ms ",
        ),
        (
            "thumbnails",
            &["--http", "--port", "65536"],
            "'65536' for '--port ",
        ),
        (
            "thumbnails",
            &["--latency-ms", "5"],
            "required arguments were not provided",
        ),
        (
            "thumbnails",
            &["--port", "8080"],
            "required arguments were not provided",
        ),
    ];
    for (name, args, problem) in cases {
        assert_refused(name, args, problem);
    }
}

/// `--help` prints the usage and every option the scripts use, runs
/// nothing, and exits with 0. `memory --help` used to run the whole
/// benchmark; its internal `--child` stays out of the help.
#[test]
fn help_lists_the_options_and_runs_nothing() {
    for (name, flags) in EXAMPLES {
        let out = run(name, &["--help"]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{name} --help\n{stderr}");
        assert!(
            stdout.contains(&format!("Usage: {name} [OPTIONS]")),
            "{name} --help printed no usage line:\n{stdout}"
        );
        for flag in flags {
            assert!(
                stdout.contains(&format!("{flag} ")),
                "{name} --help does not list {flag}:\n{stdout}"
            );
        }
        assert!(
            stderr.is_empty(),
            "{name} --help wrote to stderr:\n{stderr}"
        );
    }
    let help = text(&run("memory", &["--help"]).stdout);
    assert!(
        !help.contains("| queue |"),
        "memory --help ran the benchmark"
    );
    assert!(!help.contains("--child"), "memory --help shows --child");
}

/// A fresh, empty folder for one test, under cargo's temporary directory
/// for tests (inside `target/`).
fn scratch_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("examples_cli")
        .join(test);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("input")).expect("create the scratch folder");
    dir
}

/// Writes a `width` x `height` PNG image to `path`.
fn write_png(path: &Path, width: u32, height: u32) {
    RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 7]))
        .save_with_format(path, ImageFormat::Png)
        .expect("write a test image");
}

/// `a.png` and `a.PNG` would both write `a-thumb.png`: the example used to
/// write one over the other and report two thumbnails. It must refuse
/// before writing anything, naming both files.
#[test]
fn thumbnails_refuses_two_inputs_with_the_same_thumbnail_name() {
    let dir = scratch_dir("same_name");
    write_png(&dir.join("input/a.png"), 64, 48);
    fs::copy(dir.join("input/a.png"), dir.join("input/a.PNG")).expect("copy");
    write_png(&dir.join("input/b.png"), 64, 48);
    let (input, output) = (dir.join("input"), dir.join("thumbs"));
    let out = run(
        "thumbnails",
        &[
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{stderr}",
        text(&out.stdout)
    );
    for name in ["a.png", "a.PNG", "a-thumb.png"] {
        assert!(
            stderr.contains(name),
            "the error should name {name}:\n{stderr}"
        );
    }
    let written = fs::read_dir(&output).map_or(0, |entries| entries.count());
    assert_eq!(written, 0, "thumbnails written before the refusal");
}

/// A thumbnail is at most `--thumb` pixels on its longest side and never
/// larger than its source: a 64x48 image with `--thumb 1000` stays 64x48
/// (it used to become 1000x750), and with `--thumb 32` becomes 32x24.
#[test]
fn thumbnails_shrinks_but_never_enlarges() {
    let dir = scratch_dir("never_enlarges");
    write_png(&dir.join("input/small.png"), 64, 48);
    let input = dir.join("input");
    for (side, expected) in [("1000", (64, 48)), ("64", (64, 48)), ("32", (32, 24))] {
        let output = dir.join(format!("thumbs-{side}"));
        let out = run(
            "thumbnails",
            &[
                "--input",
                input.to_str().unwrap(),
                "--output",
                output.to_str().unwrap(),
                "--thumb",
                side,
            ],
        );
        assert!(
            out.status.success(),
            "--thumb {side}: {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let size = image::image_dimensions(output.join("small-thumb.png")).expect("a PNG");
        assert_eq!(size, expected, "--thumb {side} on a 64x48 image");
    }
}

/// Writes a `width` x `height` JPEG image to `path`.
fn write_jpeg(path: &Path, width: u32, height: u32) {
    RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, 90, y as u8]))
        .save_with_format(path, ImageFormat::Jpeg)
        .expect("write a test image");
}

/// Runs `thumbnails --http` on `dir/input` (with `--output dir/thumbs` and
/// `extra` arguments): it serves them from a loopback server of its own,
/// downloads by GET and uploads by PUT.
fn thumbnails_over_http(dir: &Path, extra: &[&str]) -> Output {
    let (input, output) = (dir.join("input"), dir.join("thumbs"));
    let mut args = vec![
        "--http",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run("thumbnails", &args)
}

/// `--http` end to end, on PNG and JPEG images: every thumbnail comes back
/// by PUT into the output folder, decodes, and has the expected size. The
/// server answers after a latency, with several workers per stage, so
/// requests are in flight at the same time.
#[test]
fn thumbnails_over_http_uploads_every_thumbnail() {
    let dir = scratch_dir("http_all");
    let images = [
        ("a.png", (64, 48), (32, 24)),
        ("b.png", (20, 10), (20, 10)),
        ("c.png", (40, 80), (16, 32)),
        ("d.jpg", (64, 32), (32, 16)),
        ("e.jpeg", (30, 30), (30, 30)),
    ];
    for (name, (width, height), _) in images {
        let path = dir.join("input").join(name);
        if name.ends_with(".png") {
            write_png(&path, width, height);
        } else {
            write_jpeg(&path, width, height);
        }
    }
    let out = thumbnails_over_http(
        &dir,
        &["--thumb", "32", "--latency-ms", "5", "--workers", "2,2,3"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("download by GET and upload by PUT from http://127.0.0.1:"),
        "no server started:\n{stdout}"
    );
    assert!(stdout.contains("5 thumbnails written"), "stdout:\n{stdout}");
    let mut written: Vec<String> = fs::read_dir(dir.join("thumbs"))
        .expect("the output folder")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "a-thumb.png",
            "b-thumb.png",
            "c-thumb.png",
            "d-thumb.png",
            "e-thumb.png"
        ]
    );
    for (name, _, expected) in images {
        let stem = name.split('.').next().unwrap();
        let thumb = dir.join("thumbs").join(format!("{stem}-thumb.png"));
        let decoded = image::open(&thumb)
            .unwrap_or_else(|e| panic!("{} does not decode: {e}", thumb.display()));
        assert_eq!(
            (decoded.width(), decoded.height()),
            expected,
            "the thumbnail of {name}"
        );
    }
}

/// Checks that a run skipped `failed` images and made the others: exit
/// status 1, the report (on stdout) lists the failed items naming each of
/// `names`, the error line says how many failed, and `made` thumbnails are
/// in `thumbs`.
fn assert_skipped_naming(
    out: &Output,
    failed: usize,
    names: &[&str],
    thumbs: &Path,
    made: &[&str],
) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let listed = format!(
        "{failed} failed item{}:",
        if failed == 1 { "" } else { "s" }
    );
    assert!(
        stdout.contains(&listed),
        "the report should say {listed:?}:\n{stdout}"
    );
    for name in names {
        assert!(
            stdout.contains(name),
            "the report should name {name}:\n{stdout}"
        );
    }
    assert!(
        stderr.contains(&format!("error: {failed} of the images failed")),
        "{stderr}"
    );
    let mut written: Vec<String> = fs::read_dir(thumbs)
        .expect("the output folder")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, made, "the thumbnails of the good images");
}

/// Checks that a run failed with exit status 1 and an error that names
/// each of `names`.
fn assert_failed_naming(out: &Output, names: &[&str]) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for name in names {
        assert!(
            stderr.contains("error: ") && stderr.contains(name),
            "the error should name {name}:\n{stderr}"
        );
    }
}

/// An image listed in the input folder that is not there (a link to
/// nowhere) is a 404 over HTTP, and the run skips it, naming its URL, and
/// makes the other thumbnail; with `--retries` it is tried again first. In
/// folder mode the same, naming the file: it used to be left out without a
/// word, and the run succeeded. With `--fail-fast` the run stops at it.
#[cfg(unix)]
#[test]
fn thumbnails_skips_a_missing_image_and_names_it() {
    let dir = scratch_dir("http_missing");
    write_png(&dir.join("input/a.png"), 16, 16);
    std::os::unix::fs::symlink(dir.join("nowhere.png"), dir.join("input/missing.png"))
        .expect("make a link to nowhere");
    let out = thumbnails_over_http(&dir, &["--retries", "2"]);
    assert_skipped_naming(
        &out,
        1,
        &[
            "/missing.png: 404 Not Found",
            "http://127.0.0.1:",
            "after 3 attempts",
        ],
        &dir.join("thumbs"),
        &["a-thumb.png"],
    );

    let folder = |extra: &[&str], thumbs: &str| {
        let mut args = vec![
            "--input".to_string(),
            dir.join("input").to_string_lossy().into_owned(),
            "--output".to_string(),
            dir.join(thumbs).to_string_lossy().into_owned(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run("thumbnails", &args)
    };
    let out = folder(&[], "folder-thumbs");
    assert_skipped_naming(
        &out,
        1,
        &["missing.png: No such file"],
        &dir.join("folder-thumbs"),
        &["a-thumb.png"],
    );
    let out = folder(&["--fail-fast"], "fail-fast-thumbs");
    assert_failed_naming(
        &out,
        &["stage \"download\" failed", "missing.png: No such file"],
    );
}

/// A file that is not the image its name says fails to decode, over HTTP
/// as in folder mode: the run skips it, naming it, or with `--fail-fast`
/// stops naming it.
#[test]
fn thumbnails_over_http_skips_a_corrupt_image_and_names_it() {
    let dir = scratch_dir("http_corrupt");
    write_png(&dir.join("input/a.png"), 16, 16);
    fs::write(dir.join("input/corrupt.jpg"), b"not a JPEG").expect("write");
    let out = thumbnails_over_http(&dir, &[]);
    assert_skipped_naming(
        &out,
        1,
        &["stage \"resize\" failed on", "corrupt.jpg"],
        &dir.join("thumbs"),
        &["a-thumb.png"],
    );
    let out = thumbnails_over_http(&dir, &["--fail-fast"]);
    assert_failed_naming(&out, &["stage \"resize\" failed", "corrupt.jpg"]);
}

/// A port that is taken is an error that names the address, not a panic.
#[test]
fn thumbnails_over_http_refuses_a_port_in_use() {
    let dir = scratch_dir("http_port");
    write_png(&dir.join("input/a.png"), 16, 16);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().unwrap().port().to_string();
    let out = thumbnails_over_http(&dir, &["--port", &port]);
    assert_failed_naming(
        &out,
        &[&format!(
            "cannot start a server at http://127.0.0.1:{port}/"
        )],
    );
    drop(taken);
}

/// The pipe trap (`examples/pipe_deadlock.rs`): a child that writes exactly
/// what the pipe holds exits although its parent waits before reading; one
/// byte more, and the child blocks in `write` while the parent blocks in
/// `wait`, until the example's watchdog kills the child. Both fixes read all
/// of a megabyte.
#[test]
fn pipe_deadlock_hangs_one_byte_past_the_pipe_and_the_fixes_do_not() {
    // A long watchdog where nothing should hang, so that a slow machine
    // cannot fire it.
    let patient = ["--timeout-ms", "30000"];
    let first = text(&run("pipe_deadlock", &[&["--bytes", "1"][..], &patient].concat()).stdout);
    let capacity: usize = first
        .strip_prefix("the pipe holds ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pipe size in:\n{first}"));

    let fits = capacity.to_string();
    let out = run(
        "pipe_deadlock",
        &[&["--bytes", &fits][..], &patient].concat(),
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("read all {capacity} bytes")),
        "{stdout}"
    );

    let one_more = (capacity + 1).to_string();
    let out = run(
        "pipe_deadlock",
        &["--bytes", &one_more, "--timeout-ms", "300"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("killed it"), "{stdout}");
    assert!(
        stdout.contains(&format!("then read {capacity} bytes")),
        "{stdout}"
    );

    for mode in ["wait-with-output", "reader-thread"] {
        let args = [&["--mode", mode, "--bytes", "1048576"][..], &patient].concat();
        let out = run("pipe_deadlock", &args);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{mode}: {stdout}");
        assert!(
            stdout.contains("read all 1048576 bytes"),
            "{mode}: {stdout}"
        );
    }
}

/// `--json` needs the report's `Serialize`, behind the crate's `serde`
/// feature: without it the example refuses the flag, says how to build it,
/// and exits with 2 before anything runs.
#[cfg(not(feature = "serde"))]
#[test]
fn thumbnails_json_without_the_serde_feature_says_how_to_build_it() {
    let out = run("thumbnails", &["--count", "1", "--json"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--features serde"), "{stderr}");
    assert!(stdout.is_empty(), "it ran anyway:\n{stdout}");
}

/// `--redis URL --role ROLE` runs one stage of the thumbnails pipeline as
/// this process: each flag needs the other, `--redis` does not go with
/// `--http`, a role must be one of the five, and `--stall-after` (a worker
/// that stops holding an image, for the kill demonstration) is refused for
/// the source and the sink, which have no worker to stall. Each is a usage
/// error before anything connects.
#[test]
fn thumbnails_redis_flags_are_checked_before_anything_connects() {
    let url = "redis://127.0.0.1:1/";
    assert_refused("thumbnails", &["--role", "sink"], "--redis <URL>");
    assert_refused("thumbnails", &["--redis", url], "--role <ROLE>");
    assert_refused(
        "thumbnails",
        &["--redis", url, "--role", "sink", "--http"],
        "'--redis <URL>' cannot be used with '--http'",
    );
    assert_refused(
        "thumbnails",
        &["--redis", url, "--role", "middle"],
        "invalid value 'middle' for '--role <ROLE>'",
    );
    for role in ["source", "sink"] {
        assert_refused(
            "thumbnails",
            &["--redis", url, "--role", role, "--stall-after", "1"],
            "--stall-after is for the roles download, resize and upload",
        );
    }
}

/// `--redis` needs `queuelab::redis`, behind the crate's `redis` feature:
/// without it the example says how to build it and exits with 2 before
/// anything runs.
#[cfg(not(feature = "redis"))]
#[test]
fn thumbnails_redis_without_the_redis_feature_says_how_to_build_it() {
    let out = run(
        "thumbnails",
        &["--redis", "redis://127.0.0.1:1/", "--role", "sink"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--features redis"), "{stderr}");
    assert!(stdout.is_empty(), "it ran anyway:\n{stdout}");
}
