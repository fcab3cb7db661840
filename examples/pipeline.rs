//! The closable pipeline of Effective Python, Item 55, download -> resize ->
//! upload, with 1/1/1 and then 3/4/5 workers per stage, each stage waiting a
//! simulated I/O latency per item. While a worker waits for I/O its core is
//! free, so more workers in an I/O-bound stage mean more items per second.
//!
//! Each configuration runs twice: wired by hand as in Item 55
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

use clap::Parser;
use clap::builder::RangedI64ValueParser;
use queuelab::{ClosableQueue, Pipeline, PipelineReport, StoppableWorker};

#[path = "common/cli.rs"]
mod cli;

/// The largest `--latency-ms`: one minute per item and stage.
const MAX_LATENCY_MS: f64 = 60_000.0;
/// The most workers per stage.
const MAX_WORKERS: usize = 256;

/// Effective Python's closable pipeline (Item 55) with 1/1/1 and 3/4/5 workers and simulated I/O.
#[derive(Parser)]
#[command(name = "pipeline")]
struct Args {
    /// Items through the pipeline (1 to 1000000000; 1000 as in Effective Python)
    #[arg(long, value_name = "N", default_value_t = 1000, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(1..=1_000_000_000))]
    items: u64,
    /// Simulated I/O per item in each stage, in milliseconds (0 to 60000, fractions
    /// allowed): one value for all stages, or three
    #[arg(long, value_name = "D | D,R,U", default_value = "1", value_parser = latencies,
          allow_negative_numbers = true)]
    latency_ms: [f64; 3],
    /// The second configuration's workers per stage (1 to 256): one value for all
    /// stages, or three (the first configuration is always 1,1,1)
    #[arg(long, value_name = "D,R,U", default_value = "3,4,5", value_parser = workers)]
    workers: [usize; 3],
    /// Capacity of the queues between stages (1 to 1000000000), or none
    #[arg(long, value_name = "N|none", default_value = "64", value_parser = capacity)]
    capacity: Capacity,
    /// Print one JSON line per run instead of the tables
    #[arg(long)]
    json: bool,
}

/// A queue bound: `None` is unbounded.
#[derive(Clone, Copy)]
struct Capacity(Option<usize>);

/// Parses `--latency-ms`.
fn latencies(text: &str) -> Result<[f64; 3], String> {
    one_or_three(text, |part| match part.parse::<f64>() {
        Ok(ms) if (0.0..=MAX_LATENCY_MS).contains(&ms) => Ok(ms),
        _ => Err(format!(
            "{part:?} is not a number from 0 to {MAX_LATENCY_MS}"
        )),
    })
}

/// Parses `--workers`.
fn workers(text: &str) -> Result<[usize; 3], String> {
    one_or_three(text, |part| match part.parse::<usize>() {
        Ok(n) if (1..=MAX_WORKERS).contains(&n) => Ok(n),
        _ => Err(format!(
            "{part:?} is not a whole number from 1 to {MAX_WORKERS}"
        )),
    })
}

/// Parses `--capacity`.
fn capacity(text: &str) -> Result<Capacity, String> {
    if text == "none" {
        return Ok(Capacity(None));
    }
    match text.parse::<usize>() {
        Ok(n) if (1..=1_000_000_000).contains(&n) => Ok(Capacity(Some(n))),
        _ => Err("takes a whole number from 1 to 1000000000, or none".to_string()),
    }
}

/// `"v"` or `"a,b,c"`, each part read by `one`, as three values.
fn one_or_three<T: Copy>(
    text: &str,
    one: impl Fn(&str) -> Result<T, String>,
) -> Result<[T; 3], String> {
    let values = text
        .split(',')
        .map(|part| one(part.trim()))
        .collect::<Result<Vec<T>, String>>()?;
    match values[..] {
        [v] => Ok([v; 3]),
        [a, b, c] => Ok([a, b, c]),
        _ => Err(format!("takes one value or three, not {}", values.len())),
    }
}

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

// ANCHOR: by_hand_helpers
/// Item 55's `start_threads`: `count` workers between two queues.
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

/// Item 55's `stop_threads`: no more input, wait until every item is done,
/// wait for the threads to end. `stop_all` needs one `close` (there are no
/// sentinels to count), and joins the threads *before* it checks the items:
/// after a worker died, a `join` on the queue would wait for ever (chapter
/// 4). Its error says what went wrong and hands back every item left.
fn stop_threads(queue: &ClosableQueue<u64>, threads: Vec<StoppableWorker<u64>>) -> u64 {
    StoppableWorker::stop_all(queue, threads).unwrap_or_else(|err| panic!("stop_threads: {err}"))
}
// ANCHOR_END: by_hand_helpers

// ANCHOR: by_hand_run
/// Item 55's program: start the stages, put the items, stop the stages in
/// order, count what arrived.
fn by_hand_run(items: u64, workers: [usize; 3], latency: [Duration; 3], cap: Option<usize>) -> f64 {
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
// ANCHOR_END: by_hand_run

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

fn slashed(workers: [usize; 3]) -> String {
    format!("{}/{}/{}", workers[0], workers[1], workers[2])
}

fn main() {
    let Args {
        items,
        latency_ms,
        workers: many,
        capacity: Capacity(cap),
        json,
    } = cli::parse();
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
        println!(
            "Wired by hand, as in Effective Python (StoppableWorker, start_threads, stop_threads):"
        );
    }
    for workers in [[1, 1, 1], many] {
        let secs = by_hand_run(items, workers, latency, cap);
        summary.push(("by hand", workers, secs));
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
        for implementation in ["by hand", "builder"] {
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
