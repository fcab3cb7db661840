#![cfg(not(loom))]
//! Model test for `BlockingQueue` (step 2): proptest runs random sequences
//! of operations on the real queue and on a `VecDeque`, and checks that
//! every answer matches; after every operation it also compares `len` and
//! `is_empty`.
//!
//! Only one thread runs, so `get` on an empty queue (which would block for
//! ever) is skipped, and `get_timeout` uses `Duration::ZERO`.

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use queuelab::{BlockingQueue, Queue};

/// One step of a test case. The runner numbers the items 0, 1, 2... so a
/// wrong order shows up as a wrong number.
#[derive(Debug, Clone)]
enum Op {
    Put,
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
        Just(Op::Get),
        Just(Op::TryGet),
        Just(Op::GetTimeoutZero),
        Just(Op::Push),
        Just(Op::Pop),
        Just(Op::TryPop),
    ]
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let q = BlockingQueue::new();
    let mut model = VecDeque::new();
    for (item, op) in (0u32..).zip(ops) {
        match op {
            Op::Put => {
                q.put(item);
                model.push_back(item);
            }
            Op::Push => {
                prop_assert_eq!(Queue::push(&q, item), Ok(()));
                model.push_back(item);
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
    }
    Ok(())
}

proptest! {
    // A failing case is saved here (and replayed first on every later run);
    // proptest's default location does not work for files under `tests/`.
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/model_blocking.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn blocking_queue_matches_the_model(ops in prop::collection::vec(op(), 0..200)) {
        run(&ops)?;
    }
}
