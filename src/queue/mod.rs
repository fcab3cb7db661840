//! The steps of the ladder, and the [`Queue`] trait they all implement.
//!
//! Each step is one file that reads top to bottom and can be diffed against
//! the one before it (`diff src/queue/polling.rs src/queue/blocking.rs`): the
//! field and method names stay the same, so the diff shows only the new idea.

use std::time::{Duration, Instant};

use crate::sync::{Condvar, MutexGuard};

pub mod blocking;
pub mod bounded;
pub mod closable;
pub mod fast;
pub mod flavor;
pub mod list;
pub mod polling;
pub mod ring;
mod sleepers;

/// What every queue of the ladder can do, so that code that moves items
/// between threads (stress tests, benches, workers) is written once.
///
/// The method names differ from the queues' own (`put`/`get`) on purpose: the
/// queues' inherent methods have step-specific signatures, and a trait method
/// with the same name would be shadowed by them.
///
/// ```
/// use queuelab::{BlockingQueue, ClosableQueue, Queue};
///
/// fn hand_over<Q: Queue<u32>>(q: &Q) -> Option<u32> {
///     q.push(7).ok()?;
///     q.pop()
/// }
/// assert_eq!(hand_over(&BlockingQueue::new()), Some(7));
/// assert_eq!(hand_over(&ClosableQueue::bounded(1)), Some(7));
/// ```
pub trait Queue<T>: Send + Sync {
    /// Adds `item` at the back, waiting for room if the queue is bounded.
    /// `Err` hands the item back; only a closed queue does that.
    ///
    /// ```
    /// use queuelab::{PollingQueue, Queue};
    /// let q = PollingQueue::new();
    /// assert_eq!(q.push("a"), Ok(()));
    /// ```
    fn push(&self, item: T) -> Result<(), T>;

    /// Takes the item at the front, waiting until there is one. `None` only
    /// when the queue is closed and drained, so queues without a close
    /// (steps 1-3) never return `None`. The polling queue waits by polling
    /// with crossbeam-utils' `Backoff`.
    ///
    /// ```
    /// use queuelab::{ClosableQueue, Queue};
    /// let q = ClosableQueue::unbounded();
    /// q.push(1).unwrap();
    /// q.close();
    /// assert_eq!(Queue::pop(&q), Some(1));
    /// assert_eq!(Queue::pop(&q), None);
    /// ```
    fn pop(&self) -> Option<T>;

    /// Takes the item at the front if there is one, without waiting.
    ///
    /// ```
    /// use queuelab::{BoundedQueue, Queue};
    /// let q = BoundedQueue::<u8>::new(2);
    /// assert_eq!(q.try_pop(), None);
    /// ```
    fn try_pop(&self) -> Option<T>;

    /// How many items are inside: a snapshot that other threads may make
    /// stale before the caller looks at it.
    ///
    /// ```
    /// use queuelab::{BlockingQueue, Queue};
    /// let q = BlockingQueue::new();
    /// q.push('x').unwrap();
    /// assert_eq!(Queue::len(&q), 1);
    /// ```
    fn len(&self) -> usize;

    /// `len() == 0`, with the same caveat: by the time it returns, it may
    /// already be false.
    ///
    /// ```
    /// use queuelab::{BlockingQueue, Queue};
    /// assert!(Queue::is_empty(&BlockingQueue::<u8>::new()));
    /// ```
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A point in time that a timed wait gives up at. `None` when the time limit
/// is so large that it cannot be represented: then the wait has no limit.
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// No time limit.
    pub(crate) const NEVER: Deadline = Deadline(None);

    pub(crate) fn after(timeout: Duration) -> Self {
        Deadline(Instant::now().checked_add(timeout))
    }

    /// Whether the time is up. A time limit of zero is up at once.
    pub(crate) fn has_passed(&self) -> bool {
        self.0.is_some_and(|at| Instant::now() >= at)
    }

    /// Waits on `condvar` until woken or until the deadline. Returns `true`
    /// when the time is up. The caller must re-check its condition after
    /// every return, time-out or not: an item may have arrived meanwhile.
    pub(crate) fn wait<T>(&self, condvar: &Condvar, guard: &mut MutexGuard<'_, T>) -> bool {
        match self.0 {
            None => {
                condvar.wait(guard);
                false
            }
            Some(at) => {
                let now = Instant::now();
                now >= at || condvar.wait_for(guard, at - now).timed_out()
            }
        }
    }
}

/// The message of the panic for capacity 0, shared by the bounded queues.
pub(crate) const ZERO_CAPACITY: &str = "capacity must be at least 1: a capacity of 0 means \
    \"unbounded\" in Python's queue.Queue but \"rendezvous\" in Go and crossbeam-channel, so \
    queuelab refuses to guess (use ClosableQueue::unbounded() for no bound)";
