#![cfg(not(loom))]
//! The public API of `ClosableQueue`, one behaviour per test: every error
//! path and every blocking path of DESIGN.md's contract.
//!
//! The tests are written once, in `closable_api/cases.rs`, and run on every
//! closable queue: `step4::cases::*` on `queue::closable::ClosableQueue`
//! (step 4), `step5::cases::*` on `queue::fast::ClosableQueue` (step 5),
//! `step6::cases::*` on `queue::ring::ClosableQueue` (step 6),
//! `step7::cases::*` on `queue::list::ClosableQueue` (step 7, without the
//! cases where the bound is the point: `bounded_cases!`), and
//! `root_bounded::cases::*` and `root_unbounded::cases::*` on the crate
//! root's `ClosableQueue`, made bounded and unbounded. (`redis_contract.rs`
//! runs them on `redis::RedisQueue` too, without the cases inside
//! `in_process_cases!`.) What does not depend
//! on the queue (error messages, auto traits of every queue, which step the
//! crate root picks) is checked once, in this file.
//!
//! Tests of a blocking path start the thread that must block with
//! `common::spawn_until_blocked`, which returns once that thread sleeps inside
//! the queue. Nothing here sleeps for a while and hopes.

mod common;

use std::cell::Cell;
use std::panic::{self, RefUnwindSafe, UnwindSafe};
use std::time::Duration;

use queuelab::queue::{closable, fast, list, ring};
use queuelab::{
    BlockingQueue, BoundedQueue, Closed, GetTimeoutError, PollingQueue, PutTimeoutError, Queue,
    TaskDoneError, TryGetError, TryPutError,
};

use common::{assert_zero_capacity_panic, panic_message};

/// Wraps the shared cases where the bound is the point: the drivers of the
/// steps that have a bound keep them; step 7's driver defines its own, which
/// leaves them out.
macro_rules! bounded_cases {
    ($($case:item)*) => { $($case)* };
}

/// Wraps the shared cases whose contract holds for the in-process queues
/// only (each group says why); the driver of `RedisQueue` in
/// `redis_contract.rs` defines its own, which leaves them out.
macro_rules! in_process_cases {
    ($($case:item)*) => { $($case)* };
}

/// Step 4: `queue::closable::ClosableQueue`.
#[path = "closable_api"]
mod step4 {
    use queuelab::queue::closable::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    mod cases;
}

