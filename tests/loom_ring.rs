#![cfg(loom)]
//! Loom models of step 6, `queue::ring::ClosableQueue`: step 4's models
//! (`tests/loom_closable/cases.rs`, where a small ring stands in for an
//! unbounded queue), plus models of what is new in the ring:
//! - a slot's stamp changes lap when the ring wraps around (capacity 1 and
//!   2); loom checks every access to a slot's item for a data race;
//! - two puts race for the last free slot;
//! - `close` races a put on a full ring, and `close_now` races a put that is
//!   still writing its item;
//! - the iterator's done marks, kept back and added in one go, never make
//!   `join` return early or hang.
//!
//! How far loom gets. The models of this file pass with
//! `LOOM_MAX_PREEMPTIONS=3` in a few seconds. The shared models (`step6::`)
//! pass with bound 2, except two: `empty_two_blocked_consumers_one_producer`
//! took 42 s (849,557 interleavings) and `full_two_blocked_producers_one_consumer`
//! more than 400 s; with bound 1 they take a few seconds, and `.ci/run` runs
//! them there. In both, two threads wait for a third that has claimed a
//! position and not yet published it: a waiting thread yields, after a
//! yield loom may run any thread without spending a preemption, and it
//! explores the two waiters taking turns before the third one runs. Making
//! those waits sleep instead would need the publishing store to be a
//! read-modify-write (measured: 25-30% slower).
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_ring -- --skip step6::` (and see `.ci/run`)

mod loom_common;

/// Wraps the shared models where the bound is the point: the drivers of the
/// steps that have a bound keep them; step 7's driver
/// (`tests/loom_list.rs`) defines its own, which leaves them out.
macro_rules! bounded_cases {
    ($($case:item)*) => { $($case)* };
}

use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use loom_common::{Outcomes, check};
use queuelab::queue::ring::ClosableQueue;
use queuelab::{Closed, TryPutError};

/// Step 4's models (`tests/loom_closable/cases.rs`), run on step 6.
#[path = "loom_closable"]
mod step6 {
    use queuelab::queue::ring::ClosableQueue;
    const STEP: &str = "step6";
    /// Step 6 is bounded only; no model puts more than 4 items.
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::bounded(4)
    }
    #[allow(clippy::duplicate_mod)] // tests/loom_closable.rs loads the same file, on purpose
    mod cases;
}

/// At capacity 1 every put and get wraps around the ring: a producer puts
/// three items through one slot while a consumer takes them, so the slot's
/// stamp goes through three laps. Every item arrives once, in order, and
/// loom finds no race on the slot.
#[test]
fn wrap_around_at_capacity_1() {
    check("ring::wrap_around_at_capacity_1", || {
        let q = Arc::new(ClosableQueue::bounded(1));
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for i in 0..3 {
                    q.put(i).unwrap();
                }
                q.close();
            })
        };
        let got: Vec<i32> = q.iter().collect();
        assert_eq!(got, [0, 1, 2]);
        producer.join().unwrap();
    });
}

/// At capacity 2 the two slots are on different laps half of the time:
/// three items through two slots, with `try_get` and `get` on the consumer
/// side.
#[test]
fn wrap_around_at_capacity_2() {
    check("ring::wrap_around_at_capacity_2", || {
        let q = Arc::new(ClosableQueue::bounded(2));
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for i in 0..3 {
                    q.put(i).unwrap();
                }
            })
        };
        let mut got = Vec::new();
        while got.len() < 3 {
            match q.try_get() {
                Ok(item) => got.push(item),
                Err(_) => got.push(q.get().unwrap()),
            }
        }
        assert_eq!(got, [0, 1, 2]);
        producer.join().unwrap();
    });
}

/// Two puts race for the last free slot of a ring with one item inside:
/// exactly one wins, the other is told `Full` and keeps its item.
#[test]
fn two_producers_race_for_the_last_slot() {
    check("ring::two_producers_race_for_the_last_slot", || {
        let q = Arc::new(ClosableQueue::bounded(2));
        q.put(0).unwrap();
        let producers: Vec<_> = [1, 2]
            .into_iter()
            .map(|item| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.try_put(item))
            })
            .collect();
        let results: Vec<_> = producers.into_iter().map(|p| p.join().unwrap()).collect();
        let refused: Vec<i32> = results
            .into_iter()
            .filter_map(|r| match r {
                Ok(()) => None,
                Err(TryPutError::Full(item)) => Some(item),
                Err(TryPutError::Closed(_)) => panic!("nobody closed the queue"),
            })
            .collect();
        assert_eq!(refused.len(), 1, "exactly one put wins the last slot");
        q.close();
        let inside: Vec<i32> = q.iter().collect();
        assert_eq!(inside.len(), 2);
        assert_eq!(inside[0], 0);
        assert_ne!(inside[1], refused[0]);
    });
}

/// A put waits on a full ring; a get makes room, and then the queue is
/// closed: the put either got in first (its item is still handed out after
/// the close) or wakes to find the queue closed and gets its item back.
/// Never both, never neither.
#[test]
fn close_races_a_put_on_a_full_ring() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    check("ring::close_races_a_put_on_a_full_ring", move || {
        let q = Arc::new(ClosableQueue::bounded(1));
        q.put(0).unwrap();
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put(1))
        };
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get())
        };
        assert_eq!(consumer.join().unwrap(), Some(0));
        q.close();
        let put = producer.join().unwrap();
        let rest: Vec<i32> = q.iter().collect();
        match put {
            Ok(()) => assert_eq!(rest, [1]),
            Err(Closed(item)) => {
                assert_eq!(item, 1);
                assert!(rest.is_empty());
            }
        }
        seen.saw(if put.is_ok() {
            "put landed"
        } else {
            "item handed back"
        });
    });
    outcomes.assert_exactly(&["put landed", "item handed back"]);
}

/// `close_now` runs while a put may be between claiming its slot and
/// publishing its stamp: `close_now` waits for it and hands the item back,
/// or the put finds the queue closed and keeps its item. Never lost, never
/// both.
#[test]
fn close_now_races_a_put_in_flight() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    check("ring::close_now_races_a_put_in_flight", move || {
        let q = Arc::new(ClosableQueue::bounded(2));
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put(7))
        };
        let handed_back = q.close_now();
        let put = producer.join().unwrap();
        let after: Vec<i32> = q.iter().collect();
        assert!(after.is_empty(), "close_now left an item inside");
        match put {
            Ok(()) => assert_eq!(handed_back, [7]),
            Err(Closed(item)) => {
                assert_eq!(item, 7);
                assert!(handed_back.is_empty());
            }
        }
        assert_eq!(q.unfinished_tasks(), 0);
        seen.saw(if put.is_ok() {
            "handed back by close_now"
        } else {
            "refused"
        });
    });
    outcomes.assert_exactly(&["handed back by close_now", "refused"]);
}

/// A worker iterates: its marks stay with it until it must wait or the
/// loop ends. `join` returns only after both items were processed, and it
/// returns even though the worker then sleeps, waiting for a third item
/// that never comes until the queue is closed.
#[test]
fn iterator_marks_and_join() {
    check("ring::iterator_marks_and_join", || {
        let q = Arc::new(ClosableQueue::bounded(2));
        let processed = Arc::new(AtomicUsize::new(0));
        let worker = {
            let (q, processed) = (Arc::clone(&q), Arc::clone(&processed));
            thread::spawn(move || {
                for item in &*q {
                    processed.fetch_add(item, Ordering::SeqCst);
                }
            })
        };
        q.put(1).unwrap();
        q.put(2).unwrap();
        q.join();
        assert_eq!(processed.load(Ordering::SeqCst), 3, "join returned early");
        q.close();
        worker.join().unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
    });
}
