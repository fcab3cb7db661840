//! The runner and the tests of `stress_close.rs`, written once for both
//! closable queues: `ClosableQueue` is whichever step the parent module
//! imports. The tests of a bounded queue sit inside `bounded_cases!`, which
//! step 7's driver defines to leave them out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use queuelab::Closed;

use super::{ClosableQueue, unbounded};
use crate::common::assert_each_item_once;
use crate::{CLOSINGS, Closing, Consumed, Count, ITEMS_PER_QUEUE, Item, SHAPES};

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
    let c = stress(unbounded);
    println!("unbounded(): {c:?}");
}

bounded_cases! {
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
}
