#![cfg(loom)]
//! Loom models of step 5, `queue::fast::ClosableQueue`: the same promises as
//! step 4 (`tests/loom_closable.rs`), checked again because step 5 changed
//! how threads wait:
//! - before sleeping, a thread lets go of the lock, watches the atomic
//!   `changes` counter with `Backoff` (under loom: one yield) and takes the
//!   lock again, so a put, get or close can land between any two of those
//!   steps; a wake-up lost there would leave a thread asleep for ever, which
//!   loom reports as a deadlock;
//! - `Iter::next` marks the last item done and takes the next one under one
//!   lock, so `join` must still wait for the item being processed.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_fast`

mod loom_common;

use std::sync::Arc;
use std::time::Duration;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use loom_common::{Outcomes, check};
use queuelab::queue::fast::ClosableQueue;
use queuelab::{Closed, GetTimeoutError};

/// Capacity 1: the producer puts two items and closes, the consumer takes
/// them in order, marks each done, and then sees the end.
#[test]
fn put_get_handoff() {
    check("fast::put_get_handoff", || {
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

// ANCHOR: two_consumers_two_puts
/// Two consumers on an empty queue, spinning or asleep, and two `put`s:
/// both consumers get an item, none sleeps for ever.
#[test]
fn two_consumers_two_puts() {
    check("fast::two_consumers_two_puts", || {
        let q = Arc::new(ClosableQueue::unbounded());
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
    });
}
// ANCHOR_END: two_consumers_two_puts

/// A full queue (capacity 1) with two producers waiting and one consumer:
/// each `get` makes room for one producer, none is left asleep, and a woken
/// producer never pushes past the capacity.
#[test]
fn full_two_producers_one_consumer() {
    check("fast::full_two_producers_one_consumer", || {
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
    });
}

/// Two consumers waiting on an empty queue: `close` wakes both (spinning or
/// asleep), and both see the end.
#[test]
fn close_wakes_waiting_consumers() {
    check("fast::close_wakes_waiting_consumers", || {
        let q = Arc::new(ClosableQueue::<u32>::unbounded());
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

/// Two producers waiting on a full queue (capacity 1): `close` wakes both
/// and hands each its item back; the item inside stays gettable.
#[test]
fn close_wakes_waiting_producers() {
    check("fast::close_wakes_waiting_producers", || {
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
    });
}

/// `close_now` racing a consumer and a producer on a full queue (capacity
/// 1): every item ends up exactly once with the consumer, in the vector
/// `close_now` returns, or handed back to the producer.
#[test]
fn close_now_races_put_and_get() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    check("fast::close_now_races_put_and_get", move || {
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
            other => panic!("unexpected outcome {other:?}"),
        });
    });
    outcomes.assert_exactly(&[
        "close_now first",
        "get, then close_now",
        "get, put, then close_now",
    ]);
}

/// Two workers iterate over the queue (each `next` marks the last item done
/// and takes the next under one lock); `join` returns only after both items
/// were processed, and the loops end once the queue is closed.
#[test]
fn iter_workers_task_done_join() {
    check("fast::iter_workers_task_done_join", || {
        let q = Arc::new(ClosableQueue::unbounded());
        let processed = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (q, processed) = (Arc::clone(&q), Arc::clone(&processed));
                thread::spawn(move || {
                    for item in &*q {
                        processed.fetch_add(item, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        q.put(1).unwrap();
        q.put(2).unwrap();
        q.join();
        assert_eq!(processed.load(Ordering::SeqCst), 3, "join returned early");
        q.close();
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(q.unfinished_tasks(), 0);
    });
}

/// `get_timeout` spins before its timed sleep too: a `put` racing it is
/// always handed out, never hidden behind `Timeout` or a missed wake-up.
#[test]
fn get_timeout_races_put() {
    check("fast::get_timeout_races_put", || {
        let q = Arc::new(ClosableQueue::unbounded());
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

/// `put_timeout` with a long limit on a full queue, racing a `get`: the item
/// goes in in every interleaving.
#[test]
fn put_timeout_races_get() {
    check("fast::put_timeout_races_get", || {
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
