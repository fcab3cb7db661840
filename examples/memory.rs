//! What a missing bound costs in memory: a producer 10x faster than its
//! consumer pushes 1,000,000 items of 256 bytes through a queue. With an
//! unbounded queue the backlog piles up in memory (the study notes on Effective
//! Python, Item 55: "the program can crash for lack of memory"); with a bounded
//! one the producer waits and the backlog stays at the capacity.
//!
//! Each case runs in a fresh child process (this same program, started with
//! `--child CASE`), so that one case's heap cannot inflate the next one's
//! figure. The child reports its peak resident memory (`VmHWM` from
//! `/proc/self/status`, Linux only), and, once the consumer has drained the
//! queue but before the queue is dropped, its resident memory (`VmRSS`) and
//! the heap bytes still allocated (counted by this program's allocator):
//! what an empty queue keeps after a burst. Then it asks glibc's allocator
//! to hand its free memory back to the system (`malloc_trim(0)`) and reads
//! `VmRSS` again: memory a queue freed stays resident until the allocator
//! lets go of it. Prints a markdown table.
//!
//! ```text
//! cargo run --release --example memory                  # 1,000,000 items
//! cargo run --release --example memory -- --items 20000 # a quick look
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use clap::builder::RangedI64ValueParser;
use queuelab::queue::closable::ClosableQueue as Step4;
use queuelab::queue::fast::ClosableQueue as Step5;
use queuelab::queue::list::ClosableQueue as Step7;

#[path = "common/cli.rs"]
mod cli;

/// The most `--items`: the unbounded cases hold nearly all of them in memory
/// at once, about 300 bytes each.
const MAX_ITEMS: i64 = 10_000_000;

/// What a missing bound costs in memory: a producer 10x faster than its
/// consumer, through unbounded and bounded queues, each case in a child
/// process that reports its peak resident memory (Linux).
#[derive(Parser)]
#[command(name = "memory")]
struct Args {
    /// Items of 256 bytes the producer sends in each case (1 to 10000000)
    #[arg(long, value_name = "N", default_value_t = 1_000_000, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(1..=MAX_ITEMS))]
    items: usize,
    /// Run only case CASE in this process, for the parent (internal)
    #[arg(long, value_name = "CASE", hide = true, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(0..CASES.len() as i64))]
    child: Option<usize>,
}

/// The system allocator, counting the bytes allocated and not yet freed.
struct Counting;

/// Heap bytes allocated and not yet freed, by the whole process.
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method passes its arguments on to `System`, which upholds
// `GlobalAlloc`'s contract; the counter only watches.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block `alloc` returned, with its layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes carried by each item (a downloaded chunk, say).
const ITEM_BYTES: usize = 256;
/// Work per item: the consumer is 10x slower than the producer.
const PRODUCER_WORK: Duration = Duration::from_nanos(100);
const CONSUMER_WORK: Duration = Duration::from_nanos(1_000);
/// The bound of the bounded cases.
const BOUND: usize = 1_000;

/// Busy work for `d`: stands for computing an item, without sleeping (a
/// sleep would hand the core to the other thread and blur the 10x).
fn work(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// The sending and receiving ends the scenario needs.
trait Pipe: Sync {
    fn send(&self, item: Vec<u8>);
    fn recv(&self) -> Vec<u8>;
    fn len(&self) -> usize;
}

macro_rules! closable_pipe {
    ($queue:ty) => {
        impl Pipe for $queue {
            fn send(&self, item: Vec<u8>) {
                self.put(item).expect("never closed");
            }
            fn recv(&self) -> Vec<u8> {
                self.get().expect("never closed")
            }
            fn len(&self) -> usize {
                self.len()
            }
        }
    };
}
closable_pipe!(Step4<Vec<u8>>);
closable_pipe!(Step5<Vec<u8>>);
closable_pipe!(Step7<Vec<u8>>);

type Crossbeam = (
    crossbeam_channel::Sender<Vec<u8>>,
    crossbeam_channel::Receiver<Vec<u8>>,
);

impl Pipe for Crossbeam {
    fn send(&self, item: Vec<u8>) {
        self.0.send(item).expect("receiver alive");
    }
    fn recv(&self) -> Vec<u8> {
        self.1.recv().expect("sender alive")
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// The cases, by name: what each child process builds.
const CASES: [&str; 8] = [
    "no queue (the process alone)",
    "step 4 ClosableQueue::unbounded()",
    "step 4 ClosableQueue::bounded(1000)",
    "step 5 ClosableQueue::unbounded()",
    "step 5 ClosableQueue::bounded(1000)",
    "step 7 ClosableQueue::unbounded()",
    "crossbeam_channel::unbounded()",
    "crossbeam_channel::bounded(1000)",
];

/// What one case measured.
struct Measured {
    elapsed: Duration,
    /// The largest backlog seen (the producer samples `len()` every 1,024
    /// items).
    most: usize,
    /// Resident memory and live heap bytes once the queue is empty again.
    drained_rss_kib: u64,
    drained_heap: usize,
    /// Resident memory after `malloc_trim(0)`, the queue still alive.
    trimmed_rss_kib: u64,
}

/// Runs the scenario; measures after the consumer has drained the queue,
/// while the queue still exists.
fn run(pipe: &dyn Pipe, items: usize) -> Measured {
    let start = Instant::now();
    let most = thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..items {
                work(CONSUMER_WORK);
                black_box(pipe.recv());
            }
        });
        let mut most = 0;
        for n in 0..items {
            work(PRODUCER_WORK);
            pipe.send(vec![n as u8; ITEM_BYTES]);
            if n % 1024 == 0 {
                most = most.max(pipe.len());
            }
        }
        most
    });
    let elapsed = start.elapsed();
    let drained_rss_kib = status_kib("VmRSS:");
    let drained_heap = LIVE_BYTES.load(Ordering::Relaxed);
    Measured {
        elapsed,
        most,
        drained_rss_kib,
        drained_heap,
        trimmed_rss_kib: trimmed_rss_kib(),
    }
}

