//! What busy-polling costs, next to a consumer that sleeps on a condition
//! variable. Prints markdown tables; no criterion, because the interesting
//! numbers are polls and CPU time, not only wall time.
//!
//! For each way of waiting (a `PollingQueue` consumer that sleeps 10 ms,
//! 1 ms, yields, or backs off with crossbeam-utils' `Backoff` after every
//! failed poll; a `BlockingQueue` consumer that sleeps in `get`):
//! - hand-off latency: the consumer is idle, the producer puts one item
//!   stamped with `Instant::now()`, the consumer notes how late it got it;
//!   median and 90th percentile over `ROUNDS` items put at uneven gaps;
//! - throughput: the producer puts `ITEMS` items as fast as it can, the clock
//!   stops when the consumer has them all; polls per item counts the
//!   consumer's attempts (a `BlockingQueue` consumer's `get` counts as one);
//! - idle cost: the consumer waits `IDLE` for an item that never comes; its
//!   CPU time (user + system) is read from the OS with
//!   `getrusage(RUSAGE_THREAD)` before and after.
//!
//! A second table runs the polling pipeline of Effective Python, Item 55 (1/1/1
//! workers, 10 ms sleeps) and counts its polls, as the study notes on Item 55
//! do ("polled 3009 times").
//!
//! Full run: `cargo bench --bench polling_cost` (about 10 s); smoke test:
//! `cargo test --bench polling_cost` (short waits, few items).

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_utils::Backoff;
use queuelab::{BlockingQueue, PollingQueue};

#[path = "common/mod.rs"]
mod common;
use common::seed;

/// How the consumer waits for an item.
#[derive(Clone, Copy)]
enum Wait {
    Sleep(Duration),
    Yield,
    Backoff,
    Blocking,
}

impl Wait {
    const ALL: [Wait; 5] = [
        Wait::Sleep(Duration::from_millis(10)),
        Wait::Sleep(Duration::from_millis(1)),
        Wait::Yield,
        Wait::Backoff,
        Wait::Blocking,
    ];

    fn name(self) -> String {
        match self {
            Wait::Sleep(d) => format!("`PollingQueue`, sleep {} ms", d.as_millis()),
            Wait::Yield => "`PollingQueue`, sleep 0 (`yield_now`)".into(),
            Wait::Backoff => "`PollingQueue`, crossbeam-utils `Backoff`".into(),
            Wait::Blocking => "`BlockingQueue` (`Condvar`)".into(),
        }
    }
}

/// Either queue, so one consumer loop serves every row.
enum Q<T> {
    Polling(PollingQueue<T>),
    Blocking(BlockingQueue<T>),
}

impl<T> Q<T> {
    fn new(wait: Wait) -> Self {
        match wait {
            Wait::Blocking => Q::Blocking(BlockingQueue::new()),
            _ => Q::Polling(PollingQueue::new()),
        }
    }

    fn put(&self, item: T) {
        match self {
            Q::Polling(q) => q.put(item),
            Q::Blocking(q) => q.put(item),
        }
    }

    /// Waits `wait`'s way for an item until `deadline` (if any); adds every
    /// attempt to `polls`.
    fn get(&self, wait: Wait, deadline: Option<Instant>, polls: &mut u64) -> Option<T> {
        let backoff = Backoff::new();
        loop {
            *polls += 1;
            let q = match self {
                Q::Blocking(q) => {
                    return match deadline {
                        None => Some(q.get()),
                        Some(at) => q.get_timeout(at.saturating_duration_since(Instant::now())),
                    };
                }
                Q::Polling(q) => q,
            };
            if let Some(item) = q.try_get() {
                return Some(item);
            }
            if deadline.is_some_and(|at| Instant::now() >= at) {
                return None;
            }
            match wait {
                Wait::Sleep(d) => thread::sleep(d),
                Wait::Yield => thread::yield_now(),
                Wait::Backoff => backoff.snooze(),
                Wait::Blocking => unreachable!("handled above"),
            }
        }
    }
}

// ANCHOR: thread_cpu_time
/// CPU time this thread has used so far, user + system, from the OS.
fn thread_cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the struct we hand it.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut usage), 0);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}
// ANCHOR_END: thread_cpu_time

struct Sizes {
    rounds: usize,
    items: u64,
    idle: Duration,
    pipeline_items: [u64; 2],
}

