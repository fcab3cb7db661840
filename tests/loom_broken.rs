#![cfg(loom)]
//! Broken queues that loom must catch: the book's "what goes wrong" stories.
//!
//! Each module below is a small copy of the part of a real queue that
//! matters, written directly against `loom::sync`, with ONE thing wrong
//! (marked `BROKEN`). Each test runs a model of it and asserts which failure
//! loom reports: a deadlock, or a failed assertion in the model. The fixed
//! versions are the real queues, checked in `loom_blocking.rs`,
//! `loom_bounded.rs` and `loom_closable.rs`. The busy-polling consumer
//! (variant 6) is in `loom_polling.rs`.
//!
//! The book quotes loom's own output for each; `book/src/loom/README.md`
//! says how those files were made. The `ANCHOR` comments let the book
//! include the broken code with `{{#include}}`.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_broken -- --nocapture`

mod loom_common;

use std::sync::Arc;

use loom::thread;
use loom_common::{UNWRAP_NONE, assert_deadlock, check, expect_failure};
use queuelab::PollingQueue;

/// Variant 1: `close` sets the flag but forgets to wake the consumers already
/// asleep in `get`.
mod close_without_notify {
    use loom::sync::{Condvar, Mutex};
    use std::collections::VecDeque;

    pub struct Queue {
        state: Mutex<State>,
        not_empty: Condvar,
    }

    struct State {
        items: VecDeque<u32>,
        closed: bool,
    }

    impl Queue {
        pub fn new() -> Self {
            Queue {
                state: Mutex::new(State {
                    items: VecDeque::new(),
                    closed: false,
                }),
                not_empty: Condvar::new(),
            }
        }

        pub fn get(&self) -> Option<u32> {
            let mut state = self.state.lock().unwrap();
            loop {
                if let Some(item) = state.items.pop_front() {
                    return Some(item);
                }
                if state.closed {
                    return None;
                }
                state = self.not_empty.wait(state).unwrap();
            }
        }

        // ANCHOR: close_without_notify
        pub fn close(&self) {
            let mut state = self.state.lock().unwrap();
            state.closed = true;
            // BROKEN: no `self.not_empty.notify_all()`. A consumer that is
            // already asleep in `get` is never told, and sleeps for ever.
        }
        // ANCHOR_END: close_without_notify
    }
}

#[test]
fn close_without_notify_deadlocks() {
    let message = expect_failure("broken::close_without_notify", || {
        let q = Arc::new(close_without_notify::Queue::new());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get())
        };
        q.close();
        assert_eq!(consumer.join().unwrap(), None);
    });
    // The consumer asleep in `get`, the main thread in `join`.
    assert_deadlock(&message, 2, 0);
}

/// Variant 2: `close` wakes only one of the producers asleep on a full queue.
mod close_notify_one {
    use loom::sync::{Condvar, Mutex};
    use std::collections::VecDeque;

    pub struct Queue {
        state: Mutex<State>,
        not_empty: Condvar,
        not_full: Condvar,
        capacity: usize,
    }

    struct State {
        items: VecDeque<u32>,
        closed: bool,
    }

    impl Queue {
        pub fn bounded(capacity: usize) -> Self {
            Queue {
                state: Mutex::new(State {
                    items: VecDeque::new(),
                    closed: false,
                }),
                not_empty: Condvar::new(),
                not_full: Condvar::new(),
                capacity,
            }
        }

        pub fn put(&self, item: u32) -> Result<(), u32> {
            let mut state = self.state.lock().unwrap();
            while !state.closed && state.items.len() >= self.capacity {
                state = self.not_full.wait(state).unwrap();
            }
            if state.closed {
                return Err(item);
            }
            state.items.push_back(item);
            self.not_empty.notify_one();
            Ok(())
        }

        // ANCHOR: close_notify_one
        pub fn close(&self) {
            let mut state = self.state.lock().unwrap();
            state.closed = true;
            self.not_empty.notify_all();
            // BROKEN: `notify_one` where every sleeping producer must wake.
            // The one it wakes returns `Err`; the others sleep for ever.
            self.not_full.notify_one();
        }
        // ANCHOR_END: close_notify_one
    }
}

