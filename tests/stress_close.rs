#![cfg(not(loom))]
//! Conservation while `close` races the producers, for every closable
//! queue: step 4 (`queue::closable`), step 5 (`queue::fast`), step 6
//! (`queue::ring`), step 7 (`queue::list`, unbounded only) and the crate
//! root's `ClosableQueue`, made bounded and unbounded.
//!
//! M producers each try to put all of their items; N consumers take items
//! with `for item in &queue` until it is closed and drained; at some point
//! the queue is closed. Afterwards every item must be in exactly one place:
//! received by a consumer, handed back to its producer in `Err(Closed(item))`,
//! or handed back by `close_now()`. And since closing is for good, each
//! producer's refused items must be exactly its last ones.
//!
//! The runner and the tests are written once, in `stress_close/cases.rs`,
//! and run as `step4::cases::*`, `step5::cases::*`, `step6::cases::*`,
//! `step7::cases::*`, `root_bounded::cases::*` and `root_unbounded::cases::*`.
//!
//! Size: at least 1,000,000 items per queue in release builds
//! (`cargo test --release --test 'stress_*'`), 20,000 in debug builds.

mod common;

/// Wraps the shared cases where the bound is the point: the drivers of the
/// steps that have a bound keep them; step 7's driver defines its own, which
/// leaves them out.
macro_rules! bounded_cases {
    ($($case:item)*) => { $($case)* };
}

/// Step 4: `queue::closable::ClosableQueue`.
#[path = "stress_close"]
mod step4 {
    use queuelab::queue::closable::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    mod cases;
}

/// Step 5: `queue::fast::ClosableQueue`.
#[path = "stress_close"]
mod step5 {
    use queuelab::queue::fast::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// Step 6: `queue::ring::ClosableQueue`. It is bounded only: where a case
/// asks for an unbounded queue, a ring larger than any case fills stands in.
#[path = "stress_close"]
mod step6 {
    use queuelab::queue::ring::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::bounded(1 << 16)
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// Step 7: `queue::list::ClosableQueue`. It is unbounded only: the cases
/// of a bounded queue are left out (`bounded_cases!`).
#[path = "stress_close"]
mod step7 {
    use queuelab::queue::list::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    macro_rules! bounded_cases {
        ($($case:item)*) => {};
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// The crate root's `ClosableQueue` made with `bounded`, which runs on step
/// 6: where a case asks for an unbounded queue, a ring larger than any case
/// fills stands in, as for step 6.
#[path = "stress_close"]
mod root_bounded {
    use queuelab::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::bounded(1 << 16)
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// The crate root's `ClosableQueue` made with `unbounded`, which runs on
/// step 5 (its cases that ask for a bounded queue run on step 6).
#[path = "stress_close"]
mod root_unbounded {
    use queuelab::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// An item: (producer, sequence number).
type Item = (usize, u64);

/// Items per queue, spread over all the shapes and closings below.
const ITEMS_PER_QUEUE: u64 = if cfg!(debug_assertions) {
    20_000
} else {
    1_000_000
};

/// (producers, consumers); most have more threads than the 2 cores.
const SHAPES: &[(usize, usize)] = &[(1, 1), (1, 8), (8, 1), (2, 2), (3, 5), (8, 8)];

/// When and how the queue is closed.
#[derive(Debug, Clone, Copy)]
enum Closing {
    /// The main thread calls `close()` as soon as the producers are started.
    AtStart,
    /// The consumer that receives the item numbered half the total calls
    /// `close()`; the others drain what is left.
    Halfway,
    /// The same, but with `close_now()`, which hands back what is inside.
    HalfwayWithCloseNow,
}

const CLOSINGS: &[Closing] = &[
    Closing::AtStart,
    Closing::Halfway,
    Closing::HalfwayWithCloseNow,
];

/// Where the items of one run ended up.
#[derive(Debug, Default)]
struct Count {
    received: u64,
    refused: u64,
    close_now: u64,
}

/// What one consumer saw: per producer, the sequence numbers it received,
/// and those `close_now` handed back if this consumer called it.
struct Consumed {
    received: Vec<Vec<u64>>,
    close_now: Vec<Vec<u64>>,
}
