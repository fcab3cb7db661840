//! The first pipeline of Effective Python, Item 55: download -> resize ->
//! upload with one polling worker per stage over `PollingQueue`s, counting
//! every poll, next to the same pipeline with blocking `ClosableQueue`s and
//! `StoppableWorker`s.
//!
//! For each run it prints the items processed, the polls of the three workers
//! (the study notes on Item 55, in Python: 1000 items, "polled 3009 times" with
//! a 10 ms sleep between empty polls), and the CPU time the process used,
//! measured by the operating system
//! (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`).
//!
//! ```text
//! cargo run --release --example busy_polling
//! cargo run --release --example busy_polling -- --latency-us 100   # idle pollers burn CPU
//! ```

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::builder::RangedI64ValueParser;
use clap::{Parser, ValueEnum};
use crossbeam_utils::Backoff;
use queuelab::{ClosableQueue, PollStrategy, PollingQueue, PollingWorker, StoppableWorker};

#[path = "common/cli.rs"]
mod cli;

/// Effective Python's busy-polling pipeline (Item 55) next to the same pipeline with blocking queues.
#[derive(Parser)]
#[command(name = "busy_polling")]
struct Args {
    /// Items through the pipeline (1 to 1000000000; 1000 as in Effective Python)
    #[arg(long, value_name = "N", default_value_t = 1000, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(1..=1_000_000_000))]
    items: u64,
    /// What a polling worker does when its queue is empty
    #[arg(long, value_name = "S", value_enum, default_value_t = Strategy::All)]
    strategy: Strategy,
    /// The pause of the sleep strategy, in milliseconds (0 to 60000; 10 as in Effective Python)
    #[arg(long, value_name = "MS", default_value_t = 10, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(0..=60_000))]
    sleep_ms: u64,
    /// Simulated I/O per item and stage, in microseconds (0 to 60000000; 0: the
    /// stages of Effective Python do nothing)
    #[arg(long, value_name = "US", default_value_t = 0, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(0..=60_000_000))]
    latency_us: u64,
    /// Print one JSON line per run instead of the table
    #[arg(long)]
    json: bool,
}

/// The `--strategy` choices: one of the polling strategies, or all of them.
#[derive(Clone, Copy, ValueEnum)]
enum Strategy {
    All,
    Sleep,
    Yield,
    Backoff,
}

/// CPU time used by the whole process so far (all threads, user + system),
/// as the operating system counts it.
fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec, and
    // CLOCK_PROCESS_CPUTIME_ID is a clock every Linux and macOS has.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

// ANCHOR: stage
/// Item 55's three stages. They do nothing but wait `latency` (simulated
/// I/O; zero by default, like the `...` bodies in Effective Python).
fn stage(latency: Duration) -> impl Fn(u64) -> u64 + Clone + Send + 'static {
    move |item| {
        if !latency.is_zero() {
            thread::sleep(latency);
        }
        item
    }
}
// ANCHOR_END: stage

/// What one run measured.
struct Run {
    queues: &'static str,
    waiting: String,
    items: u64,
    /// Polls of the three workers; `None` for blocking queues.
    worker_polls: Option<u64>,
    empty_polls: Option<u64>,
    /// Polls of the main thread while it waited for the last item.
    main_polls: Option<u64>,
    cpu: Duration,
    wall: Duration,
}

// ANCHOR: polling_run
/// Item 55's first version: `PollingQueue`s, one `PollingWorker` per stage,
/// and a main thread that polls the done queue until every item is there.
fn polling_run(items: u64, strategy: PollStrategy, latency: Duration) -> Run {
    let cpu_before = process_cpu_time();
    let start = Instant::now();
    let download_queue = Arc::new(PollingQueue::new());
    let resize_queue = Arc::new(PollingQueue::new());
    let upload_queue = Arc::new(PollingQueue::new());
    let done_queue = Arc::new(PollingQueue::new());
    let workers = [
        PollingWorker::spawn(
            download_queue.clone(),
            resize_queue.clone(),
            strategy,
            stage(latency),
        ),
        PollingWorker::spawn(resize_queue, upload_queue.clone(), strategy, stage(latency)),
        PollingWorker::spawn(upload_queue, done_queue.clone(), strategy, stage(latency)),
    ];
    for item in 0..items {
        download_queue.put(item);
    }
    // Item 55's `while len(done_queue.items) < 1000`, polling as the
    // workers do.
    let (mut done, mut main_polls) = (0, 0);
    let backoff = Backoff::new();
    while done < items {
        main_polls += 1;
        if done_queue.try_get().is_some() {
            done += 1;
            backoff.reset();
            continue;
        }
        match strategy {
            PollStrategy::Sleep(pause) => thread::sleep(pause),
            PollStrategy::Yield => thread::yield_now(),
            PollStrategy::Backoff => backoff.snooze(),
        }
    }
    let counts: Vec<_> = workers.into_iter().map(PollingWorker::stop).collect();
    Run {
        queues: "polling",
        waiting: describe(strategy),
        items: done,
        worker_polls: Some(counts.iter().map(|c| c.polls).sum()),
        empty_polls: Some(counts.iter().map(|c| c.empty_polls()).sum()),
        main_polls: Some(main_polls),
        cpu: process_cpu_time() - cpu_before,
        wall: start.elapsed(),
    }
}
// ANCHOR_END: polling_run

