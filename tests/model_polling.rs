#![cfg(not(loom))]
//! Model test for `PollingQueue` (step 1): proptest runs random sequences of
//! operations on the real queue and on a `VecDeque`, and checks that every
//! answer matches; after every operation it also compares `len` and
//! `is_empty`. The polling queue never blocks, so every operation runs.

use std::collections::VecDeque;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use queuelab::{PollingQueue, Queue};

/// One step of a test case. The runner numbers the items 0, 1, 2... so a
/// wrong order shows up as a wrong number.
#[derive(Debug, Clone)]
enum Op {
    Put,
    TryGet,
    /// The `Queue` trait's `push` and `try_pop`.
    Push,
    TryPop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Put),
        Just(Op::TryGet),
        Just(Op::Push),
        Just(Op::TryPop),
    ]
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let q = PollingQueue::new();
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
            Op::TryGet => prop_assert_eq!(q.try_get(), model.pop_front()),
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
            "proptest-regressions/model_polling.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn polling_queue_matches_the_model(ops in prop::collection::vec(op(), 0..200)) {
        run(&ops)?;
    }
}
