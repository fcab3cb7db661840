#![cfg(loom)]
//! Loom and step 1, `PollingQueue`: the busy-polling consumer that loom rejects.
//!
//! A consumer that polls in a tight loop, with nothing between polls, only
//! makes progress if the scheduler is kind enough to run the producer.
//! loom is not kind: it runs the spinning consumer on and on, and rejects
//! the model once one interleaving exceeds `LOOM_MAX_BRANCHES` steps. The
//! same consumer written with the real `Queue::pop`, which snoozes with
//! crossbeam-utils' `Backoff` between polls (routed to
//! `loom::thread::yield_now` by `src/sync.rs`), lets the producer run and
//! passes.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_polling -- --nocapture`

mod loom_common;

use std::sync::Arc;

use loom::thread;
use loom_common::{TOO_MANY_BRANCHES, check, expect_failure};
use queuelab::{PollingQueue, Queue};

// ANCHOR: busy_poll
/// BROKEN: polls with nothing in between. On a real machine this burns a
/// core until the producer happens to get scheduled; loom gives up with
/// "Model exceeded maximum number of branches".
fn busy_poll<T>(q: &PollingQueue<T>) -> T {
    loop {
        if let Some(item) = q.try_get() {
            return item;
        }
    }
}
// ANCHOR_END: busy_poll

/// Variant 6, broken: loom rejects the busy-polling consumer.
#[test]
fn busy_poll_without_yield_is_rejected() {
    let message = expect_failure("polling::busy_poll_without_yield", || {
        let q = Arc::new(PollingQueue::new());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || busy_poll(&q))
        };
        q.put(1);
        assert_eq!(consumer.join().unwrap(), 1);
    });
    assert!(message.starts_with(TOO_MANY_BRANCHES), "{message}");
}

/// Variant 6, fixed: the same consumer with the real `Queue::pop`, which
/// snoozes with `Backoff` between polls, passes.
#[test]
fn pop_with_backoff_passes() {
    check("polling::pop_with_backoff", || {
        let q = Arc::new(PollingQueue::new());
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put(1))
        };
        assert_eq!(Queue::pop(&*q), Some(1));
        producer.join().unwrap();
    });
}

/// Two items from one producer arrive in order at a polling consumer.
#[test]
fn pop_with_backoff_keeps_fifo_order() {
    check("polling::pop_with_backoff_keeps_fifo_order", || {
        let q = Arc::new(PollingQueue::new());
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                q.put(1);
                q.put(2);
            })
        };
        assert_eq!(Queue::pop(&*q), Some(1));
        assert_eq!(Queue::pop(&*q), Some(2));
        producer.join().unwrap();
        assert!(q.is_empty());
    });
}
