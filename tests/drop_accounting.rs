#![cfg(not(loom))]
//! Drop accounting: every item is dropped exactly once, wherever it ends up:
//! taken by a consumer, left inside a queue that is dropped, handed back by
//! `close_now()`, handed back inside an error, or carried across threads.
//! An item dropped twice is a double free waiting to happen; an item never
//! dropped is a leak (or an item lost).
//!
//! The `ClosableQueue` tests are written once, in `drop_accounting/cases.rs`,
//! and run on every closable queue: `step4::cases::*` on
//! `queue::closable::ClosableQueue`, `step5::cases::*` on
//! `queue::fast::ClosableQueue`, `step6::cases::*` on
//! `queue::ring::ClosableQueue`, `step7::cases::*` on
//! `queue::list::ClosableQueue` (without the cases where the bound is the
//! point: `bounded_cases!`), and `root_bounded::cases::*` and
//! `root_unbounded::cases::*` on the crate root's `ClosableQueue`.
//!
//! Each test has its own `Ledger`, so the tests can run in parallel.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use queuelab::{BlockingQueue, BoundedQueue, PollingQueue, Queue};

/// Wraps the shared cases where the bound is the point: the drivers of the
/// steps that have a bound keep them; step 7's driver defines its own, which
/// leaves them out.
macro_rules! bounded_cases {
    ($($case:item)*) => { $($case)* };
}

/// Step 4: `queue::closable::ClosableQueue`.
#[path = "drop_accounting"]
mod step4 {
    use queuelab::queue::closable::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    mod cases;
}

/// Step 5: `queue::fast::ClosableQueue`.
#[path = "drop_accounting"]
mod step5 {
    use queuelab::queue::fast::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// Step 6: `queue::ring::ClosableQueue`. It is bounded only: where a case
/// asks for an unbounded queue, a ring larger than any case fills stands in.
#[path = "drop_accounting"]
mod step6 {
    use queuelab::queue::ring::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::bounded(1 << 16)
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// Step 7: `queue::list::ClosableQueue`. It is unbounded only: the cases
/// where the bound is the point are left out (`bounded_cases!`), and where a
/// case asks for a small bounded queue only to have a queue, an unbounded one
/// stands in.
#[path = "drop_accounting"]
mod step7 {
    use queuelab::queue::list::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    macro_rules! bounded_cases {
        ($($case:item)*) => {};
    }
    /// `ClosableQueue::bounded(capacity)` for step 7: an unbounded queue.
    trait StandIn {
        fn bounded(capacity: usize) -> Self;
    }
    impl<T> StandIn for ClosableQueue<T> {
        fn bounded(_capacity: usize) -> Self {
            ClosableQueue::unbounded()
        }
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// The crate root's `ClosableQueue` made with `bounded`, which runs on step
/// 6: where a case asks for an unbounded queue, a ring larger than any case
/// fills stands in, as for step 6.
#[path = "drop_accounting"]
mod root_bounded {
    use queuelab::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::bounded(1 << 16)
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// The crate root's `ClosableQueue` made with `unbounded`, which runs on
/// step 5 (its cases that ask for a bounded queue run on step 6).
#[path = "drop_accounting"]
mod root_unbounded {
    use queuelab::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

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

/// Step 7 keeps its items in blocks of a few dozen slots. 200 items fill
/// several blocks; whatever number of them is taken first (none, one, about
/// a block, more, all), the queue dropped with the rest drops each of them
/// once and frees every block (miri checks the freeing).
#[test]
fn items_spread_over_several_blocks_are_dropped_once_with_step_7() {
    for taken in [0, 1, 31, 32, 45, 62, 63, 100, 199, 200] {
        let ledger = Ledger::new(200);
        let q = queuelab::queue::list::ClosableQueue::unbounded();
        for id in 0..200 {
            q.put(ledger.item(id)).unwrap();
        }
        for id in 0..taken {
            assert_eq!(q.try_get().unwrap().id, id);
        }
        assert_eq!(ledger.dropped(), taken);
        assert_eq!(q.len(), 200 - taken);
        drop(q);
        ledger.assert_each_dropped_once();
    }
}

// ---------------------------------------------------------------------------
// Items handed back
// ---------------------------------------------------------------------------

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
fn items_moved_between_threads_are_dropped_once_by_steps_1_to_3() {
    items_moved_between_threads_are_dropped_once(PollingQueue::new());
    items_moved_between_threads_are_dropped_once(BlockingQueue::new());
    items_moved_between_threads_are_dropped_once(BoundedQueue::new(64));
}
