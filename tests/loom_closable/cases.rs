//! The models of the closable queue, written once and run on step 4
//! (`tests/loom_closable.rs`) and on step 5 (`tests/loom_fast.rs`): each of
//! those files loads this one as a module next to its own `ClosableQueue`.
//! Steps 6 (`tests/loom_ring.rs`) and 7 (`tests/loom_list.rs`) run them
//! too. The models where the bound is the point sit inside
//! `bounded_cases!`, which step 7's driver defines to leave them out.

use std::sync::Arc;
use std::time::Duration;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use queuelab::GetTimeoutError;

use super::*;
use crate::loom_common::check;

bounded_cases! {
use queuelab::{Closed, PutTimeoutError};

use crate::loom_common::Outcomes;
}

/// Capacity 1: the producer puts two items and closes, the consumer takes
/// them in order, marks each done, and then sees the end.
#[test]
fn put_get_handoff() {
    check(&format!("{STEP}::put_get_handoff"), || {
        let q = Arc::new(ClosableQueue::bounded(1));
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                q.put(1).unwrap();
                q.put(2).unwrap();
                q.close();
            })
        };
        for expected in [1, 2] {
            assert_eq!(q.get(), Some(expected));
            q.task_done().unwrap();
        }
        assert_eq!(q.get(), None);
        producer.join().unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
    });
}

// ANCHOR: close_wakes_blocked_consumers
/// Two consumers asleep on an empty queue: `close` wakes both, and both see
/// the end (`None`) instead of sleeping for ever.
#[test]
fn close_wakes_blocked_consumers() {
    check(&format!("{STEP}::close_wakes_blocked_consumers"), || {
        let q = Arc::new(unbounded::<u32>());
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.get())
            })
            .collect();
        assert!(q.close());
        for c in consumers {
            assert_eq!(c.join().unwrap(), None);
        }
    });
}
// ANCHOR_END: close_wakes_blocked_consumers

bounded_cases! {
/// A full queue (capacity 1) with two producers asleep on it and one
/// consumer: each `get` wakes one producer, none is left asleep, and a woken
/// producer never pushes past the capacity.
#[test]
fn full_two_blocked_producers_one_consumer() {
    check(
        &format!("{STEP}::full_two_blocked_producers_one_consumer"),
        || {
            let q = Arc::new(ClosableQueue::bounded(1));
            q.put(0).unwrap();
            let producers: Vec<_> = [1, 2]
                .into_iter()
                .map(|item| {
                    let q = Arc::clone(&q);
                    thread::spawn(move || {
                        q.put(item).unwrap();
                        assert!(q.len() <= 1, "capacity exceeded");
                    })
                })
                .collect();
            let mut got: Vec<u32> = (0..3).map(|_| q.get().unwrap()).collect();
            for p in producers {
                p.join().unwrap();
            }
            assert_eq!(got[0], 0);
            got.sort_unstable();
            assert_eq!(got, [0, 1, 2]);
            assert_eq!(q.unfinished_tasks(), 3);
        },
    );
}
}

// ANCHOR: empty_two_blocked_consumers_one_producer
/// An empty queue (capacity 1) with two consumers asleep on it and one
/// producer with two items; the second `put` may have to wait for room.
#[test]
fn empty_two_blocked_consumers_one_producer() {
    check(
        &format!("{STEP}::empty_two_blocked_consumers_one_producer"),
        || {
            let q = Arc::new(ClosableQueue::bounded(1));
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let q = Arc::clone(&q);
                    thread::spawn(move || q.get())
                })
                .collect();
            q.put(1).unwrap();
            q.put(2).unwrap();
            let mut got: Vec<u32> = consumers
                .into_iter()
                .map(|c| c.join().unwrap().unwrap())
                .collect();
            got.sort_unstable();
            assert_eq!(got, [1, 2]);
        },
    );
}
// ANCHOR_END: empty_two_blocked_consumers_one_producer