#[test]
fn close_notify_one_deadlocks() {
    let message = expect_failure("broken::close_notify_one", || {
        let q = Arc::new(close_notify_one::Queue::bounded(1));
        q.put(0).unwrap();
        let producers: Vec<_> = [1, 2]
            .into_iter()
            .map(|item| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.put(item))
            })
            .collect();
        q.close();
        for (p, item) in producers.into_iter().zip([1, 2]) {
            assert_eq!(p.join().unwrap(), Err(item));
        }
    });
    // One producer woken and gone, the other asleep in `put`, the main thread in `join`.
    assert_deadlock(&message, 2, 1);
}

/// Variant 3a: a lost wake-up: `put` notifies before the item is there, so the
/// consumer it wakes finds nothing and goes back to sleep, and the item
/// arrives with nobody told.
mod notify_before_push {
    use loom::sync::{Condvar, Mutex};
    use std::collections::VecDeque;

    pub struct Queue {
        state: Mutex<State>,
        not_empty: Condvar,
    }

    struct State {
        items: VecDeque<u32>,
    }

    impl Queue {
        pub fn new() -> Self {
            Queue {
                state: Mutex::new(State {
                    items: VecDeque::new(),
                }),
                not_empty: Condvar::new(),
            }
        }

        // ANCHOR: notify_before_push
        pub fn put(&self, item: u32) {
            // BROKEN: wakes a consumer before there is anything to take, and
            // without the lock. The woken consumer may look, find nothing
            // and go back to sleep before the push below; then nobody wakes it.
            self.not_empty.notify_one();
            let mut state = self.state.lock().unwrap();
            state.items.push_back(item);
        }
        // ANCHOR_END: notify_before_push

        pub fn get(&self) -> u32 {
            let mut state = self.state.lock().unwrap();
            loop {
                if let Some(item) = state.items.pop_front() {
                    return item;
                }
                state = self.not_empty.wait(state).unwrap();
            }
        }
    }
}

#[test]
fn notify_before_push_deadlocks() {
    let message = expect_failure("broken::notify_before_push", || {
        let q = Arc::new(notify_before_push::Queue::new());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get())
        };
        q.put(1);
        assert_eq!(consumer.join().unwrap(), 1);
    });
    // The consumer asleep in `get`, the main thread in `join`.
    assert_deadlock(&message, 2, 0);
}

/// Variant 3b: a lost wake-up: the `closed` flag is an atomic set outside the lock,
/// so it can change between a consumer's check and its sleep. (loom finds
/// it in its very first interleaving: it treats `SeqCst` loads and stores
/// like `AcqRel`, so with no lock between them the consumer may still read
/// `false` after the store. The interleaving "check, store, notify, sleep"
/// deadlocks the same way under any memory model.)
mod flag_outside_lock {
    use loom::sync::atomic::{AtomicBool, Ordering};
    use loom::sync::{Condvar, Mutex};
    use std::collections::VecDeque;

    pub struct Queue {
        state: Mutex<State>,
        not_empty: Condvar,
        closed: AtomicBool,
    }

    struct State {
        items: VecDeque<u32>,
    }

    impl Queue {
        pub fn new() -> Self {
            Queue {
                state: Mutex::new(State {
                    items: VecDeque::new(),
                }),
                not_empty: Condvar::new(),
                closed: AtomicBool::new(false),
            }
        }

        pub fn get(&self) -> Option<u32> {
            let mut state = self.state.lock().unwrap();
            loop {
                if let Some(item) = state.items.pop_front() {
                    return Some(item);
                }
                if self.closed.load(Ordering::SeqCst) {
                    return None;
                }
                state = self.not_empty.wait(state).unwrap();
            }
        }

        // ANCHOR: flag_outside_lock
        pub fn close(&self) {
            // BROKEN: the flag is set without the lock. A consumer in `get`
            // that has just seen `closed == false` but is not asleep yet
            // misses both the flag and the notify, and then sleeps for ever.
            self.closed.store(true, Ordering::SeqCst);
            self.not_empty.notify_all();
        }
        // ANCHOR_END: flag_outside_lock
    }
}

