//! Step 2: a condition variable, so that a consumer can sleep until an item
//! arrives.
//!
//! This is Python's `queue.Queue()`. `put` appends under the lock and then
//! wakes one sleeping consumer (`not_empty.notify_one()`); `get` checks for an
//! item and, while there is none, sleeps on `not_empty`. The check and the
//! sleep happen under the same lock, so a `put` cannot slip in between them
//! (the "lost wake-up"), and the check is a `while`, not an `if`, because a
//! woken thread may find the item already taken by another consumer, or may
//! wake for no reason at all (a "spurious wake-up").
//!
//! **What is still wrong.** Nothing limits how many items pile up: if the
//! producer is faster than the consumer, memory grows without end. Step 3
//! ([`BoundedQueue`](crate::BoundedQueue)) adds a capacity.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::time::Duration;

use crate::queue::{Deadline, Queue};
use crate::sync::{Condvar, Mutex};

/// A FIFO queue whose `get` sleeps until an item arrives (step 2 of the ladder).
///
/// ```
/// use std::sync::Arc;
/// use std::thread;
/// use queuelab::BlockingQueue;
///
/// let q = Arc::new(BlockingQueue::new());
/// let consumer = {
///     let q = Arc::clone(&q);
///     thread::spawn(move || q.get()) // sleeps: nothing is there yet
/// };
/// q.put("job");
/// assert_eq!(consumer.join().unwrap(), "job");
/// ```
// ANCHOR: struct
pub struct BlockingQueue<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar,
}

struct State<T> {
    items: VecDeque<T>,
}
// ANCHOR_END: struct

impl<T> BlockingQueue<T> {
    /// An empty queue.
    ///
    /// ```
    /// let q = queuelab::BlockingQueue::<u32>::new();
    /// assert!(q.is_empty());
    /// ```
    // ANCHOR: new
    pub fn new() -> Self {
        BlockingQueue {
            state: Mutex::new(State {
                items: VecDeque::new(),
            }),
            not_empty: Condvar::new(),
        }
    }
    // ANCHOR_END: new

    /// Adds `item` at the back and wakes one waiting consumer. Never waits
    /// and never fails: there is no bound.
    ///
    /// ```
    /// let q = queuelab::BlockingQueue::new();
    /// q.put(1);
    /// assert_eq!(q.len(), 1);
    /// ```
    // ANCHOR: put
    pub fn put(&self, item: T) {
        let mut state = self.state.lock();
        state.items.push_back(item);
        self.not_empty.notify_one();
    }
    // ANCHOR_END: put

    /// Takes the item at the front, sleeping until there is one.
    ///
    /// ```
    /// let q = queuelab::BlockingQueue::new();
    /// q.put('a');
    /// assert_eq!(q.get(), 'a');
    /// ```
    // ANCHOR: get
    pub fn get(&self) -> T {
        let mut state = self.state.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                return item;
            }
            self.not_empty.wait(&mut state);
        }
    }
    // ANCHOR_END: get

    /// Takes the item at the front, or `None` at once if there is none.
    ///
    /// ```
    /// let q = queuelab::BlockingQueue::<u8>::new();
    /// assert_eq!(q.try_get(), None);
    /// ```
    // ANCHOR: try_get
    pub fn try_get(&self) -> Option<T> {
        let mut state = self.state.lock();
        state.items.pop_front()
    }
    // ANCHOR_END: try_get

    /// Like [`get`](Self::get), but gives up with `None` when no item has
    /// arrived within `timeout`. A `timeout` too large to represent waits
    /// for ever.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = queuelab::BlockingQueue::<u8>::new();
    /// assert_eq!(q.get_timeout(Duration::from_millis(1)), None);
    /// q.put(3);
    /// assert_eq!(q.get_timeout(Duration::from_secs(1)), Some(3));
    /// ```
    // ANCHOR: get_timeout
    pub fn get_timeout(&self, timeout: Duration) -> Option<T> {
        let deadline = Deadline::after(timeout);
        let mut state = self.state.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                return Some(item);
            }
            if deadline.wait(&self.not_empty, &mut state) && state.items.is_empty() {
                return None;
            }
        }
    }
    // ANCHOR_END: get_timeout

    /// How many items are inside. A snapshot: another thread may change it
    /// before the caller has read the number (Python's `qsize()` is a
    /// snapshot too).
    ///
    /// ```
    /// let q = queuelab::BlockingQueue::new();
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
    /// assert!(queuelab::BlockingQueue::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Default for BlockingQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for BlockingQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingQueue")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

// No user code runs while the lock is held (the lock only guards `VecDeque`
// operations), so a panic can never leave the queue half-changed.
impl<T> UnwindSafe for BlockingQueue<T> {}
impl<T> RefUnwindSafe for BlockingQueue<T> {}

impl<T: Send> Queue<T> for BlockingQueue<T> {
    fn push(&self, item: T) -> Result<(), T> {
        self.put(item);
        Ok(())
    }

    fn pop(&self) -> Option<T> {
        Some(self.get())
    }

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
    use std::sync::{Arc, Barrier};
    use std::thread;

    #[test]
    fn fifo_order() {
        let q = BlockingQueue::new();
        for i in 0..5 {
            q.put(i);
        }
        let out: Vec<_> = (0..5).map(|_| q.get()).collect();
        assert_eq!(out, vec![0, 1, 2, 3, 4]);
        assert_eq!(q.try_get(), None);
    }

    #[test]
    fn blocked_get_is_woken_by_put() {
        let q = Arc::new(BlockingQueue::new());
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.get())
            })
            .collect();
        for i in 0..3 {
            q.put(i);
        }
        let mut got: Vec<i32> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, vec![0, 1, 2]);
    }

    #[test]
    fn get_timeout_gives_up_then_succeeds() {
        let q = Arc::new(BlockingQueue::new());
        assert_eq!(q.get_timeout(Duration::ZERO), None);
        assert_eq!(q.get_timeout(Duration::from_millis(5)), None);
        let start = Arc::new(Barrier::new(2));
        let producer = {
            let (q, start) = (Arc::clone(&q), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                q.put(9);
            })
        };
        start.wait();
        // Long enough never to fire on a loaded machine; the put wakes it.
        assert_eq!(q.get_timeout(Duration::from_secs(60)), Some(9));
        producer.join().unwrap();
    }

    #[test]
    fn huge_timeout_does_not_overflow() {
        let q = BlockingQueue::new();
        q.put(1);
        assert_eq!(q.get_timeout(Duration::MAX), Some(1));
    }
}
