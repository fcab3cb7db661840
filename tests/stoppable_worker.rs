#![cfg(not(loom))]
//! Stopping a pool of `StoppableWorker`s. After a worker panics, the items
//! behind the one it died on stay unfinished, so Effective Python's stop
//! order (close the input, `join` it, join the threads) waits for ever once
//! no worker is left. `StoppableWorker::stop_all` joins the threads first
//! and hands back what is left: it returns, with the panic, and the input's
//! `join` returns after it.
//!
//! Every test runs inside `common::within_deadline`: a hang fails the test
//! after two minutes instead of blocking CI.

mod common;

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;

use common::{spawn_until_blocked, within_deadline};
use queuelab::{ClosableQueue, StoppableWorker};

const ITEMS: u32 = if cfg!(debug_assertions) { 300 } else { 3000 };

fn queues<T, U>() -> (Arc<ClosableQueue<T>>, Arc<ClosableQueue<U>>) {
    (
        Arc::new(ClosableQueue::unbounded()),
        Arc::new(ClosableQueue::unbounded()),
    )
}

// ANCHOR: sole_worker_panics
fn fragile(n: u32) -> u32 {
    if n == 2 {
        panic!("cannot process item {n}");
    }
    n
}

#[test]
fn a_sole_worker_that_panics_leaves_join_waiting_until_stop_all() {
    within_deadline(|| {
        let (input, output) = queues();
        let worker = StoppableWorker::spawn(Arc::clone(&input), output, fragile);
        for n in 0..5 {
            input.put(n).unwrap();
        }
        input.close();
        thread::scope(|s| {
            // Effective Python's order: close, then wait for every item...
            let waiter = spawn_until_blocked(s, || input.join());
            while !worker.is_finished() {
                thread::yield_now(); // ...while the only worker dies on item 2
            }
            waiter.wait_until_blocked();
            println!(
                "worker finished: {}; input: {} item(s) inside, {} unfinished task(s); \
                 input.join(): {}",
                worker.is_finished(),
                input.len(),
                input.unfinished_tasks(),
                if waiter.is_finished() {
                    "returned"
                } else {
                    "still waiting"
                },
            );
            assert_eq!(input.unfinished_tasks(), 2); // items 3 and 4: nobody left to take them
            assert!(!waiter.is_finished());

            // The fix: join the workers first, then take back what is left.
            let err = StoppableWorker::stop_all(&input, vec![worker]).unwrap_err();
            println!("StoppableWorker::stop_all: Err: {err}");
            println!("handed back: {:?}; processed: {}", err.left, err.processed);
            assert_eq!(err.left, [3, 4]);
            assert_eq!(
                err.panic_messages().collect::<Vec<_>>(),
                ["cannot process item 2"]
            );
            waiter.join(); // the waiting `input.join()` has returned
            println!("input.join(): returned");
        });
    });
}
// ANCHOR_END: sole_worker_panics

/// An item type without `Debug`: the error's `Debug` must not need it.
struct Job(u32);

#[test]
fn stop_all_reports_the_panic_and_hands_back_every_item_left() {
    let (err, input) = within_deadline(|| {
        let (input, output) = queues();
        let worker = StoppableWorker::spawn(Arc::clone(&input), output, |job: Job| {
            if job.0 == 7 {
                panic::panic_any(job.0); // a payload that is not a string
            }
            job.0
        });
        for n in 0..10 {
            input.put(Job(n)).unwrap();
        }
        let err = StoppableWorker::stop_all(&input, vec![worker]).unwrap_err();
        input.join(); // returns: nothing is unfinished any more
        (err, input)
    });
    assert_eq!(err.left.iter().map(|job| job.0).collect::<Vec<_>>(), [8, 9]);
    assert_eq!(err.processed, 7);
    assert!(err.undelivered.is_empty());
    assert_eq!(input.unfinished_tasks(), 0);
    assert!(input.is_empty());
    assert_eq!(
        err.to_string(),
        "1 of 1 workers panicked (first: \"(a panic whose payload is not a string)\"); \
         2 items were left in the input queue"
    );
    assert_eq!(
        format!("{err:?}"),
        "StopError { workers: 1, processed: 7, \
         panics: [\"(a panic whose payload is not a string)\"], \
         undelivered: 0 results, left: 2 items }"
    );
    // The payload itself is kept, for `resume_unwind` or a `downcast`.
    assert_eq!(err.panics[0].downcast_ref::<u32>(), Some(&7));
}

