//! The runner and the test of `model_closable.rs`, written once for both
//! closable queues: `ClosableQueue` is whichever step the parent module
//! imports. Both steps save failing cases to the same file.

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use queuelab::{Closed, GetTimeoutError, PutTimeoutError, Queue, TryGetError, TryPutError};

use super::*;
use crate::{Model, Op, op};

fn run(capacity: Option<usize>, ops: &[Op]) -> Result<(), TestCaseError> {
    let q = match capacity {
        None => unbounded(),
        Some(cap) => ClosableQueue::bounded(cap),
    };
    // The queue's own bound: step 6 stands a large ring in for an unbounded
    // queue, and step 7 an unbounded queue in for a bounded one.
    let capacity = q.capacity();
    let mut m = Model {
        items: VecDeque::new(),
        capacity,
        closed: false,
        unfinished: 0,
        taken: 0,
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
                    let want = m.take();
                    prop_assert_eq!(q.get(), want);
                } // else: it would block
            }
            Op::TryGet => {
                let want = match m.take() {
                    Some(item) => Ok(item),
                    None if m.closed => Err(TryGetError::Closed),
                    None => Err(TryGetError::Empty),
                };
                prop_assert_eq!(q.try_get(), want);
            }
            Op::GetTimeoutZero => {
                let want = match m.take() {
                    Some(item) => Ok(item),
                    None if m.closed => Err(GetTimeoutError::Closed),
                    None => Err(GetTimeoutError::Timeout),
                };
                prop_assert_eq!(q.get_timeout(Duration::ZERO), want);
            }
            Op::TryPop => {
                let want = m.take();
                prop_assert_eq!(Queue::try_pop(&q), want);
            }
            Op::IterNext => {
                if !m.items.is_empty() || m.closed {
                    let want = m.items.pop_front();
                    prop_assert_eq!(q.iter().next(), want);
                    if want.is_some() {
                        // Dropping the iterator marked the item done.
                        m.unfinished -= 1;
                    }
                }
            }
            Op::IterNextTaskDone => {
                if !m.items.is_empty() || m.closed {
                    let want = m.items.pop_front();
                    let mut it = q.iter();
                    prop_assert_eq!(it.next(), want);
                    prop_assert_eq!(q.task_done(), m.task_done());
                    drop(it);
                    if want.is_some() {
                        m.unfinished -= 1;
                    }
                }
            }
            Op::TaskDone => prop_assert_eq!(q.task_done(), m.task_done()),
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
                m.unfinished -= want.len();
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
