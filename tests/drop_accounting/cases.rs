//! The `ClosableQueue` cases of `drop_accounting.rs`, written once for both
//! closable queues: `ClosableQueue` is whichever step the parent module
//! imports. The cases where the bound is the point sit inside
//! `bounded_cases!`, which step 7's driver defines to leave them out.

use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use super::*;
use crate::{
    CONSUMERS, Ledger, PER_PRODUCER, PRODUCERS, Tracked, items_inside_are_dropped_with_the_queue,
    items_moved_between_threads_are_dropped_once,
};

bounded_cases! {
use std::time::Duration;

use queuelab::{Closed, PutTimeoutError, Queue, TryPutError};
}

// ---------------------------------------------------------------------------
// Items left inside a queue are dropped with it
// ---------------------------------------------------------------------------

#[test]
fn items_inside_the_closable_queue_are_dropped_with_it() {
    items_inside_are_dropped_with_the_queue(unbounded());
    items_inside_are_dropped_with_the_queue(ClosableQueue::bounded(10));
}

#[test]
fn items_inside_a_closed_queue_are_dropped_with_it() {
    let ledger = Ledger::new(3);
    let q = unbounded();
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

bounded_cases! {
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
}

// ---------------------------------------------------------------------------
// Panics and iterators
// ---------------------------------------------------------------------------

#[test]
fn an_item_held_by_a_panicking_consumer_is_dropped_once() {
    let ledger = Ledger::new(3);
    let q = unbounded();
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
    let q = unbounded();
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

#[test]
fn items_moved_between_threads_are_dropped_once_by_the_closable_queue() {
    items_moved_between_threads_are_dropped_once(unbounded());
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
