#![cfg(not(loom))]
//! Drop accounting: every item is dropped exactly once, wherever it ends up:
//! taken by a consumer, left inside a queue that is dropped, handed back by
//! `close_now()`, handed back inside an error, or carried across threads.
//! An item dropped twice is a double free waiting to happen; an item never
//! dropped is a leak (or an item lost).
//!
//! Each test has its own `Ledger`, so the tests can run in parallel.

use std::panic;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use queuelab::{
    BlockingQueue, BoundedQueue, ClosableQueue, Closed, PollingQueue, PutTimeoutError, Queue,
    TryPutError,
};

/// Counts, for each item of one test, how many times it was dropped.
struct Ledger {
    drops: Arc<[AtomicUsize]>,
}

/// An item that reports its drop to its ledger.
struct Tracked {
    id: usize,
    drops: Arc<[AtomicUsize]>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

impl Ledger {
    fn new(items: usize) -> Self {
        Ledger {
            drops: (0..items).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// Makes item `id`. Each id should be made once.
    fn item(&self, id: usize) -> Tracked {
        Tracked {
            id,
            drops: Arc::clone(&self.drops),
        }
    }

    fn drops_of(&self, id: usize) -> usize {
        self.drops[id].load(Ordering::SeqCst)
    }

    /// How many items have been dropped so far (each counted once).
    fn dropped(&self) -> usize {
        (0..self.drops.len())
            .filter(|&id| self.drops_of(id) > 0)
            .count()
    }

    /// Every item was dropped, and none twice.
    fn assert_each_dropped_once(&self) {
        for id in 0..self.drops.len() {
            assert_eq!(
                self.drops_of(id),
                1,
                "item {id} dropped the wrong number of times"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Items left inside a queue are dropped with it
// ---------------------------------------------------------------------------

/// Puts 10 items, takes 4 (and drops them), then drops the queue with 6
/// inside: the 6 must be dropped then, not before and not twice.
fn items_inside_are_dropped_with_the_queue<Q: Queue<Tracked>>(q: Q) {
    let ledger = Ledger::new(10);
    for id in 0..10 {
        assert!(q.push(ledger.item(id)).is_ok());
    }
    for id in 0..4 {
        let item = q.try_pop().unwrap();
        assert_eq!(item.id, id);
    } // each taken item is dropped here
    assert_eq!(ledger.dropped(), 4);
    assert_eq!(q.len(), 6);
    drop(q);
    ledger.assert_each_dropped_once();
}

#[test]
fn items_inside_the_polling_queue_are_dropped_with_it() {
    items_inside_are_dropped_with_the_queue(PollingQueue::new());
}

#[test]
fn items_inside_the_blocking_queue_are_dropped_with_it() {
    items_inside_are_dropped_with_the_queue(BlockingQueue::new());
}

#[test]
fn items_inside_the_bounded_queue_are_dropped_with_it() {
    items_inside_are_dropped_with_the_queue(BoundedQueue::new(10));
}

#[test]
fn items_inside_the_closable_queue_are_dropped_with_it() {
    items_inside_are_dropped_with_the_queue(ClosableQueue::unbounded());
    items_inside_are_dropped_with_the_queue(ClosableQueue::bounded(10));
}

#[test]
fn items_inside_a_closed_queue_are_dropped_with_it() {
    let ledger = Ledger::new(3);
    let q = ClosableQueue::unbounded();
    for id in 0..3 {
        q.put(ledger.item(id)).unwrap();
    }
    q.close();
    assert_eq!(ledger.dropped(), 0);
    drop(q);
    ledger.assert_each_dropped_once();
}

// ---------------------------------------------------------------------------
// Items handed back
// ---------------------------------------------------------------------------

#[test]
fn items_returned_by_close_now_are_dropped_once_by_their_new_owner() {
    let ledger = Ledger::new(5);
    let q = ClosableQueue::bounded(8);
    for id in 0..5 {
        q.put(ledger.item(id)).unwrap();
    }
    drop(q.get()); // item 0, taken and dropped by a consumer
    let handed_back = q.close_now();
    assert_eq!(
        handed_back.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(ledger.dropped(), 1); // the queue did not drop them
    drop(q); // nothing is left inside to drop
    assert_eq!(ledger.dropped(), 1);
    drop(handed_back);
    ledger.assert_each_dropped_once();
}

#[test]
fn items_handed_back_in_closable_queue_errors_are_dropped_once() {
    let ledger = Ledger::new(8);
    let q = ClosableQueue::bounded(1);
    q.put(ledger.item(0)).unwrap();

    // Full: the error owns the item until it is dropped or taken back.
    let full = q.try_put(ledger.item(1)).unwrap_err();
    assert!(matches!(full, TryPutError::Full(_)));
    assert_eq!(ledger.drops_of(1), 0);
    drop(full);
    assert_eq!(ledger.drops_of(1), 1);

    let timeout = q.put_timeout(ledger.item(2), Duration::ZERO).unwrap_err();
    assert!(matches!(timeout, PutTimeoutError::Timeout(_)));
    let item = timeout.into_inner(); // moved out of the error, not copied
    assert_eq!(ledger.drops_of(2), 0);
    drop(item);
    assert_eq!(ledger.drops_of(2), 1);

    q.close();
    let Closed(item) = q.put(ledger.item(3)).unwrap_err();
    assert_eq!(item.id, 3);
    drop(item);
    drop(q.try_put(ledger.item(4)).unwrap_err());
    drop(q.put_timeout(ledger.item(5), Duration::ZERO).unwrap_err());
    drop(Queue::push(&q, ledger.item(6)).unwrap_err());
    // Built and dropped without a queue, too.
    drop(Closed(ledger.item(7)));

    drop(q); // still holds item 0
    ledger.assert_each_dropped_once();
}

#[test]
fn items_handed_back_by_the_bounded_queue_are_dropped_once() {
    let ledger = Ledger::new(3);
    let q = BoundedQueue::new(1);
    q.put(ledger.item(0));
    let refused = q.try_put(ledger.item(1)).unwrap_err();
    assert_eq!(refused.id, 1);
    drop(refused);
    drop(q.put_timeout(ledger.item(2), Duration::ZERO).unwrap_err());
    drop(q);
    ledger.assert_each_dropped_once();
}

// ---------------------------------------------------------------------------
// Panics and iterators
// ---------------------------------------------------------------------------

#[test]
fn an_item_held_by_a_panicking_consumer_is_dropped_once() {
    let ledger = Ledger::new(3);
    let q = ClosableQueue::unbounded();
    for id in 0..3 {
        q.put(ledger.item(id)).unwrap();
    }
    let caught = panic::catch_unwind(|| {
        for item in &q {
            if item.id == 1 {
                panic!("worker crashed"); // `item` is dropped while unwinding
            }
        }
    });
    assert!(caught.is_err());
    assert_eq!((ledger.drops_of(0), ledger.drops_of(1)), (1, 1));
    assert_eq!(ledger.drops_of(2), 0); // still inside
    drop(q);
    ledger.assert_each_dropped_once();
}

#[test]
fn items_taken_by_an_iterator_are_dropped_once() {
    let ledger = Ledger::new(4);
    let q = ClosableQueue::unbounded();
    for id in 0..4 {
        q.put(ledger.item(id)).unwrap();
    }
    q.close();
    let mut it = q.iter();
    let first = it.next().unwrap();
    drop(it); // the iterator marks the task done; it does not own the item
    assert_eq!(ledger.drops_of(first.id), 0);
    drop(first);
    let rest: Vec<Tracked> = q.iter().collect();
    assert_eq!(rest.len(), 3);
    drop(rest);
    ledger.assert_each_dropped_once();
    drop(q);
    ledger.assert_each_dropped_once();
}

// ---------------------------------------------------------------------------
// Across threads
// ---------------------------------------------------------------------------

const PRODUCERS: usize = 4;
const CONSUMERS: usize = 4;
const PER_PRODUCER: usize = 250;
/// Each consumer takes this many items and stops; the rest (40, which fits
/// in a queue of capacity 64, so no producer is left waiting) stay inside and
/// are dropped with the queue.
const PER_CONSUMER: usize = 240;

fn items_moved_between_threads_are_dropped_once<Q: Queue<Tracked>>(q: Q) {
    let ledger = Ledger::new(PRODUCERS * PER_PRODUCER);
    thread::scope(|s| {
        for p in 0..PRODUCERS {
            let (q, ledger) = (&q, &ledger);
            s.spawn(move || {
                for i in 0..PER_PRODUCER {
                    assert!(q.push(ledger.item(p * PER_PRODUCER + i)).is_ok());
                }
            });
        }
        for _ in 0..CONSUMERS {
            s.spawn(|| {
                for _ in 0..PER_CONSUMER {
                    drop(q.pop().unwrap());
                }
            });
        }
    });
    assert_eq!(ledger.dropped(), CONSUMERS * PER_CONSUMER);
    assert_eq!(q.len(), PRODUCERS * PER_PRODUCER - CONSUMERS * PER_CONSUMER);
    drop(q);
    ledger.assert_each_dropped_once();
}

#[test]
fn items_moved_between_threads_are_dropped_once_by_every_queue() {
    items_moved_between_threads_are_dropped_once(PollingQueue::new());
    items_moved_between_threads_are_dropped_once(BlockingQueue::new());
    items_moved_between_threads_are_dropped_once(BoundedQueue::new(64));
    items_moved_between_threads_are_dropped_once(ClosableQueue::unbounded());
    items_moved_between_threads_are_dropped_once(ClosableQueue::bounded(64));
}

#[test]
fn items_are_dropped_once_when_close_now_races_producers_and_consumers() {
    let ledger = Ledger::new(PRODUCERS * PER_PRODUCER);
    let q = ClosableQueue::bounded(8);
    let taken = AtomicUsize::new(0);
    let handed_back = thread::scope(|s| {
        for p in 0..PRODUCERS {
            let (q, ledger) = (&q, &ledger);
            s.spawn(move || {
                for i in 0..PER_PRODUCER {
                    // A refused item comes back in the error and is dropped here.
                    let _ = q.put(ledger.item(p * PER_PRODUCER + i));
                }
            });
        }
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                s.spawn(|| {
                    for item in &q {
                        let n = taken.fetch_add(1, Ordering::SeqCst) + 1;
                        drop(item);
                        if n == PRODUCERS * PER_PRODUCER / 2 {
                            return q.close_now();
                        }
                    }
                    Vec::new()
                })
            })
            .collect();
        consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect::<Vec<Tracked>>()
    });
    // Dropped so far: everything but what close_now handed back.
    assert_eq!(
        ledger.dropped(),
        PRODUCERS * PER_PRODUCER - handed_back.len()
    );
    assert!(q.is_empty());
    drop(handed_back);
    ledger.assert_each_dropped_once();
    drop(q);
    ledger.assert_each_dropped_once();
}
