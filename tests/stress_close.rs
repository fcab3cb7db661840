#![cfg(not(loom))]
//! Conservation while `close` races the producers (`ClosableQueue` only).
//!
//! M producers each try to put all of their items; N consumers take items
//! with `for item in &queue` until it is closed and drained; at some point
//! the queue is closed. Afterwards every item must be in exactly one place:
//! received by a consumer, handed back to its producer in `Err(Closed(item))`,
//! or handed back by `close_now()`. And since closing is for good, each
//! producer's refused items must be exactly its last ones.
//!
//! Size: at least 1,000,000 items per queue in release builds
//! (`cargo test --release --test 'stress_*'`), 20,000 in debug builds.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use common::assert_each_item_once;
use queuelab::{ClosableQueue, Closed};

/// An item: (producer, sequence number).
type Item = (usize, u64);

/// Items per queue, spread over all the shapes and closings below.
const ITEMS_PER_QUEUE: u64 = if cfg!(debug_assertions) {
    20_000
} else {
    1_000_000
};

/// (producers, consumers); most have more threads than the 2 cores.
const SHAPES: &[(usize, usize)] = &[(1, 1), (1, 8), (8, 1), (2, 2), (3, 5), (8, 8)];

/// When and how the queue is closed.
#[derive(Debug, Clone, Copy)]
enum Closing {
    /// The main thread calls `close()` as soon as the producers are started.
    AtStart,
    /// The consumer that receives the item numbered half the total calls
    /// `close()`; the others drain what is left.
    Halfway,
    /// The same, but with `close_now()`, which hands back what is inside.
    HalfwayWithCloseNow,
}

const CLOSINGS: &[Closing] = &[
    Closing::AtStart,
    Closing::Halfway,
    Closing::HalfwayWithCloseNow,
];

/// Where the items of one run ended up.
#[derive(Debug, Default)]
struct Count {
    received: u64,
    refused: u64,
    close_now: u64,
}

/// What one consumer saw: per producer, the sequence numbers it received,
/// and those `close_now` handed back if this consumer called it.
struct Consumed {
    received: Vec<Vec<u64>>,
    close_now: Vec<Vec<u64>>,
}

fn run(
    q: &ClosableQueue<Item>,
    closing: Closing,
    producers: usize,
    consumers: usize,
    per_producer: u64,
) -> Count {
    let total = producers as u64 * per_producer;
    let close_at = match closing {
        Closing::AtStart => None,
        // Reached for sure: nothing is refused before the close, so the
        // consumers receive every item up to this one.
        Closing::Halfway | Closing::HalfwayWithCloseNow => Some((total / 2).max(1)),
    };
    let received_so_far = AtomicU64::new(0);

    let (consumed, refused): (Vec<Consumed>, Vec<Vec<u64>>) = thread::scope(|s| {
        let consumer_threads: Vec<_> = (0..consumers)
            .map(|_| {
                s.spawn(|| {
                    let mut c = Consumed {
                        received: vec![Vec::new(); producers],
                        close_now: vec![Vec::new(); producers],
                    };
                    for (p, seq) in q {
                        c.received[p].push(seq);
                        let n = received_so_far.fetch_add(1, Ordering::Relaxed) + 1;
                        if Some(n) == close_at {
                            if let Closing::HalfwayWithCloseNow = closing {
                                for (p, seq) in q.close_now() {
                                    c.close_now[p].push(seq);
                                }
                            } else {
                                q.close();
                            }
                        }
                    }
                    c
                })
            })
            .collect();
        let producer_threads: Vec<_> = (0..producers)
            .map(|p| {
                s.spawn(move || {
                    let mut refused = Vec::new();
                    for seq in 0..per_producer {
                        if let Err(Closed(item)) = q.put((p, seq)) {
                            assert_eq!(item, (p, seq), "a different item came back");
                            refused.push(seq);
                        }
                    }
                    refused
                })
            })
            .collect();
        if let Closing::AtStart = closing {
            q.close();
        }
        let refused = producer_threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let consumed = consumer_threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        (consumed, refused)
    });

    // Closing is for good: once a put is refused, every later one is too.
    for (p, seqs) in refused.iter().enumerate() {
        if let Some(&first) = seqs.first() {
            let expected: Vec<u64> = (first..per_producer).collect();
            assert_eq!(
                seqs, &expected,
                "producer {p}: a put succeeded after one was refused"
            );
        }
    }

    // Every item is in exactly one place.
    let mut lists = Vec::new();
    for c in &consumed {
        lists.push(c.received.clone());
    }
    for c in &consumed {
        lists.push(c.close_now.clone());
    }
    for (p, seqs) in refused.into_iter().enumerate() {
        let mut list = vec![Vec::new(); producers];
        list[p] = seqs;
        lists.push(list);
    }
    let sizes = assert_each_item_once(producers, per_producer, &lists);
    let count = Count {
        received: sizes[..consumers].iter().sum(),
        close_now: sizes[consumers..2 * consumers].iter().sum(),
        refused: sizes[2 * consumers..].iter().sum(),
    };

    // The queue ends closed, empty, with no work outstanding: the `for`
    // loops marked every received item done, and close_now's items are not
    // tasks any more.
    assert!(q.is_closed());
    assert!(q.is_empty());
    assert_eq!(q.unfinished_tasks(), 0);
    q.join();
    count
}

/// Runs every shape with every kind of closing on queues made by
/// `new_queue`, and returns the totals.
fn stress(new_queue: impl Fn() -> ClosableQueue<Item>) -> Count {
    let runs = (SHAPES.len() * CLOSINGS.len()) as u64;
    let per_run = ITEMS_PER_QUEUE.div_ceil(runs);
    let mut sum = Count::default();
    for &closing in CLOSINGS {
        for &(producers, consumers) in SHAPES {
            let per_producer = per_run.div_ceil(producers as u64);
            let c = run(&new_queue(), closing, producers, consumers, per_producer);
            sum.received += c.received;
            sum.refused += c.refused;
            sum.close_now += c.close_now;
        }
    }
    assert!(sum.received + sum.refused + sum.close_now >= ITEMS_PER_QUEUE);
    sum
}

#[test]
fn unbounded_queue_loses_nothing_when_closed_under_load() {
    let c = stress(ClosableQueue::unbounded);
    println!("ClosableQueue::unbounded(): {c:?}");
}

#[test]
fn queue_of_capacity_1_loses_nothing_when_closed_under_load() {
    let c = stress(|| ClosableQueue::bounded(1));
    println!("ClosableQueue::bounded(1): {c:?}");
}

#[test]
fn queue_of_capacity_64_loses_nothing_when_closed_under_load() {
    let c = stress(|| ClosableQueue::bounded(64));
    println!("ClosableQueue::bounded(64): {c:?}");
}
