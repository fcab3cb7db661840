#![cfg(not(loom))]
//! Model test for `ClosableQueue` (step 4): proptest runs random sequences
//! of operations on the real queue and on a model, a `VecDeque` plus a
//! `closed` flag and an `unfinished` counter, and checks that every answer
//! matches. After every operation it also compares the observers: `len`,
//! `is_empty`, `is_closed`, `unfinished_tasks` and `capacity`.
//!
//! Only one thread runs, so operations that would block (`put` on a full
//! open queue, `get` on an empty open queue, `join` with unfinished tasks)
//! are skipped; timed operations use `Duration::ZERO`.

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use queuelab::{
    ClosableQueue, Closed, GetTimeoutError, PutTimeoutError, Queue, TaskDoneError, TryGetError,
    TryPutError,
};

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
}

impl Model {
    fn is_full(&self) -> bool {
        self.capacity.is_some_and(|cap| self.items.len() >= cap)
    }

    fn push(&mut self, item: u32) {
        self.items.push_back(item);
        self.unfinished += 1;
    }
}

fn run(capacity: Option<usize>, ops: &[Op]) -> Result<(), TestCaseError> {
    let q = match capacity {
        None => ClosableQueue::unbounded(),
        Some(cap) => ClosableQueue::bounded(cap),
    };
    let mut m = Model {
        items: VecDeque::new(),
        capacity,
        closed: false,
        unfinished: 0,
    };
    for (item, op) in (0u32..).zip(ops) {
        match op {
            Op::Put => {
                if m.closed {
                    prop_assert_eq!(q.put(item), Err(Closed(item)));
                } else if !m.is_full() {
                    prop_assert_eq!(q.put(item), Ok(()));
                    m.push(item);
                } // else: it would block
            }
            Op::TryPut => {
                if m.closed {
                    prop_assert_eq!(q.try_put(item), Err(TryPutError::Closed(item)));
                } else if m.is_full() {
                    prop_assert_eq!(q.try_put(item), Err(TryPutError::Full(item)));
                } else {
                    prop_assert_eq!(q.try_put(item), Ok(()));
                    m.push(item);
                }
            }
            Op::PutTimeoutZero => {
                let got = q.put_timeout(item, Duration::ZERO);
                if m.closed {
                    prop_assert_eq!(got, Err(PutTimeoutError::Closed(item)));
                } else if m.is_full() {
                    prop_assert_eq!(got, Err(PutTimeoutError::Timeout(item)));
                } else {
                    prop_assert_eq!(got, Ok(()));
                    m.push(item);
                }
            }
            Op::Push => {
                if m.closed {
                    prop_assert_eq!(Queue::push(&q, item), Err(item));
                } else if !m.is_full() {
                    prop_assert_eq!(Queue::push(&q, item), Ok(()));
                    m.push(item);
                } // else: it would block
            }
            Op::Get => {
                if !m.items.is_empty() || m.closed {
                    prop_assert_eq!(q.get(), m.items.pop_front());
                } // else: it would block
            }
            Op::TryGet => {
                let want = match m.items.pop_front() {
                    Some(item) => Ok(item),
                    None if m.closed => Err(TryGetError::Closed),
                    None => Err(TryGetError::Empty),
                };
                prop_assert_eq!(q.try_get(), want);
            }
            Op::GetTimeoutZero => {
                let want = match m.items.pop_front() {
                    Some(item) => Ok(item),
                    None if m.closed => Err(GetTimeoutError::Closed),
                    None => Err(GetTimeoutError::Timeout),
                };
                prop_assert_eq!(q.get_timeout(Duration::ZERO), want);
            }
            Op::TryPop => {
                prop_assert_eq!(Queue::try_pop(&q), m.items.pop_front());
            }
            Op::IterNext => {
                if !m.items.is_empty() || m.closed {
                    let want = m.items.pop_front();
                    prop_assert_eq!(q.iter().next(), want);
                    if want.is_some() {
                        // Dropping the iterator marked the item done; if an
                        // early `task_done` already did, there is nothing to mark.
                        m.unfinished = m.unfinished.saturating_sub(1);
                    }
                }
            }
            Op::TaskDone => {
                if m.unfinished == 0 {
                    prop_assert_eq!(q.task_done(), Err(TaskDoneError));
                } else {
                    prop_assert_eq!(q.task_done(), Ok(()));
                    m.unfinished -= 1;
                }
            }
            Op::Join => {
                if m.unfinished == 0 {
                    q.join(); // must return at once
                } // else: it would block
            }
            Op::Close => {
                prop_assert_eq!(q.close(), !m.closed);
                m.closed = true;
            }
            Op::CloseNow => {
                let want: Vec<u32> = m.items.drain(..).collect();
                m.unfinished = m.unfinished.saturating_sub(want.len());
                m.closed = true;
                prop_assert_eq!(q.close_now(), want);
            }
        }
        prop_assert_eq!(q.len(), m.items.len(), "len after {:?}", op);
        prop_assert_eq!(q.is_empty(), m.items.is_empty());
        prop_assert_eq!(Queue::len(&q), m.items.len());
        prop_assert_eq!(q.is_closed(), m.closed);
        prop_assert_eq!(
            q.unfinished_tasks(),
            m.unfinished,
            "unfinished after {:?}",
            op
        );
        prop_assert_eq!(q.capacity(), m.capacity);
    }
    Ok(())
}

proptest! {
    // A failing case is saved here (and replayed first on every later run);
    // proptest's default location does not work for files under `tests/`.
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/model_closable.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn closable_queue_matches_the_model(
        capacity in prop_oneof![Just(None), (1usize..=8).prop_map(Some)],
        ops in prop::collection::vec(op(), 0..200),
    ) {
        run(capacity, &ops)?;
    }
}
