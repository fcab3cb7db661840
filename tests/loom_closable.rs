#![cfg(loom)]
//! Loom models of step 4, `queue::closable::ClosableQueue`: `close` wakes
//! every sleeping producer and consumer, items inside stay gettable,
//! `close_now` never loses an item, and `join` returns only when every item
//! has been marked done. The models are in `tests/loom_closable/cases.rs`;
//! `tests/loom_fast.rs` runs the same ones on step 5.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_closable`

mod loom_common;

/// Wraps the shared models where the bound is the point: the drivers of the
/// steps that have a bound keep them; step 7's driver
/// (`tests/loom_list.rs`) defines its own, which leaves them out.
macro_rules! bounded_cases {
    ($($case:item)*) => { $($case)* };
}

/// Step 4.
#[path = "loom_closable"]
mod step4 {
    use queuelab::queue::closable::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    const STEP: &str = "step4";
    mod cases;
}
