//! The three `queue.Queue` demonstrations of Effective Python, Item 55, with a
//! time stamp on every event so you can see who waits for whom:
//!
//! 1. `get` blocks until a producer puts an item ([`BlockingQueue`]).
//! 2. With capacity 1, `put` blocks until a consumer makes room
//!    ([`BoundedQueue`]).
//! 3. `join` blocks until every item put has been marked done with
//!    `task_done` ([`ClosableQueue`]).
//!
//! As in Item 55, sleeps make one side late on purpose (`--delay-ms`), so
//! that the waiting shows. (Tests never order events with sleeps; a
//! demonstration may.)
//!
//! ```text
//! cargo run --example producer_consumer
//! cargo run --example producer_consumer -- --delay-ms 300 --items 4 --capacity 2
//! ```

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use clap::builder::RangedI64ValueParser;
use queuelab::{BlockingQueue, BoundedQueue, ClosableQueue};

#[path = "common/cli.rs"]
mod cli;

/// Effective Python's queue demonstrations (Item 55): blocking get, bounded put, task_done/join.
#[derive(Parser)]
#[command(name = "producer_consumer")]
struct Args {
    /// How late the slow side is, in milliseconds (0 to 60000)
    #[arg(long, value_name = "MS", default_value_t = 100, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(0..=60_000))]
    delay_ms: u64,
    /// Items the producer puts in demonstration 2 (1 to 1000)
    #[arg(long, value_name = "N", default_value_t = 2, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u32>::new().range(1..=1000))]
    items: u32,
    /// Capacity of the queue in demonstration 2 (1 to 1000)
    #[arg(long, value_name = "N", default_value_t = 1, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(1..=1000))]
    capacity: usize,
}

// ANCHOR: log
/// Prints events in two columns, producer on the left, consumer on the
/// right, each with the time since the demonstration started.
struct Log {
    start: Instant,
}

impl Log {
    fn new(title: &str) -> Log {
        println!("\n== {title}");
        println!("{:>9}  {:<40}consumer", "time", "producer");
        Log {
            start: Instant::now(),
        }
    }

    fn producer(&self, what: &str) {
        self.line("", what);
    }

    fn consumer(&self, what: &str) {
        self.line(&format!("{:<40}", ""), what);
    }

    /// Takes the time stamp while holding stdout's lock, so that lines are
    /// printed in the order of their time stamps.
    fn line(&self, indent: &str, what: &str) {
        let mut out = std::io::stdout().lock();
        let stamp = ms(self.start.elapsed());
        let _ = writeln!(out, "{stamp:>9}  {indent}{what}");
    }
}
// ANCHOR_END: log

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let args: Args = cli::parse();
    let delay = Duration::from_millis(args.delay_ms);
    blocking_get(delay);
    bounded_put(delay, args.items, args.capacity);
    task_done_and_join(delay);
}

// ANCHOR: blocking_get
/// 1. The consumer starts first and calls `get` on an empty queue: it sleeps
///    until the producer, `delay` later, puts an item.
fn blocking_get(delay: Duration) {
    let log = Log::new("1. get() waits for put() (BlockingQueue)");
    let queue = BlockingQueue::new();
    thread::scope(|s| {
        s.spawn(|| {
            log.consumer("get(): waiting for an item");
            let asked = Instant::now();
            let item: &str = queue.get(); // sleeps until the put below
            log.consumer(&format!("got {item:?} after {}", ms(asked.elapsed())));
        });
        thread::sleep(delay); // the producer is busy elsewhere for a while
        log.producer("put(\"job\")");
        queue.put("job");
        log.producer("done (put never waits here)");
    });
}
// ANCHOR_END: blocking_get

// ANCHOR: bounded_put
/// 2. The queue holds `capacity` items. The consumer is `delay` late, so
///    the producer fills the queue and its next `put` sleeps until the
///    consumer's `get` makes room.
fn bounded_put(delay: Duration, items: u32, capacity: usize) {
    let log = Log::new(&format!(
        "2. put() waits for room (BoundedQueue, capacity {capacity})"
    ));
    let queue = BoundedQueue::new(capacity);
    thread::scope(|s| {
        s.spawn(|| {
            thread::sleep(delay); // the consumer is late
            for _ in 0..items {
                let n: u32 = queue.get();
                log.consumer(&format!("got item {n}"));
            }
            log.consumer("done");
        });
        for n in 1..=items {
            let asked = Instant::now();
            queue.put(n);
            let waited = asked.elapsed();
            if waited > Duration::from_millis(1) {
                log.producer(&format!("put({n}) waited {} for room", ms(waited)));
            } else {
                log.producer(&format!("put({n}) returned at once"));
            }
        }
        log.producer("done");
    });
}
// ANCHOR_END: bounded_put

// ANCHOR: task_done_join
/// 3. The producer puts one item and calls `join`, which sleeps until the
///    consumer has taken the item, worked on it for `delay`, and called
///    `task_done`. An empty queue is not enough: the work must be done.
fn task_done_and_join(delay: Duration) {
    let log = Log::new("3. join() waits for task_done() (ClosableQueue)");
    let queue = ClosableQueue::unbounded();
    thread::scope(|s| {
        s.spawn(|| {
            log.consumer("get(): waiting for an item");
            let Some(item) = queue.get() else { return };
            log.consumer(&format!("working on {item:?}"));
            thread::sleep(delay); // the work
            log.consumer("task_done()");
            queue.task_done().expect("one task_done per item taken");
        });
        log.producer("put(\"job\")");
        queue.put("job").expect("the queue is open");
        log.producer("join(): waiting until the item is done");
        let asked = Instant::now();
        queue.join();
        log.producer(&format!("join returned after {}", ms(asked.elapsed())));
        queue.close();
    });
}
// ANCHOR_END: task_done_join
