#![cfg(loom)]
//! Loom models of step 2, `BlockingQueue`: every interleaving of a few
//! threads (within `LOOM_MAX_PREEMPTIONS`) ends with every item taken exactly
//! once and no thread left asleep.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_blocking`

mod loom_common;

use std::sync::Arc;
use std::time::Duration;

use loom::thread;
use loom_common::{Outcomes, check};
use queuelab::BlockingQueue;

// ANCHOR: put_get_handoff
/// A consumer that may fall asleep before the item is there is woken by the
/// `put` and gets it.
#[test]
fn put_get_handoff() {
    check("blocking::put_get_handoff", || {
        let q = Arc::new(BlockingQueue::new());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get())
        };
        q.put(1);
        assert_eq!(consumer.join().unwrap(), 1);
        assert_eq!(q.try_get(), None);
    });
}
// ANCHOR_END: put_get_handoff

// ANCHOR: two_blocked_consumers_one_producer
/// Two consumers asleep on an empty queue, one producer with two items:
/// each `notify_one` wakes a consumer, and neither is left asleep.
#[test]
fn two_blocked_consumers_one_producer() {
    check("blocking::two_blocked_consumers_one_producer", || {
        let q = Arc::new(BlockingQueue::new());
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
// ANCHOR_END: two_blocked_consumers_one_producer

/// `get_timeout` with a long limit racing a `put`: it gets the item in every
/// interleaving, because after a wait it re-checks the queue instead of
/// trusting the time-out. (loom has no clock: the shim in `src/sync.rs`
/// models every timed wait as one that runs out.)
#[test]
fn get_timeout_races_put() {
    check("blocking::get_timeout_races_put", || {
        let q = Arc::new(BlockingQueue::new());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get_timeout(Duration::from_secs(60)))
        };
        q.put(1);
        assert_eq!(consumer.join().unwrap(), Some(1));
    });
}

/// Two consumers in `get_timeout` and one item: at most one gets it, the
/// other gives up, and an item nobody got is still inside; never lost, never
/// taken twice.
///
/// loom has no clock: the shim in `src/sync.rs` models a timed wait as
/// "unlock, yield, relock, time out". Under loom a yielding thread runs again
/// only after the others have made progress, so a lone `get_timeout` racing a
/// `put` always finds the item; with two consumers and one item, one of them
/// really does time out with nothing to take.
#[test]
fn get_timeout_two_consumers_one_item() {
    let outcomes = Outcomes::default();
    let seen = outcomes.clone();
    check("blocking::get_timeout_two_consumers_one_item", move || {
        let q = Arc::new(BlockingQueue::new());
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.get_timeout(Duration::from_secs(60)))
            })
            .collect();
        q.put(1);
        let got: Vec<Option<u32>> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        let left = q.try_get();
        let mut all: Vec<u32> = got.iter().flatten().copied().chain(left).collect();
        all.sort_unstable();
        assert_eq!(
            all,
            [1],
            "the item is taken exactly once or is still inside"
        );
        seen.saw(match (got.iter().flatten().count(), left) {
            (1, None) => "one got it, the other timed out",
            (0, Some(_)) => "both timed out, item still inside",
            _ => unreachable!(),
        });
    });
    outcomes.assert_exactly(&[
        "one got it, the other timed out",
        "both timed out, item still inside",
    ]);
}
