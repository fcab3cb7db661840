//! Step 1: a lock around a `VecDeque`, and nothing else.
//!
//! This is `MyQueue` from Effective Python, Item 55: `put` appends under a
//! lock, `try_get` pops under the lock and fails when there is nothing to pop
//! (Python raises `IndexError`; here it is `None`).
//!
//! **What is still wrong.** A consumer has no way to wait for an item. It must
//! poll: try, find nothing, sleep or spin, try again. Sleep too long and items
//! sit in the queue; sleep too little and the consumer burns a core asking an
//! empty queue for work (the study notes on Item 55 count about 3,000 polls for
//! 1,000 items). There is also no limit on how many items pile up, and no way
//! to tell a consumer that no more items will come. Step 2
//! ([`BlockingQueue`](crate::BlockingQueue)) fixes the polling.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};

use crate::queue::Queue;
use crate::sync::{Backoff, Mutex};

/// A FIFO queue whose consumers must poll (step 1 of the ladder).
///
/// ```
/// use queuelab::PollingQueue;
///
/// let q = PollingQueue::new();
/// q.put("job");
/// assert_eq!(q.try_get(), Some("job"));
/// assert_eq!(q.try_get(), None); // nothing there: the caller must try again later
/// ```
// ANCHOR: struct
pub struct PollingQueue<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    items: VecDeque<T>,
}
// ANCHOR_END: struct

impl<T> PollingQueue<T> {
    /// An empty queue.
    ///
    /// ```
    /// let q = queuelab::PollingQueue::<u32>::new();
    /// assert!(q.is_empty());
    /// ```
    // ANCHOR: new
    pub fn new() -> Self {
        PollingQueue {
            state: Mutex::new(State {
                items: VecDeque::new(),
            }),
        }
    }
    // ANCHOR_END: new

    /// Adds `item` at the back. Never waits and never fails: there is no bound.
    ///
    /// ```
    /// let q = queuelab::PollingQueue::new();
    /// q.put(1);
    /// assert_eq!(q.len(), 1);
    /// ```
    // ANCHOR: put
    pub fn put(&self, item: T) {
        let mut state = self.state.lock();
        state.items.push_back(item);
    }
    // ANCHOR_END: put

    /// Takes the item at the front, or `None` at once if there is none.
    ///
    /// ```
    /// let q = queuelab::PollingQueue::new();
    /// q.put('a');
    /// q.put('b');
    /// assert_eq!(q.try_get(), Some('a'));
    /// ```
    // ANCHOR: try_get
    pub fn try_get(&self) -> Option<T> {
        let mut state = self.state.lock();
        state.items.pop_front()
    }
    // ANCHOR_END: try_get

    /// How many items are inside. A snapshot: another thread may change it
    /// before the caller has read the number, so never decide to `try_get` on
    /// it (the check-then-act race of Python's `if not q.empty(): q.get()`);
    /// call `try_get` and look at what it returns.
    ///
    /// ```
    /// let q = queuelab::PollingQueue::new();
    /// q.put(());
    /// assert_eq!(q.len(), 1);
    /// ```
    // ANCHOR: len
    pub fn len(&self) -> usize {
        self.state.lock().items.len()
    }
    // ANCHOR_END: len

    /// `len() == 0`, with the same caveat: it may be stale when it returns.
    ///
    /// ```
    /// assert!(queuelab::PollingQueue::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Default for PollingQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for PollingQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollingQueue")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

// No user code runs while the lock is held (the lock only guards `VecDeque`
// operations), so a panic can never leave the queue half-changed.
impl<T> UnwindSafe for PollingQueue<T> {}
impl<T> RefUnwindSafe for PollingQueue<T> {}

impl<T: Send> Queue<T> for PollingQueue<T> {
    fn push(&self, item: T) -> Result<(), T> {
        self.put(item);
        Ok(())
    }

    /// Polls with crossbeam-utils' `Backoff`: spins a little, then yields
    /// the thread between polls. Never returns `None`.
    // ANCHOR: pop
    fn pop(&self) -> Option<T> {
        let backoff = Backoff::new();
        loop {
            if let Some(item) = self.try_get() {
                return Some(item);
            }
            backoff.snooze();
        }
    }
    // ANCHOR_END: pop

    fn try_pop(&self) -> Option<T> {
        self.try_get()
    }

    fn len(&self) -> usize {
        self.len()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn fifo_order() {
        let q = PollingQueue::new();
        for i in 0..5 {
            q.put(i);
        }
        assert_eq!(q.len(), 5);
        let out: Vec<_> = std::iter::from_fn(|| q.try_get()).collect();
        assert_eq!(out, vec![0, 1, 2, 3, 4]);
        assert!(q.is_empty());
    }

    #[test]
    fn try_get_on_empty_is_none() {
        let q = PollingQueue::<u8>::default();
        assert_eq!(q.try_get(), None);
        assert_eq!(Queue::try_pop(&q), None);
    }

    #[test]
    fn pop_polls_until_an_item_arrives() {
        let q = Arc::new(PollingQueue::new());
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || Queue::pop(&*q))
        };
        q.put(42);
        assert_eq!(consumer.join().unwrap(), Some(42));
    }

    #[test]
    fn debug_does_not_need_debug_items() {
        struct Opaque;
        let q = PollingQueue::new();
        q.put(Opaque);
        assert_eq!(format!("{q:?}"), "PollingQueue { len: 1, .. }");
    }
}
