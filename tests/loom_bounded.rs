#![cfg(loom)]
//! Loom models of step 3, `BoundedQueue`: producers asleep on a full queue
//! and consumers asleep on an empty one are all woken, every item is taken
//! exactly once, in order, and nothing is lost when a `put_timeout` gives up.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_bounded`

mod loom_common;

use std::sync::Arc;
use std::time::Duration;

use loom::thread;
use loom_common::{Outcomes, check};
use queuelab::BoundedQueue;

/// Capacity 1, one producer with two items, one consumer: the producer
/// sleeps on the full queue until the consumer makes room; FIFO order holds.
#[test]
fn put_get_handoff() {
    check("bounded::put_get_handoff", || {
        let q = Arc::new(BoundedQueue::new(1));
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                q.put(1);
                q.put(2);
            })
        };
        assert_eq!(q.get(), 1);
        assert_eq!(q.get(), 2);
        producer.join().unwrap();
        assert!(q.is_empty());
    });
}

/// A full queue (capacity 1) with two producers asleep on it and one
/// consumer: each `get` wakes one producer with `notify_one`, none is left
/// asleep, and a woken producer never pushes past the capacity.
#[test]
fn full_two_blocked_producers_one_consumer() {
    check("bounded::full_two_blocked_producers_one_consumer", || {
        let q = Arc::new(BoundedQueue::new(1));
        q.put(0);
        let producers: Vec<_> = [1, 2]
            .into_iter()
            .map(|item| {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    q.put(item);
                    assert!(q.len() <= 1, "capacity exceeded");
                })
            })
            .collect();
        let mut got = vec![q.get(), q.get(), q.get()];
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(got[0], 0);
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
        assert!(q.is_empty());
    });
}

/// An empty queue (capacity 1) with two consumers asleep on it and one
/// producer with two items; the second `put` may have to wait for room.
#[test]
fn empty_two_blocked_consumers_one_producer() {
    check("bounded::empty_two_blocked_consumers_one_producer", || {
        let q = Arc::new(BoundedQueue::new(1));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.get())
            })
            .collect();
        q.put(1);
        q.put(2);
        let mut got: Vec<u32> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// `put_timeout` with a long limit on a full queue, racing a `get`: the
/// item goes in in every interleaving, because after a wait the producer
/// re-checks for room instead of trusting the time-out. (loom has no clock:
/// the shim in `src/sync.rs` models every timed wait as one that runs out.)
#[test]
fn put_timeout_races_get() {
    check("bounded::put_timeout_races_get", || {
        let q = Arc::new(BoundedQueue::new(1));
        q.put(0);
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put_timeout(1, Duration::from_secs(60)))
        };
        assert_eq!(q.get(), 0);
        assert_eq!(producer.join().unwrap(), Ok(()));
        assert_eq!(q.try_get(), Some(1));
    });
}

/// `get_timeout` with a long limit racing a `put`: it gets the item in
/// every interleaving.
#[test]
fn get_timeout_races_put() {
    check("bounded::get_timeout_races_put", || {
        let q = Arc::new(BoundedQueue::new(1));
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get_timeout(Duration::from_secs(60)))
        };
        q.put(1);
        assert_eq!(consumer.join().unwrap(), Some(1));
    });
}

/// Two producers in `put_timeout` on a full queue (capacity 1), one `get`:
/// there is room for one item only, so at most one producer gets in and the
/// other's item comes back in `Err`; nothing is lost.
///
/// loom has no clock: the shim in `src/sync.rs` models a timed wait as
/// "unlock, yield, relock, time out". Under loom a yielding thread runs again
/// only after the others have made progress, so a lone `put_timeout` racing
/// a `get` always finds room; with two producers and room for one, one of
/// them really does time out.
#[test]
fn put_timeout_two_producers_one_get() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    check("bounded::put_timeout_two_producers_one_get", move || {
        let q = Arc::new(BoundedQueue::new(1));
        q.put(0);
        let producers: Vec<_> = [1, 2]
            .into_iter()
            .map(|item| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.put_timeout(item, Duration::from_secs(60)))
            })
            .collect();
        assert_eq!(q.get(), 0);
        let results: Vec<Result<(), u32>> =
            producers.into_iter().map(|p| p.join().unwrap()).collect();
        let handed_back: Vec<u32> = results.iter().filter_map(|r| r.err()).collect();
        let inside: Vec<u32> = std::iter::from_fn(|| q.try_get()).collect();
        let mut all: Vec<u32> = handed_back.iter().chain(&inside).copied().collect();
        all.sort_unstable();
        assert_eq!(all, [1, 2], "each item is inside or handed back, once");
        seen.saw(match inside.len() {
            1 => "one put, one handed back",
            0 => "both handed back",
            _ => unreachable!("capacity 1"),
        });
    });
    outcomes.assert_exactly(&["one put, one handed back", "both handed back"]);
}