/// Two consumers asleep, one item put, then `close`: the item still goes to
/// exactly one consumer, and the other is woken to see the end.
#[test]
fn close_with_item_inside_two_consumers() {
    check(
        &format!("{STEP}::close_with_item_inside_two_consumers"),
        || {
            let q = Arc::new(unbounded());
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let q = Arc::clone(&q);
                    thread::spawn(move || q.get())
                })
                .collect();
            q.put(1).unwrap();
            assert!(q.close());
            let mut got: Vec<Option<u32>> =
                consumers.into_iter().map(|c| c.join().unwrap()).collect();
            got.sort_unstable();
            assert_eq!(got, [None, Some(1)]);
        },
    );
}

bounded_cases! {
// ANCHOR: close_wakes_blocked_producers
/// Two producers asleep on a full queue (capacity 1): `close` wakes both and
/// hands each its item back. The item already inside stays gettable, and a
/// later `put` hands its item back too.
#[test]
fn close_wakes_blocked_producers() {
    check(&format!("{STEP}::close_wakes_blocked_producers"), || {
        let q = Arc::new(ClosableQueue::bounded(1));
        q.put(0).unwrap();
        let producers: Vec<_> = [1, 2]
            .into_iter()
            .map(|item| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.put(item))
            })
            .collect();
        assert!(q.close());
        for (p, item) in producers.into_iter().zip([1, 2]) {
            assert_eq!(p.join().unwrap(), Err(Closed(item)));
        }
        assert_eq!(q.get(), Some(0));
        assert_eq!(q.get(), None);
        assert_eq!(q.put(3), Err(Closed(3)));
    });
}
// ANCHOR_END: close_wakes_blocked_producers
}

bounded_cases! {
// ANCHOR: close_now_races_put_and_get
/// `close_now` racing a consumer and a producer on a full queue (capacity
/// 1): every item ends up exactly once with the consumer, in the vector
/// `close_now` returns, or handed back to the producer; and once the
/// consumer has marked its item done, nothing is left unfinished.
#[test]
fn close_now_races_put_and_get() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    check(&format!("{STEP}::close_now_races_put_and_get"), move || {
        let q = Arc::new(ClosableQueue::bounded(1));
        q.put(0).unwrap();
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let item = q.get();
                if item.is_some() {
                    q.task_done().unwrap();
                }
                item
            })
        };
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put(1))
        };
        let returned = q.close_now();
        let taken = consumer.join().unwrap();
        let handed_back = producer.join().unwrap().err().map(Closed::into_inner);

        let mut all: Vec<u32> = returned.iter().copied().chain(taken).collect();
        all.extend(handed_back);
        all.sort_unstable();
        assert_eq!(all, [0, 1], "every item is somewhere, exactly once");
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(q.get(), None);
        seen.saw(match (taken, returned.as_slice(), handed_back) {
            (None, [0], Some(1)) => "close_now first",
            (Some(0), [], Some(1)) => "get, then close_now",
            (Some(0), [1], None) => "get, put, then close_now",
            (None, [0], None) | (None, [], _) => unreachable!("0 was lost or taken twice"),
            other => panic!("unexpected outcome {other:?}"),
        });
    });
    outcomes.assert_exactly(&[
        "close_now first",
        "get, then close_now",
        "get, put, then close_now",
    ]);
}
// ANCHOR_END: close_now_races_put_and_get
}

/// Two workers each take one item, process it and mark it done; `join`
/// returns only after both have processed theirs.
#[test]
fn task_done_join_two_workers() {
    check(&format!("{STEP}::task_done_join_two_workers"), || {
        let q = Arc::new(unbounded());
        let processed = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (q, processed) = (Arc::clone(&q), Arc::clone(&processed));
                thread::spawn(move || {
                    let item = q.get().unwrap();
                    processed.fetch_add(item, Ordering::SeqCst);
                    q.task_done().unwrap();
                })
            })
            .collect();
        q.put(1).unwrap();
        q.put(2).unwrap();
        q.join();
        assert_eq!(processed.load(Ordering::SeqCst), 3, "join returned early");
        for w in workers {
            w.join().unwrap();
        }
        assert!(q.task_done().is_err());
    });
}