/// Latencies of `rounds` single hand-offs to an idle consumer.
fn latency(wait: Wait, sizes: &Sizes) -> Vec<Duration> {
    let q = Q::<Instant>::new(wait);
    let (ack_tx, ack_rx) = mpsc::channel();
    thread::scope(|s| {
        let consumer = s.spawn(|| {
            let mut late = Vec::with_capacity(sizes.rounds);
            let mut polls = 0;
            for _ in 0..sizes.rounds {
                let sent = q.get(wait, None, &mut polls).expect("no deadline");
                late.push(sent.elapsed());
                ack_tx.send(()).unwrap();
            }
            late
        });
        for round in 0..sizes.rounds {
            // Uneven gaps (0.5 to 20.5 ms), so that puts land at every phase
            // of a sleeping poller's 10 ms or 1 ms cycle.
            thread::sleep(Duration::from_micros(500 + (round as u64 * 7919) % 20_000));
            q.put(Instant::now());
            ack_rx.recv().unwrap();
        }
        consumer.join().unwrap()
    })
}

/// Time to move `items` items to a polling (or blocking) consumer, and the
/// consumer's polls.
fn throughput(wait: Wait, items: u64) -> (Duration, u64) {
    let q = Q::<u64>::new(wait);
    let start = Instant::now();
    let polls = thread::scope(|s| {
        let consumer = s.spawn(|| {
            let mut polls = 0;
            let mut sum = 0;
            for _ in 0..items {
                sum += q.get(wait, None, &mut polls).expect("no deadline");
            }
            assert_eq!(sum, items * (items - 1) / 2);
            polls
        });
        for item in 0..items {
            q.put(black_box(item));
        }
        consumer.join().unwrap()
    });
    (start.elapsed(), polls)
}

// ANCHOR: idle_cost
/// CPU time and polls of a consumer that waits `idle` for nothing.
fn idle_cost(wait: Wait, idle: Duration) -> (Duration, Duration, u64) {
    let q = Q::<u64>::new(wait);
    thread::scope(|s| {
        s.spawn(|| {
            let mut polls = 0;
            let cpu = thread_cpu_time();
            let start = Instant::now();
            let got = q.get(wait, Some(start + idle), &mut polls);
            assert!(got.is_none(), "nobody puts anything");
            (thread_cpu_time() - cpu, start.elapsed(), polls)
        })
        .join()
        .unwrap()
    })
}
// ANCHOR_END: idle_cost

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() - 1) * p / 100]
}

fn human(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.1} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1_000.0)
    } else {
        format!("{:.2} s", us / 1_000_000.0)
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let full = std::env::args().any(|a| a == "--bench") && !cfg!(debug_assertions);
    let sizes = if full {
        Sizes {
            rounds: 50,
            items: 200_000,
            idle: Duration::from_secs(1),
            pipeline_items: [1_000, 10_000],
        }
    } else {
        Sizes {
            rounds: 5,
            items: 2_000,
            idle: Duration::from_millis(50),
            pipeline_items: [100, 1_000],
        }
    };

    println!(
        "| consumer waits with | hand-off latency, median | p90 | throughput ({} items) | polls per item | CPU time while idle for {} | polls while idle |",
        sizes.items,
        human(sizes.idle)
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for wait in Wait::ALL {
        let mut late = latency(wait, &sizes);
        late.sort();
        let (elapsed, polls) = throughput(wait, sizes.items);
        let (cpu, idle_wall, idle_polls) = idle_cost(wait, sizes.idle);
        println!(
            "| {} | {} | {} | {:.2} M items/s | {:.2} | {} ({:.0}% of a core) | {} |",
            wait.name(),
            human(percentile(&late, 50)),
            human(percentile(&late, 90)),
            sizes.items as f64 / elapsed.as_secs_f64() / 1e6,
            polls as f64 / sizes.items as f64,
            human(cpu),
            100.0 * cpu.as_secs_f64() / idle_wall.as_secs_f64(),
            idle_polls,
        );
    }

    println!();
    println!(
        "Effective Python's polling pipeline (Item 55; 1/1/1 workers, no-op stages, sleep 10 ms when empty):"
    );
    println!();
    println!("| items | time | polls | polls per item |");
    println!("|---:|---:|---:|---:|");
    for items in sizes.pipeline_items {
        let (elapsed, polls) = seed::polling_pipeline(items, Duration::from_millis(10));
        println!(
            "| {items} | {} | {polls} | {:.3} |",
            human(elapsed),
            polls as f64 / items as f64
        );
    }
}
