#![cfg(loom)]
//! Loom models of step 5, `queue::fast::ClosableQueue`: step 4's models
//! (`tests/loom_closable/cases.rs`), run again because step 5 changed how
//! threads wait, plus one of its own below:
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

/// Wraps the shared models where the bound is the point: the drivers of the
/// steps that have a bound keep them; step 7's driver
/// (`tests/loom_list.rs`) defines its own, which leaves them out.
macro_rules! bounded_cases {
    ($($case:item)*) => { $($case)* };
}

use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use loom_common::check;
use queuelab::queue::fast::ClosableQueue;

/// Step 4's models (`tests/loom_closable/cases.rs`), run on step 5.
#[path = "loom_closable"]
mod step5 {
    use queuelab::queue::fast::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    const STEP: &str = "step5";
    #[allow(clippy::duplicate_mod)] // tests/loom_closable.rs loads the same file, on purpose
    mod cases;
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
