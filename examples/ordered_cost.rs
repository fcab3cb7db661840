//! What ordered output costs: the same pipeline run unordered, and ordered
//! with windows of several sizes.
//!
//! Three stages of simulated I/O, each with `--workers` workers. An item's
//! wait in a stage is drawn from a fixed pseudo-random sequence (the same on
//! every run) between 0 and twice `--latency-us`, and one item in
//! `--slow-every` waits 20 times `--latency-us`: the slow item that holds
//! the ordered window. Each configuration runs `--runs` times; the table
//! shows the median. It prints a Markdown table (scripts/ordered_cost.sh
//! writes it to book/src/results/ordered_cost.md).
//!
//! ```text
//! cargo run --example ordered_cost
//! cargo run --example ordered_cost -- --items 500 --workers 8 --windows 1,8,64
//! ```

use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use clap::builder::RangedI64ValueParser;
use queuelab::Pipeline;

#[path = "common/cli.rs"]
mod cli;

/// Ordered against unordered output, on a pipeline with jittery simulated I/O.
#[derive(Parser)]
#[command(name = "ordered_cost")]
struct Args {
    /// Items through the pipeline (1 to 1000000)
    #[arg(long, value_name = "N", default_value_t = 2000, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(1..=1_000_000))]
    items: u64,
    /// Workers per stage (1 to 256)
    #[arg(long, value_name = "W", default_value_t = 4, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(1..=256))]
    workers: usize,
    /// Mean simulated I/O per item and stage, in microseconds (0 to 100000)
    #[arg(long, value_name = "US", default_value_t = 100, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(0..=100_000))]
    latency_us: u64,
    /// One item in this many is slow: it waits 20 times the mean (1 to 1000000)
    #[arg(long, value_name = "N", default_value_t = 100, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(1..=1_000_000))]
    slow_every: u64,
    /// Runs of each configuration; the median is shown (1 to 99)
    #[arg(long, value_name = "N", default_value_t = 5, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(1..=99))]
    runs: usize,
    /// The ordered windows to try, comma-separated (each 1 to 1000000)
    #[arg(long, value_name = "N,N,...", default_value = "1,4,16,64,256", value_parser = windows)]
    windows: Windows,
}

#[derive(Clone)]
struct Windows(Vec<usize>);

/// Parses `--windows`.
fn windows(text: &str) -> Result<Windows, String> {
    cli::whole_numbers(text, 1..=1_000_000, "a window").map(Windows)
}

/// The simulated I/O of item `n` in stage `stage`: a fixed pseudo-random
/// wait (a hash of the two, so every run waits the same).
fn wait(n: u64, stage: u64, mean_us: u64, slow_every: u64) -> Duration {
    if n % slow_every == slow_every - 1 && stage == 1 {
        return Duration::from_micros(20 * mean_us);
    }
    let mut x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ stage.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 29;
    Duration::from_micros(x % (2 * mean_us + 1))
}

/// One run; `None` is unordered. Returns the seconds it took.
fn run(args: &Args, window: Option<usize>) -> f64 {
    let stage = |k: u64| {
        let (mean, slow) = (args.latency_us, args.slow_every);
        move |n: u64| {
            thread::sleep(wait(n, k, mean, slow));
            n
        }
    };
    let pipeline = Pipeline::new(0..args.items);
    let pipeline = match window {
        Some(window) => pipeline.ordered(window),
        None => pipeline,
    };
    let start = Instant::now();
    let (out, _) = pipeline
        .stage("download", args.workers, stage(0))
        .stage("resize", args.workers, stage(1))
        .stage("upload", args.workers, stage(2))
        .run_collect()
        .expect("these stages never fail");
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(out.len() as u64, args.items, "every item arrives");
    if window.is_some() {
        assert!(
            out.windows(2).all(|w| w[0] < w[1]),
            "ordered output is in order"
        );
    }
    secs
}

fn median(args: &Args, window: Option<usize>) -> f64 {
    let mut times: Vec<f64> = (0..args.runs).map(|_| run(args, window)).collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let args: Args = cli::parse();
    println!(
        "{} items, 3 stages of {} workers, simulated I/O 0 to {} us per item and stage, \
         one item in {} waits {} us in resize; median of {} runs.\n",
        args.items,
        args.workers,
        2 * args.latency_us,
        args.slow_every,
        20 * args.latency_us,
        args.runs
    );
    println!("| output | time | items/s | vs unordered |");
    println!("|---|---:|---:|---:|");
    let base = median(&args, None);
    let row = |name: &str, secs: f64| {
        println!(
            "| {name} | {:.1} ms | {:.0} | {:.2}x |",
            secs * 1e3,
            args.items as f64 / secs,
            secs / base
        );
    };
    row("unordered", base);
    for &window in &args.windows.0 {
        row(
            &format!("ordered, window {window}"),
            median(&args, Some(window)),
        );
    }
}
