//! Step 3: a capacity, so that a fast producer waits for a slow consumer.
//!
//! This is Python's `queue.Queue(maxsize)`. A second condition variable,
//! `not_full`, is the mirror of `not_empty`: `put` sleeps on it while the
//! queue holds `capacity` items, and every `get` that makes room wakes one
//! sleeping producer. The producer is slowed to the consumer's pace
//! ("backpressure") and memory stays bounded. `try_put` and `put_timeout`
//! give up instead of waiting, and hand the item back in `Err`, so nothing is
//! lost.
//!
//! **What is still wrong.** There is no way to say "no more items will
//! come". A consumer in `get` sleeps for ever once the producers are done, so
//! workers cannot end cleanly; the usual patch, one sentinel item per
//! consumer, is easy to get wrong. Nor can a producer wait until every item
//! has been *processed*, not just taken. Step 4
//! ([`ClosableQueue`](crate::ClosableQueue)) adds `close` and
//! `task_done`/`join`.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::time::Duration;

use crate::queue::{Deadline, Queue, ZERO_CAPACITY};
use crate::sync::{Condvar, Mutex};

/// A FIFO queue with a capacity: `put` sleeps while it is full (step 3 of the
/// ladder).
///
/// ```
/// use queuelab::BoundedQueue;
///
/// let q = BoundedQueue::new(1);
/// q.put("first");
/// assert_eq!(q.try_put("second"), Err("second")); // full: the item comes back
/// assert_eq!(q.get(), "first");
/// ```
// ANCHOR: struct
pub struct BoundedQueue<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar,
    not_full: Condvar,
    capacity: usize,
}

struct State<T> {
    items: VecDeque<T>,
}
// ANCHOR_END: struct