/// A worker iterating over the queue ends once it is closed and drained;
/// the iterator marks every item done, so `join` returns, and only after
/// the worker has processed both items. A `task_done` inside the loop is
/// refused in every interleaving: it cannot spend the mark of the item
/// being processed.
#[test]
fn iter_ends_on_close() {
    check(&format!("{STEP}::iter_ends_on_close"), || {
        let q = Arc::new(ClosableQueue::bounded(1));
        let processed = Arc::new(AtomicUsize::new(0));
        let worker = {
            let (q, processed) = (Arc::clone(&q), Arc::clone(&processed));
            thread::spawn(move || {
                let mut seen = Vec::new();
                for item in &*q {
                    assert!(
                        q.task_done().is_err(),
                        "task_done spent the iterator's mark"
                    );
                    processed.fetch_add(item, Ordering::SeqCst);
                    seen.push(item);
                }
                seen
            })
        };
        q.put(1).unwrap();
        q.put(2).unwrap();
        q.close();
        q.join();
        assert_eq!(processed.load(Ordering::SeqCst), 3, "join returned early");
        assert_eq!(worker.join().unwrap(), [1, 2]);
    });
}

/// A worker that leaves the loop early (here with `break`; a panic unwinds
/// the same way) still marks its item done when the iterator is dropped,
/// so `join` returns.
#[test]
fn iter_dropped_early_marks_done() {
    check(&format!("{STEP}::iter_dropped_early_marks_done"), || {
        let q = Arc::new(unbounded());
        let processed = Arc::new(AtomicUsize::new(0));
        let worker = {
            let (q, processed) = (Arc::clone(&q), Arc::clone(&processed));
            thread::spawn(move || {
                if let Some(item) = q.iter().next() {
                    processed.fetch_add(item, Ordering::SeqCst);
                }
            })
        };
        q.put(1).unwrap();
        q.join();
        assert_eq!(processed.load(Ordering::SeqCst), 1, "join returned early");
        worker.join().unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
    });
}

bounded_cases! {
/// `put_timeout` with a long limit on a full queue, racing a `get`: the
/// item goes in in every interleaving, because after a wait the producer
/// re-checks for room instead of trusting the time-out.
#[test]
fn put_timeout_races_get() {
    check(&format!("{STEP}::put_timeout_races_get"), || {
        let q = Arc::new(ClosableQueue::bounded(1));
        q.put(0).unwrap();
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put_timeout(1, Duration::from_secs(60)))
        };
        assert_eq!(q.get(), Some(0));
        assert_eq!(producer.join().unwrap(), Ok(()));
        assert_eq!(q.try_get(), Ok(1));
    });
}
}

/// `get_timeout` racing a `put` and a `close`: the item put before `close`
/// is always handed out, never hidden behind `Closed` or `Timeout`.
#[test]
fn get_timeout_races_put_and_close() {
    check(&format!("{STEP}::get_timeout_races_put_and_close"), || {
        let q = Arc::new(unbounded());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get_timeout(Duration::from_secs(60)))
        };
        q.put(1).unwrap();
        q.close();
        assert_eq!(consumer.join().unwrap(), Ok(1));
        assert_eq!(
            q.get_timeout(Duration::from_secs(60)),
            Err(GetTimeoutError::Closed)
        );
    });
}

bounded_cases! {
// ANCHOR: put_timeout_races_close
/// `put_timeout` on a full queue racing a `close`: the item comes back and
/// the item inside stays gettable.
///
/// With a real clock the item could also come back as `Timeout`. loom has
/// none: the shim in `src/sync.rs` models a timed wait as "unlock, yield,
/// relock, time out", and a yielding thread runs again only after the others
/// have made progress, so here the `close` always lands first.
#[test]
fn put_timeout_races_close() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    check(&format!("{STEP}::put_timeout_races_close"), move || {
        let q = Arc::new(ClosableQueue::bounded(1));
        q.put(0).unwrap();
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put_timeout(1, Duration::from_secs(60)))
        };
        q.close();
        seen.saw(match producer.join().unwrap() {
            Err(PutTimeoutError::Closed(1)) => "closed",
            other => panic!("item not handed back: {other:?}"),
        });
        assert_eq!(q.get(), Some(0));
        assert_eq!(q.get(), None);
    });
    outcomes.assert_exactly(&["closed"]);
}
// ANCHOR_END: put_timeout_races_close
}
