//! Seed 002's closable pipeline, download -> resize -> upload, with 1/1/1 and
//! then 3/4/5 workers per stage, each stage waiting a simulated I/O latency
//! per item. While a worker waits for I/O its core is free, so more workers
//! in an I/O-bound stage mean more items per second.
//!
//! Each configuration runs twice: wired by hand as in the seed
//! (`StoppableWorker`s, `start_threads`, `stop_threads`), and with the
//! crate's `Pipeline` builder, whose per-stage report shows where the time
//! went.
//!
//! ```text
//! cargo run --release --example pipeline
//! cargo run --release --example pipeline -- --latency-ms 2,1,1 --workers 6,3,3 --capacity 8
//! cargo run --release --example pipeline -- --json      # one JSON line per run
//! ```

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use queuelab::{ClosableQueue, Pipeline, PipelineReport, StoppableWorker};

#[path = "common/args.rs"]
#[allow(dead_code)] // each example uses only some of the helpers
mod args;

const USAGE: &str = "\
Seed 002's closable pipeline with 1/1/1 and 3/4/5 workers and simulated I/O.

usage: pipeline [--items N] [--latency-ms D | D,R,U] [--workers D,R,U]
                [--capacity N|none] [--json]
  --items N          items through the pipeline (default 1000, as in the seed)
  --latency-ms D     simulated I/O per item in each stage, in milliseconds; one
                     value for all stages or three (default 1)
  --workers D,R,U    the second configuration's workers per stage (default 3,4,5;
                     the first is always 1,1,1)
  --capacity N       capacity of the queues between stages, or none (default 64)
  --json             print one JSON line per run instead of the tables";

const STAGES: [&str; 3] = ["download", "resize", "upload"];

// ANCHOR: io_stage
/// A stage that "does I/O": waits `latency`, then passes the item on.
fn io_stage(latency: Duration) -> impl Fn(u64) -> u64 + Clone + Send + Sync + 'static {
    move |item| {
        thread::sleep(latency);
        item
    }
}
// ANCHOR_END: io_stage

fn new_queue(capacity: Option<usize>) -> Arc<ClosableQueue<u64>> {
    Arc::new(match capacity {
        Some(cap) => ClosableQueue::bounded(cap),
        None => ClosableQueue::unbounded(),
    })
}

// ANCHOR: seed_helpers
/// Seed 002's `start_threads`: `count` workers between two queues.
fn start_threads(
    count: usize,
    func: impl Fn(u64) -> u64 + Clone + Send + 'static,
    input: &Arc<ClosableQueue<u64>>,
    output: &Arc<ClosableQueue<u64>>,
) -> Vec<StoppableWorker<u64>> {
    (0..count)
        .map(|_| StoppableWorker::spawn(input.clone(), output.clone(), func.clone()))
        .collect()
}

/// Seed 002's `stop_threads`: no more input, wait until every item is done,
/// wait for the threads to end. `stop_all` needs one `close` (there are no
/// sentinels to count), and joins the threads *before* it checks the items:
/// after a worker died, a `join` on the queue would wait for ever (chapter
/// 4). Its error says what went wrong and hands back every item left.
fn stop_threads(queue: &ClosableQueue<u64>, threads: Vec<StoppableWorker<u64>>) -> u64 {
    StoppableWorker::stop_all(queue, threads).unwrap_or_else(|err| panic!("stop_threads: {err}"))
}
// ANCHOR_END: seed_helpers

// ANCHOR: seed_run
/// The seed's program: start the stages, put the items, stop the stages in
/// order, count what arrived.
fn seed_run(items: u64, workers: [usize; 3], latency: [Duration; 3], cap: Option<usize>) -> f64 {
    let start = Instant::now();
    let download_queue = new_queue(cap);
    let resize_queue = new_queue(cap);
    let upload_queue = new_queue(cap);
    let done_queue = new_queue(None);
    let download_threads = start_threads(
        workers[0],
        io_stage(latency[0]),
        &download_queue,
        &resize_queue,
    );
    let resize_threads = start_threads(
        workers[1],
        io_stage(latency[1]),
        &resize_queue,
        &upload_queue,
    );
    let upload_threads =
        start_threads(workers[2], io_stage(latency[2]), &upload_queue, &done_queue);
    for item in 0..items {
        download_queue.put(item).expect("open until stop_threads");
    }
    stop_threads(&download_queue, download_threads);
    stop_threads(&resize_queue, resize_threads);
    stop_threads(&upload_queue, upload_threads);
    assert_eq!(done_queue.len() as u64, items, "every item arrives");
    start.elapsed().as_secs_f64()
}
// ANCHOR_END: seed_run

