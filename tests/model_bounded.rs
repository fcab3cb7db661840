#![cfg(not(loom))]
//! Model test for `BoundedQueue` (step 3): proptest runs random sequences of
//! operations on the real queue and on a `VecDeque` with a capacity, and
//! checks that every answer matches; after every operation it also compares
//! `len`, `is_empty` and `capacity`.
//!
//! Only one thread runs, so operations that would block for ever (`put` on a
//! full queue, `get` on an empty one) are skipped, and the timed ones use
//! `Duration::ZERO`.

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use queuelab::{BoundedQueue, Queue};

/// One step of a test case. The runner numbers the items 0, 1, 2... so a
/// wrong order shows up as a wrong number.
#[derive(Debug, Clone)]
enum Op {
    Put,
    TryPut,
    PutTimeoutZero,
    Get,
    TryGet,
    GetTimeoutZero,
    /// The `Queue` trait's `push`, `pop` and `try_pop`.
    Push,
    Pop,
    TryPop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Put),
        Just(Op::TryPut),
        Just(Op::PutTimeoutZero),
        Just(Op::Get),
        Just(Op::TryGet),
        Just(Op::GetTimeoutZero),
        Just(Op::Push),
        Just(Op::Pop),
        Just(Op::TryPop),
    ]
}

fn run(capacity: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let q = BoundedQueue::new(capacity);
    let mut model = VecDeque::new();
    for (item, op) in (0u32..).zip(ops) {
        let full = model.len() >= capacity;
        match op {
            Op::Put => {
                if !full {
                    q.put(item);
                    model.push_back(item);
                } // else: it would block
            }
            Op::Push => {
                if !full {
                    prop_assert_eq!(Queue::push(&q, item), Ok(()));
                    model.push_back(item);
                } // else: it would block
            }
            Op::TryPut | Op::PutTimeoutZero => {
                let got = match op {
                    Op::TryPut => q.try_put(item),
                    _ => q.put_timeout(item, Duration::ZERO),
                };
                if full {
                    prop_assert_eq!(got, Err(item)); // handed back
                } else {
                    prop_assert_eq!(got, Ok(()));
                    model.push_back(item);
                }
            }
            Op::Get => {
                if let Some(want) = model.pop_front() {
                    prop_assert_eq!(q.get(), want);
                } // else: it would block
            }
            Op::Pop => {
                if let Some(want) = model.pop_front() {
                    prop_assert_eq!(Queue::pop(&q), Some(want));
                } // else: it would block
            }
            Op::TryGet => prop_assert_eq!(q.try_get(), model.pop_front()),
            Op::GetTimeoutZero => {
                prop_assert_eq!(q.get_timeout(Duration::ZERO), model.pop_front());
            }
            Op::TryPop => prop_assert_eq!(Queue::try_pop(&q), model.pop_front()),
        }
        prop_assert_eq!(q.len(), model.len(), "len after {:?}", op);
        prop_assert_eq!(q.is_empty(), model.is_empty());
        prop_assert_eq!(Queue::len(&q), model.len());
        prop_assert_eq!(q.capacity(), capacity);
    }
    Ok(())
}

proptest! {
    // A failing case is saved here (and replayed first on every later run);
    // proptest's default location does not work for files under `tests/`.
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/model_bounded.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn bounded_queue_matches_the_model(
        capacity in 1usize..=8,
        ops in prop::collection::vec(op(), 0..200),
    ) {
        run(capacity, &ops)?;
    }
}