#[test]
fn stop_all_names_every_panic_when_several_workers_die() {
    let err = within_deadline(|| {
        let (input, output) = queues();
        let workers = (0..3)
            .map(|_| {
                StoppableWorker::spawn(Arc::clone(&input), Arc::clone(&output), |n: u32| {
                    if n == 3 || n == 7 {
                        panic!("cannot process item {n}");
                    }
                    n
                })
            })
            .collect();
        for n in 0..ITEMS {
            input.put(n).unwrap();
        }
        let err = StoppableWorker::stop_all(&input, workers).unwrap_err();
        input.join();
        output.close();
        assert_eq!(output.iter().count() as u64, err.processed);
        err
    });
    // Each bad item kills the worker that took it; the third worker drains
    // the rest, so nothing is left.
    let mut messages: Vec<_> = err.panic_messages().collect();
    messages.sort_unstable();
    assert_eq!(messages, ["cannot process item 3", "cannot process item 7"]);
    assert_eq!(err.processed, u64::from(ITEMS) - 2);
    assert!(err.left.is_empty());
    assert!(
        err.to_string()
            .starts_with("2 of 3 workers panicked (first: \"cannot process item "),
        "{err}"
    );
}

#[test]
fn stop_all_returns_the_count_when_every_worker_ends_cleanly() {
    within_deadline(|| {
        let (input, output) = queues();
        let workers = (0..3)
            .map(|_| {
                StoppableWorker::spawn(Arc::clone(&input), Arc::clone(&output), |n: u32| n * 2)
            })
            .collect();
        for n in 0..ITEMS {
            input.put(n).unwrap();
        }
        assert_eq!(
            StoppableWorker::stop_all(&input, workers).unwrap(),
            u64::from(ITEMS)
        );
        assert!(input.is_closed());
        input.join();
        output.close();
        let mut out: Vec<u32> = output.iter().collect();
        out.sort_unstable();
        assert_eq!(out, (0..ITEMS).map(|n| n * 2).collect::<Vec<_>>());
    });
}

#[test]
fn stop_all_hands_back_a_result_the_closed_output_refused() {
    within_deadline(|| {
        let (input, output) = queues();
        output.close(); // nobody takes results any more
        let worker = StoppableWorker::spawn(Arc::clone(&input), output, |s: &str| s.to_uppercase());
        input.put("first").unwrap();
        input.put("second").unwrap();
        let err = StoppableWorker::stop_all(&input, vec![worker]).unwrap_err();
        assert_eq!(err.undelivered, ["FIRST"]);
        assert_eq!(err.left, ["second"]);
        assert!(err.panics.is_empty());
        assert_eq!(err.processed, 0);
        assert_eq!(
            err.to_string(),
            "1 result could not be delivered: the output queue was closed; \
             1 item was left in the input queue"
        );
        input.join();
    });
}

#[test]
fn stop_all_refuses_a_worker_that_reads_another_queue() {
    within_deadline(|| {
        let (input, output) = queues::<u32, u32>();
        let other = Arc::new(ClosableQueue::unbounded());
        let worker = StoppableWorker::spawn(Arc::clone(&other), output, |n| n);
        let stop = AssertUnwindSafe(|| StoppableWorker::stop_all(&input, vec![worker]));
        let payload = panic::catch_unwind(stop).expect_err("a worker of another queue is refused");
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"stop_all: a worker reads another queue than `input`")
        );
        assert!(
            !input.is_closed(),
            "nothing is closed when the call is refused"
        );
        other.close(); // ends the detached worker
    });
}