// ANCHOR: builder_run
/// The same pipeline with the `Pipeline` builder: shutdown, joins and
/// measurements are built in.
fn builder_run(
    items: u64,
    workers: [usize; 3],
    latency: [Duration; 3],
    cap: Option<usize>,
) -> PipelineReport {
    let (out, report) = Pipeline::new(0..items)
        .capacity(cap)
        .stage(STAGES[0], workers[0], io_stage(latency[0]))
        .stage(STAGES[1], workers[1], io_stage(latency[1]))
        .stage(STAGES[2], workers[2], io_stage(latency[2]))
        .run_collect()
        .expect("these stages never fail");
    assert_eq!(out.len() as u64, items, "every item arrives");
    report
}
// ANCHOR_END: builder_run

fn three<T: Copy>(values: &[T], what: &str) -> [T; 3] {
    match *values {
        [v] => [v; 3],
        [a, b, c] => [a, b, c],
        _ => {
            eprintln!("error: {what} takes one value or three\n\n{USAGE}");
            std::process::exit(2);
        }
    }
}

fn slashed(workers: [usize; 3]) -> String {
    format!("{}/{}/{}", workers[0], workers[1], workers[2])
}

fn main() {
    let mut args = args::Args::from_env(USAGE);
    let items: u64 = args.get("--items", 1000);
    let latency_ms = three(&args.list("--latency-ms", &[1.0f64]), "--latency-ms");
    let many = three(&args.list("--workers", &[3usize, 4, 5]), "--workers");
    let cap: Option<usize> = match args.get("--capacity", "64".to_string()).as_str() {
        "none" => None,
        text => match text.parse() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                eprintln!("error: --capacity takes a number from 1 up, or none\n\n{USAGE}");
                std::process::exit(2);
            }
        },
    };
    let json = args.flag("--json");
    args.finish();
    if many.contains(&0) || latency_ms.iter().any(|ms| !ms.is_finite() || *ms < 0.0) {
        eprintln!(
            "error: workers must be at least 1 and latencies finite and not negative\n\n{USAGE}"
        );
        std::process::exit(2);
    }
    let latency = latency_ms.map(|ms| Duration::from_secs_f64(ms / 1e3));

    let mut summary = Vec::new();
    if !json {
        println!(
            "{items} items; simulated I/O per item: download {} ms, resize {} ms, upload {} ms; \
             queue capacity {}\n",
            latency_ms[0],
            latency_ms[1],
            latency_ms[2],
            cap.map_or("none".to_string(), |c| c.to_string())
        );
        println!("Wired by hand, as in seed 002 (StoppableWorker, start_threads, stop_threads):");
    }
    for workers in [[1, 1, 1], many] {
        let secs = seed_run(items, workers, latency, cap);
        summary.push(("seed", workers, secs));
        if !json {
            println!(
                "  {:>8} workers: {:>7.3} s, {:>8.0} items/s",
                slashed(workers),
                secs,
                items as f64 / secs
            );
        }
    }
    if !json {
        println!("\nWith the Pipeline builder:");
    }
    for workers in [[1, 1, 1], many] {
        let report = builder_run(items, workers, latency, cap);
        summary.push(("builder", workers, report.elapsed.as_secs_f64()));
        if !json {
            println!("\n{} workers:\n{report}", slashed(workers));
        }
    }

    if json {
        for (implementation, workers, secs) in &summary {
            println!(
                "{{\"example\":\"pipeline\",\"impl\":\"{implementation}\",\"workers\":[{},{},{}],\
                 \"items\":{items},\"latency_ms\":[{},{},{}],\"capacity\":{},\"seconds\":{secs:.4},\
                 \"items_per_s\":{:.1}}}",
                workers[0],
                workers[1],
                workers[2],
                latency_ms[0],
                latency_ms[1],
                latency_ms[2],
                cap.map_or("null".to_string(), |c| c.to_string()),
                items as f64 / secs,
            );
        }
    } else {
        println!();
        for implementation in ["seed", "builder"] {
            let secs = |w: [usize; 3]| {
                summary
                    .iter()
                    .find(|(i, workers, _)| *i == implementation && *workers == w)
                    .map(|(_, _, secs)| *secs)
                    .expect("both configurations ran")
            };
            let (one, more) = (secs([1, 1, 1]), secs(many));
            println!(
                "{implementation:>7}: 1/1/1 {:.0} items/s, {} {:.0} items/s: {:.2}x",
                items as f64 / one,
                slashed(many),
                items as f64 / more,
                one / more
            );
        }
    }
}
