#![cfg(not(loom))]
//! Model test for every closable queue, step 4 (`queue::closable`), step 5
//! (`queue::fast`), step 6 (`queue::ring`), step 7 (`queue::list`) and the
//! crate root's
//! `ClosableQueue`, made bounded and unbounded: proptest runs random
//! sequences of operations on the real queue and on a model, a `VecDeque`
//! plus a `closed` flag, an `unfinished` counter and a `taken` counter
//! (items a `get` took that `task_done` may still mark), and checks that
//! every answer matches. After every
//! operation it also compares the observers: `len`, `is_empty`, `is_closed`,
//! `unfinished_tasks` and `capacity`.
//!
//! Only one thread runs, so operations that would block (`put` on a full
//! open queue, `get` on an empty open queue, `join` with unfinished tasks)
//! are skipped; timed operations use `Duration::ZERO`.

use std::collections::VecDeque;

use proptest::prelude::*;
use queuelab::TaskDoneError;

/// Step 4: `queue::closable::ClosableQueue`.
#[path = "model_closable"]
mod step4 {
    use queuelab::queue::closable::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    mod cases;
}

/// Step 5: `queue::fast::ClosableQueue`.
#[path = "model_closable"]
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
#[path = "model_closable"]
mod step6 {
    use queuelab::queue::ring::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::bounded(1 << 16)
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// Step 7: `queue::list::ClosableQueue`. It is unbounded only: where the
/// test asks for a bounded queue, an unbounded one stands in (and the model
/// follows the queue's own `capacity()`).
#[path = "model_closable"]
mod step7 {
    use queuelab::queue::list::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
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
#[path = "model_closable"]
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
#[path = "model_closable"]
mod root_unbounded {
    use queuelab::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    #[allow(clippy::duplicate_mod)] // step4 loads the same file, on purpose
    mod cases;
}

/// One step of a test case. Items carry no value here: the runner numbers
/// them 0, 1, 2... so that a wrong order shows up as a wrong number.
#[derive(Debug, Clone)]
enum Op {
    Put,
    TryPut,
    PutTimeoutZero,
    Get,
    TryGet,
    GetTimeoutZero,
    /// One item through `iter()`, then drop the iterator (marks it done).
    IterNext,
    /// The same, with a `task_done` call while the iterator holds the item:
    /// it may only spend the mark of an item a `get` took.
    IterNextTaskDone,
    /// The `Queue` trait's `push` and `try_pop`.
    Push,
    TryPop,
    TaskDone,
    Join,
    Close,
    CloseNow,
}

fn op() -> impl Strategy<Value = Op> {
    // Closing is rare, so that most cases do a while of work first.
    prop_oneof![
        4 => Just(Op::Put),
        3 => Just(Op::TryPut),
        3 => Just(Op::PutTimeoutZero),
        3 => Just(Op::Get),
        3 => Just(Op::TryGet),
        3 => Just(Op::GetTimeoutZero),
        2 => Just(Op::IterNext),
        2 => Just(Op::IterNextTaskDone),
        2 => Just(Op::Push),
        2 => Just(Op::TryPop),
        4 => Just(Op::TaskDone),
        1 => Just(Op::Join),
        1 => Just(Op::Close),
        1 => Just(Op::CloseNow),
    ]
}

/// What the queue should do, written as plainly as possible.
struct Model {
    items: VecDeque<u32>,
    capacity: Option<usize>,
    closed: bool,
    unfinished: usize,
    taken: usize,
}

impl Model {
    fn is_full(&self) -> bool {
        self.capacity.is_some_and(|cap| self.items.len() >= cap)
    }

    fn push(&mut self, item: u32) {
        self.items.push_back(item);
        self.unfinished += 1;
    }

    /// What a `get` takes: the front item, counted for `task_done`.
    fn take(&mut self) -> Option<u32> {
        let item = self.items.pop_front()?;
        self.taken += 1;
        Some(item)
    }

    /// What `task_done` answers, and its effect.
    fn task_done(&mut self) -> Result<(), TaskDoneError> {
        if self.taken == 0 {
            return Err(TaskDoneError);
        }
        self.taken -= 1;
        self.unfinished -= 1;
        Ok(())
    }
}