/// Asks glibc's allocator to return the free memory it keeps to the system,
/// then reads `VmRSS`.
fn trimmed_rss_kib() -> u64 {
    // SAFETY: `malloc_trim` only releases free memory of glibc's heaps; it
    // touches nothing this program holds.
    unsafe { libc::malloc_trim(0) };
    status_kib("VmRSS:")
}

/// A size in KiB from `/proc/self/status`: `VmHWM:` (peak resident set) or
/// `VmRSS:` (resident set now).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

fn child(case: usize, items: usize) {
    let m = match case {
        0 => Measured {
            elapsed: Duration::ZERO,
            most: 0,
            drained_rss_kib: status_kib("VmRSS:"),
            drained_heap: LIVE_BYTES.load(Ordering::Relaxed),
            trimmed_rss_kib: trimmed_rss_kib(),
        },
        1 => run(&Step4::unbounded(), items),
        2 => run(&Step4::bounded(BOUND), items),
        3 => run(&Step5::unbounded(), items),
        4 => run(&Step5::bounded(BOUND), items),
        5 => run(&Step7::unbounded(), items),
        6 => run(&crossbeam_channel::unbounded(), items),
        7 => run(&crossbeam_channel::bounded(BOUND), items),
        _ => unreachable!("--child is checked to name a case"),
    };
    // One line for the parent: peak KiB, seconds, largest backlog, KiB
    // resident and heap bytes once drained, KiB resident after the trim.
    println!(
        "{} {} {} {} {} {}",
        status_kib("VmHWM:"),
        m.elapsed.as_secs_f64(),
        m.most,
        m.drained_rss_kib,
        m.drained_heap,
        m.trimmed_rss_kib
    );
}

fn main() {
    let args: Args = cli::parse();
    let items = args.items;
    if let Some(case) = args.child {
        child(case, items);
        return;
    }

    let exe = std::env::current_exe().expect("own path");
    println!(
        "{items} items of {ITEM_BYTES} bytes; the producer works {} ns per item, the consumer {} ns.",
        PRODUCER_WORK.as_nanos(),
        CONSUMER_WORK.as_nanos()
    );
    println!();
    println!(
        "| queue | peak resident memory | resident after draining | heap held after draining | resident after malloc_trim | most items waiting | time |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (case, name) in CASES.iter().enumerate() {
        let out = Command::new(&exe)
            .args(["--child", &case.to_string(), "--items", &items.to_string()])
            .output()
            .expect("start a child process");
        assert!(out.status.success(), "case {name} failed: {out:?}");
        let line = String::from_utf8(out.stdout).expect("utf-8");
        let fields: Vec<&str> = line.split_whitespace().collect();
        let kib = |i: usize| fields[i].parse::<u64>().unwrap() as f64 / 1024.0;
        let secs: f64 = fields[1].parse().unwrap();
        let most: usize = fields[2].parse().unwrap();
        let drained_heap = fields[4].parse::<usize>().unwrap() as f64 / 1024.0;
        println!(
            "| {name} | {:.1} MiB | {:.1} MiB | {drained_heap:.1} KiB | {:.1} MiB | {most} | {secs:.2} s |",
            kib(0),
            kib(3),
            kib(5),
        );
    }
}