/// Step 5: `queue::fast::ClosableQueue`.
#[path = "closable_api"]
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
#[path = "closable_api"]
mod step6 {
    use queuelab::queue::ring::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::bounded(1 << 16)
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// Step 7: `queue::list::ClosableQueue`. It is unbounded only: the cases
/// where the bound is the point are left out (`bounded_cases!`), and where a
/// case asks for a small bounded queue only to have a queue, an unbounded one
/// stands in.
#[path = "closable_api"]
mod step7 {
    use queuelab::queue::list::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    macro_rules! bounded_cases {
        ($($case:item)*) => {};
    }
    /// `ClosableQueue::bounded(capacity)` for step 7: an unbounded queue.
    trait StandIn {
        fn bounded(capacity: usize) -> Self;
    }
    impl<T> StandIn for ClosableQueue<T> {
        fn bounded(_capacity: usize) -> Self {
            ClosableQueue::unbounded()
        }
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// The crate root's `ClosableQueue` made with `bounded`, which runs on step
/// 6: where a case asks for an unbounded queue, a ring larger than any case
/// fills stands in, as for step 6.
#[path = "closable_api"]
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
#[path = "closable_api"]
mod root_unbounded {
    use queuelab::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

#[test]
fn capacity_is_none_when_unbounded() {
    assert_eq!(closable::ClosableQueue::<u8>::unbounded().capacity(), None);
    assert_eq!(fast::ClosableQueue::<u8>::unbounded().capacity(), None);
    assert_eq!(list::ClosableQueue::<u8>::unbounded().capacity(), None);
    assert_eq!(queuelab::ClosableQueue::<u8>::unbounded().capacity(), None);
}

/// Step 7 has no bound, so the bound-only cases of `cases.rs` do not run on
/// it. Instead: across several blocks, no put is ever refused or times out,
/// and `len` and `Debug` count the items, not the positions (each block has
/// one position no item takes).
#[test]
fn the_list_takes_every_put_and_counts_items_across_blocks() {
    let q = list::ClosableQueue::unbounded();
    for n in 0..100 {
        match n % 3 {
            0 => q.try_put(n).unwrap(),
            1 => q.put_timeout(n, Duration::ZERO).unwrap(),
            _ => q.put(n).unwrap(),
        }
        assert_eq!(q.len(), n + 1);
    }
    assert_eq!(
        format!("{q:?}"),
        "ClosableQueue { len: 100, capacity: None, closed: false, unfinished: 100, .. }"
    );
    for n in 0..100 {
        assert_eq!(q.try_get(), Ok(n));
        assert_eq!(q.len(), 99 - n);
    }
    assert_eq!(q.unfinished_tasks(), 100);
}

/// `usize::MAX` slots cannot be counted in positions: a clear panic, not an
/// arithmetic overflow.
#[test]
fn the_ring_refuses_usize_max_with_its_own_message() {
    let made = panic::catch_unwind(|| ring::ClosableQueue::<u8>::bounded(usize::MAX));
    let Err(payload) = made else {
        panic!("bounded(usize::MAX) made a ring");
    };
    let message = panic_message(&*payload);
    assert!(
        message.contains("capacity too large for the ring's positions"),
        "{message}"
    );
}

/// The crate root's `bounded` makes step 6's ring, not step 5: a capacity
/// too large for the ring's positions panics with the ring's message, where
/// step 5, which allocates as items come, accepts it.
#[test]
fn the_root_queue_made_bounded_runs_on_the_ring() {
    let too_large = usize::MAX / 2;
    assert_eq!(
        fast::ClosableQueue::<u8>::bounded(too_large).capacity(),
        Some(too_large)
    );
    let made = panic::catch_unwind(|| queuelab::ClosableQueue::<u8>::bounded(too_large));
    let Err(payload) = made else {
        panic!("the root queue accepted a capacity the ring cannot hold: not the ring");
    };
    let message = panic_message(&*payload);
    assert!(
        message.contains("capacity too large for the ring's positions"),
        "{message}"
    );
    assert_eq!(
        queuelab::ClosableQueue::<u8>::bounded(3).capacity(),
        Some(3)
    );
}

#[test]
fn bounded_queue_of_zero_capacity_panics_with_a_message_that_says_why() {
    assert_zero_capacity_panic(panic::catch_unwind(|| BoundedQueue::<u8>::new(0)));
}

// ---------------------------------------------------------------------------
// Errors: Display
// ---------------------------------------------------------------------------

#[test]
fn every_error_displays_its_reason() {
    assert_eq!(Closed(()).to_string(), "queue is closed");
    assert_eq!(TryPutError::Full(()).to_string(), "queue is full");
    assert_eq!(TryPutError::Closed(()).to_string(), "queue is closed");
    assert_eq!(
        PutTimeoutError::Timeout(()).to_string(),
        "timed out waiting for room in the queue"
    );
    assert_eq!(PutTimeoutError::Closed(()).to_string(), "queue is closed");
    assert_eq!(TryGetError::Empty.to_string(), "queue is empty");
    assert_eq!(
        TryGetError::Closed.to_string(),
        "queue is closed and drained"
    );
    assert_eq!(
        GetTimeoutError::Timeout.to_string(),
        "timed out waiting for an item"
    );
    assert_eq!(
        GetTimeoutError::Closed.to_string(),
        "queue is closed and drained"
    );
    assert_eq!(
        TaskDoneError.to_string(),
        "task_done() called with no item left to mark: every item taken with get() \
         was marked done already (an iterator marks its own items)"
    );
}

// ---------------------------------------------------------------------------
// Auto traits, checked at compile time
// ---------------------------------------------------------------------------

fn is_send_sync<T: Send + Sync>() {}
fn is_unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}
fn is_queue<Q: Queue<T>, T>() {}

#[test]
fn every_queue_is_send_and_sync_when_its_items_are_send() {
    // `Cell` is `Send` but not `Sync`: a queue hands items from one thread to
    // another, it never lets two threads touch the same item, so `Send` is
    // all it needs from `T`.
    is_send_sync::<PollingQueue<Cell<u8>>>();
    is_send_sync::<BlockingQueue<Cell<u8>>>();
    is_send_sync::<BoundedQueue<Cell<u8>>>();
    is_send_sync::<closable::ClosableQueue<Cell<u8>>>();
    is_send_sync::<fast::ClosableQueue<Cell<u8>>>();
    is_send_sync::<ring::ClosableQueue<Cell<u8>>>();
    is_send_sync::<list::ClosableQueue<Cell<u8>>>();
    is_send_sync::<queuelab::ClosableQueue<Cell<u8>>>();
    is_queue::<PollingQueue<Cell<u8>>, Cell<u8>>();
    is_queue::<BlockingQueue<Cell<u8>>, Cell<u8>>();
    is_queue::<BoundedQueue<Cell<u8>>, Cell<u8>>();
    is_queue::<closable::ClosableQueue<Cell<u8>>, Cell<u8>>();
    is_queue::<fast::ClosableQueue<Cell<u8>>, Cell<u8>>();
    is_queue::<ring::ClosableQueue<Cell<u8>>, Cell<u8>>();
    is_queue::<list::ClosableQueue<Cell<u8>>, Cell<u8>>();
    is_queue::<queuelab::ClosableQueue<Cell<u8>>, Cell<u8>>();
}

#[test]
fn every_queue_is_unwind_safe_whatever_its_items() {
    // `&mut u8` is not `UnwindSafe` and `Cell<u8>` is not `RefUnwindSafe`:
    // the queues promise unwind safety anyway, because no user code runs
    // while their lock is held.
    is_unwind_safe::<PollingQueue<&mut u8>>();
    is_unwind_safe::<BlockingQueue<&mut u8>>();
    is_unwind_safe::<BoundedQueue<&mut u8>>();
    is_unwind_safe::<closable::ClosableQueue<&mut u8>>();
    is_unwind_safe::<fast::ClosableQueue<&mut u8>>();
    is_unwind_safe::<ring::ClosableQueue<&mut u8>>();
    is_unwind_safe::<list::ClosableQueue<&mut u8>>();
    is_unwind_safe::<queuelab::ClosableQueue<&mut u8>>();
    is_unwind_safe::<PollingQueue<Cell<u8>>>();
    is_unwind_safe::<BlockingQueue<Cell<u8>>>();
    is_unwind_safe::<BoundedQueue<Cell<u8>>>();
    is_unwind_safe::<closable::ClosableQueue<Cell<u8>>>();
    is_unwind_safe::<fast::ClosableQueue<Cell<u8>>>();
    is_unwind_safe::<ring::ClosableQueue<Cell<u8>>>();
    is_unwind_safe::<list::ClosableQueue<Cell<u8>>>();
    is_unwind_safe::<queuelab::ClosableQueue<Cell<u8>>>();
}