impl<T> BoundedQueue<T> {
    /// An empty queue that holds at most `capacity` items.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0. Python's `Queue(0)` means "unbounded", Go's and
    /// crossbeam's capacity 0 means "rendezvous"; this crate refuses to guess.
    ///
    /// ```
    /// let q = queuelab::BoundedQueue::<u32>::new(8);
    /// assert_eq!(q.capacity(), 8);
    /// ```
    ///
    /// ```should_panic
    /// let q = queuelab::BoundedQueue::<u32>::new(0); // panics: say what you mean
    /// ```
    // ANCHOR: new
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "{ZERO_CAPACITY}");
        BoundedQueue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity.min(1024)),
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity,
        }
    }
    // ANCHOR_END: new

    /// Adds `item` at the back, sleeping while the queue is full, and wakes
    /// one waiting consumer.
    ///
    /// ```
    /// let q = queuelab::BoundedQueue::new(2);
    /// q.put(1);
    /// assert_eq!(q.len(), 1);
    /// ```
    // ANCHOR: put
    pub fn put(&self, item: T) {
        let mut state = self.state.lock();
        while state.items.len() >= self.capacity {
            self.not_full.wait(&mut state);
        }
        state.items.push_back(item);
        self.not_empty.notify_one();
    }
    // ANCHOR_END: put

    /// Adds `item` if there is room right now; `Err(item)` hands it back if
    /// the queue is full.
    ///
    /// ```
    /// let q = queuelab::BoundedQueue::new(1);
    /// assert_eq!(q.try_put('a'), Ok(()));
    /// assert_eq!(q.try_put('b'), Err('b'));
    /// ```
    // ANCHOR: try_put
    pub fn try_put(&self, item: T) -> Result<(), T> {
        let mut state = self.state.lock();
        if state.items.len() >= self.capacity {
            return Err(item);
        }
        state.items.push_back(item);
        self.not_empty.notify_one();
        Ok(())
    }
    // ANCHOR_END: try_put

    /// Like [`put`](Self::put), but gives up when no room has been made
    /// within `timeout`, handing the item back in `Err`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = queuelab::BoundedQueue::new(1);
    /// q.put(1);
    /// assert_eq!(q.put_timeout(2, Duration::from_millis(1)), Err(2));
    /// ```
    // ANCHOR: put_timeout
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), T> {
        let deadline = Deadline::after(timeout);
        let mut state = self.state.lock();
        while state.items.len() >= self.capacity {
            if deadline.wait(&self.not_full, &mut state) && state.items.len() >= self.capacity {
                return Err(item);
            }
        }
        state.items.push_back(item);
        self.not_empty.notify_one();
        Ok(())
    }
    // ANCHOR_END: put_timeout

    /// Takes the item at the front, sleeping until there is one, and wakes
    /// one waiting producer.
    ///
    /// ```
    /// let q = queuelab::BoundedQueue::new(1);
    /// q.put('a');
    /// assert_eq!(q.get(), 'a');
    /// ```
    // ANCHOR: get
    pub fn get(&self) -> T {
        let mut state = self.state.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                self.not_full.notify_one();
                return item;
            }
            self.not_empty.wait(&mut state);
        }
    }
    // ANCHOR_END: get

    /// Takes the item at the front, or `None` at once if there is none.
    ///
    /// ```
    /// let q = queuelab::BoundedQueue::<u8>::new(1);
    /// assert_eq!(q.try_get(), None);
    /// ```
    // ANCHOR: try_get
    pub fn try_get(&self) -> Option<T> {
        let mut state = self.state.lock();
        let item = state.items.pop_front()?;
        self.not_full.notify_one();
        Some(item)
    }
    // ANCHOR_END: try_get

    /// Like [`get`](Self::get), but gives up with `None` when no item has
    /// arrived within `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = queuelab::BoundedQueue::<u8>::new(1);
    /// assert_eq!(q.get_timeout(Duration::from_millis(1)), None);
    /// ```
    // ANCHOR: get_timeout
    pub fn get_timeout(&self, timeout: Duration) -> Option<T> {
        let deadline = Deadline::after(timeout);
        let mut state = self.state.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                self.not_full.notify_one();
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
    /// let q = queuelab::BoundedQueue::new(4);
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
    /// assert!(queuelab::BoundedQueue::<()>::new(1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most items the queue holds at once.
    ///
    /// ```
    /// assert_eq!(queuelab::BoundedQueue::<()>::new(3).capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl<T> fmt::Debug for BoundedQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedQueue")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

// No user code runs while the lock is held (the lock only guards `VecDeque`
// operations), so a panic can never leave the queue half-changed.
impl<T> UnwindSafe for BoundedQueue<T> {}
impl<T> RefUnwindSafe for BoundedQueue<T> {}

impl<T: Send> Queue<T> for BoundedQueue<T> {
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
    use std::sync::Arc;
    use std::thread;

    #[test]
    #[should_panic(expected = "capacity must be at least 1")]
    fn zero_capacity_panics() {
        let _ = BoundedQueue::<u8>::new(0);
    }

    #[test]
    fn full_queue_hands_items_back() {
        let q = BoundedQueue::new(2);
        assert_eq!(q.try_put(1), Ok(()));
        assert_eq!(q.try_put(2), Ok(()));
        assert_eq!(q.try_put(3), Err(3));
        assert_eq!(q.put_timeout(4, Duration::ZERO), Err(4));
        assert_eq!(q.put_timeout(5, Duration::from_millis(5)), Err(5));
        assert_eq!(q.len(), 2);
        assert_eq!(q.get(), 1);
        assert_eq!(q.put_timeout(6, Duration::from_millis(5)), Ok(()));
        assert_eq!((q.get(), q.get()), (2, 6));
        assert_eq!(q.get_timeout(Duration::from_millis(1)), None);
    }

    #[test]
    fn blocked_put_is_woken_by_get() {
        let q = Arc::new(BoundedQueue::new(1));
        q.put(0);
        // Two producers block on the full queue; each get makes room for one.
        let producers: Vec<_> = (1..=2)
            .map(|i| {
                let q = Arc::clone(&q);
                thread::spawn(move || q.put(i))
            })
            .collect();
        let mut got = vec![q.get(), q.get(), q.get()];
        for p in producers {
            p.join().unwrap();
        }
        got.sort_unstable();
        assert_eq!(got, vec![0, 1, 2]);
        assert!(q.is_empty());
    }

    #[test]
    fn blocked_put_timeout_is_woken_by_get() {
        let q = Arc::new(BoundedQueue::new(1));
        q.put(0);
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || q.put_timeout(1, Duration::from_secs(60)))
        };
        assert_eq!(q.get(), 0);
        assert_eq!(q.get(), 1);
        assert_eq!(producer.join().unwrap(), Ok(()));
    }

    #[test]
    fn blocked_get_is_woken_by_put() {
        let q = Arc::new(BoundedQueue::new(1));
        let consumer = {
            let q = Arc::clone(&q);
            thread::spawn(move || (q.get(), q.get_timeout(Duration::from_secs(60))))
        };
        q.put(1);
        q.put(2);
        assert_eq!(consumer.join().unwrap(), (1, Some(2)));
    }
}