// ANCHOR: blocking_run
/// Item 55's second version: `ClosableQueue`s and `StoppableWorker`s, shut
/// down stage by stage with close + join. Nobody polls: an idle thread
/// sleeps in `get` or `join` until there is something to do.
fn blocking_run(items: u64, latency: Duration) -> Run {
    let cpu_before = process_cpu_time();
    let start = Instant::now();
    let queues: Vec<Arc<ClosableQueue<u64>>> = (0..4)
        .map(|_| Arc::new(ClosableQueue::unbounded()))
        .collect();
    let workers: Vec<StoppableWorker<u64>> = (0..3)
        .map(|k| StoppableWorker::spawn(queues[k].clone(), queues[k + 1].clone(), stage(latency)))
        .collect();
    for item in 0..items {
        queues[0].put(item).expect("open");
    }
    for (queue, worker) in queues.iter().zip(workers) {
        queue.close(); // no more input for this stage...
        queue.join(); // ...wait until it has handled every item...
        worker.join().expect("the next queue is still open"); // ...and ends
    }
    let done = queues[3].len() as u64;
    Run {
        queues: "blocking",
        waiting: "get() sleeps".to_string(),
        items: done,
        worker_polls: None,
        empty_polls: None,
        main_polls: None,
        cpu: process_cpu_time() - cpu_before,
        wall: start.elapsed(),
    }
}
// ANCHOR_END: blocking_run

fn describe(strategy: PollStrategy) -> String {
    match strategy {
        PollStrategy::Sleep(d) => format!("sleep {} ms", d.as_millis()),
        PollStrategy::Yield => "yield".to_string(),
        PollStrategy::Backoff => "backoff".to_string(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "-".to_string(), |n| n.to_string())
}

fn json_count(n: Option<u64>) -> String {
    n.map_or_else(|| "null".to_string(), |n| n.to_string())
}

fn main() {
    let args: Args = cli::parse();
    let pause = Duration::from_millis(args.sleep_ms);
    let latency = Duration::from_micros(args.latency_us);
    let json = args.json;
    let items = args.items;
    let strategies: Vec<PollStrategy> = match args.strategy {
        Strategy::All => vec![
            PollStrategy::Sleep(pause),
            PollStrategy::Yield,
            PollStrategy::Backoff,
        ],
        Strategy::Sleep => vec![PollStrategy::Sleep(pause)],
        Strategy::Yield => vec![PollStrategy::Yield],
        Strategy::Backoff => vec![PollStrategy::Backoff],
    };

    let mut runs: Vec<Run> = strategies
        .into_iter()
        .map(|s| polling_run(items, s, latency))
        .collect();
    runs.push(blocking_run(items, latency));

    if json {
        for r in &runs {
            println!(
                "{{\"example\":\"busy_polling\",\"queues\":\"{}\",\"waiting\":\"{}\",\"items\":{},\
                 \"latency_us\":{},\"worker_polls\":{},\"empty_polls\":{},\"main_polls\":{},\
                 \"cpu_ms\":{:.3},\"wall_ms\":{:.3}}}",
                r.queues,
                r.waiting,
                r.items,
                latency.as_micros(),
                json_count(r.worker_polls),
                json_count(r.empty_polls),
                json_count(r.main_polls),
                r.cpu.as_secs_f64() * 1e3,
                r.wall.as_secs_f64() * 1e3,
            );
        }
        return;
    }
    println!(
        "{items} items through download -> resize -> upload, one worker per stage, \
         {} us of simulated I/O per item and stage",
        latency.as_micros()
    );
    println!(
        "{:<9} {:<13} {:>6} {:>12} {:>11} {:>10} {:>10} {:>10}",
        "queues",
        "waiting",
        "items",
        "worker polls",
        "empty polls",
        "main polls",
        "CPU time",
        "wall time"
    );
    for r in &runs {
        println!(
            "{:<9} {:<13} {:>6} {:>12} {:>11} {:>10} {:>10} {:>10}",
            r.queues,
            r.waiting,
            r.items,
            count(r.worker_polls),
            count(r.empty_polls),
            count(r.main_polls),
            ms(r.cpu),
            ms(r.wall),
        );
    }
    println!(
        "\n\"worker polls\" counts every look at an input queue, as Item 55's polled_count \
         does;\nCPU time is the whole process's, from the operating system."
    );
}