#[test]
fn flag_outside_lock_deadlocks() {
    let message = expect_failure("broken::flag_outside_lock", || {
        let q = Arc::new(flag_outside_lock::Queue::new());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.get())
        };
        q.close();
        assert_eq!(consumer.join().unwrap(), None);
    });
    // The consumer asleep in `get`, the main thread in `join`.
    assert_deadlock(&message, 2, 0);
}

/// Variant 4: `if` instead of `while` around `wait`: a woken consumer does not
/// check again, and another consumer may have taken the item meanwhile.
mod if_instead_of_while {
    use loom::sync::{Condvar, Mutex};
    use std::collections::VecDeque;

    pub struct Queue {
        state: Mutex<State>,
        not_empty: Condvar,
    }

    struct State {
        items: VecDeque<u32>,
    }

    /// What `get` panics with when it wakes to an empty queue.
    pub const WOKE_TO_EMPTY: &str = "woken, but the queue is empty";

    impl Queue {
        pub fn new() -> Self {
            Queue {
                state: Mutex::new(State {
                    items: VecDeque::new(),
                }),
                not_empty: Condvar::new(),
            }
        }

        pub fn put(&self, item: u32) {
            let mut state = self.state.lock().unwrap();
            state.items.push_back(item);
            self.not_empty.notify_one();
        }

        // ANCHOR: if_instead_of_while
        pub fn get(&self) -> u32 {
            let mut state = self.state.lock().unwrap();
            // BROKEN: `if` where `while` is needed. Between the notify and
            // this thread taking the lock again, another consumer may have
            // taken the item.
            if state.items.is_empty() {
                state = self.not_empty.wait(state).unwrap();
            }
            state.items.pop_front().expect(WOKE_TO_EMPTY)
        }
        // ANCHOR_END: if_instead_of_while
    }
}

#[test]
fn if_instead_of_while_finds_nothing() {
    let message = expect_failure("broken::if_instead_of_while", || {
        let q = Arc::new(if_instead_of_while::Queue::new());
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.get())
            })
            .collect();
        q.put(1);
        q.put(2);
        let mut got: Vec<u32> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
    assert_eq!(message, if_instead_of_while::WOKE_TO_EMPTY);
}

// ANCHOR: check_then_act
/// Variant 5, BROKEN: the check-then-act race of `if not queue.empty():
/// queue.get()`, from the study notes on CPython's `multiprocessing.Queue`.
/// `is_empty` is a snapshot: another consumer can take the item between the
/// check and the `try_get`.
fn take_if_not_empty(q: &PollingQueue<u32>) -> Option<u32> {
    if !q.is_empty() {
        Some(q.try_get().unwrap())
    } else {
        None
    }
}
// ANCHOR_END: check_then_act

// ANCHOR: check_then_act_fixed
/// Variant 5, fixed: act, then look at what happened. `try_get` checks and takes
/// under one lock.
fn take_if_any(q: &PollingQueue<u32>) -> Option<u32> {
    q.try_get()
}
// ANCHOR_END: check_then_act_fixed

/// The real `PollingQueue` with one item and two consumers.
fn two_consumers_one_item(take: fn(&PollingQueue<u32>) -> Option<u32>) {
    let q = Arc::new(PollingQueue::new());
    q.put(1);
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || take(&q))
        })
        .collect();
    let got: Vec<u32> = consumers
        .into_iter()
        .filter_map(|c| c.join().unwrap())
        .collect();
    assert_eq!(got, [1]);
}

#[test]
fn check_then_act_panics() {
    let message = expect_failure("broken::check_then_act", || {
        two_consumers_one_item(take_if_not_empty)
    });
    assert_eq!(message, UNWRAP_NONE);
}

#[test]
fn check_then_act_fixed_passes() {
    check("broken::check_then_act_fixed", || {
        two_consumers_one_item(take_if_any)
    });
}
