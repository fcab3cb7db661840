//! The crate root's `ClosableQueue`: the fastest finished step of the
//! ladder for each flavor, picked when the queue is made.
//!
//! - [`ClosableQueue::bounded`] makes step 6,
//!   [`queue::ring::ClosableQueue`](crate::queue::ring::ClosableQueue): a
//!   ring of stamped slots with no lock on the fast path. In the benches of
//!   chapter 13 of the book its median throughput was higher than step 5's
//!   in every load measured.
//! - [`ClosableQueue::unbounded`] makes step 5,
//!   [`queue::fast::ClosableQueue`](crate::queue::fast::ClosableQueue): one
//!   lock around a `VecDeque`, and a thread that waits spins a little before
//!   it sleeps. A ring needs a bound. Step 7,
//!   [`queue::list::ClosableQueue`](crate::queue::list::ClosableQueue), is
//!   an unbounded queue with no lock, and in chapter 14's benches it is
//!   faster than step 5 on every load measured; it becomes the unbounded
//!   flavor once it also meets its target there, crossbeam-channel's
//!   throughput on every load, which it does not yet with four producers
//!   and four consumers. Until then the older, simpler step stays the
//!   default.
//!
//! Both have the same methods, errors and promises, so this type only
//! passes each call on: one `match` on the flavor per call, a branch that
//! always goes the same way for a given queue. The iterator and the
//! `close_on_drop` guard do the same.
//!
//! Where the two flavors differ, the difference is one the contract allows,
//! and each is documented on the method it concerns:
//! - a bounded queue allocates all of its slots when it is made, and
//!   refuses a capacity too large for the ring's positions; an unbounded
//!   one grows as items come;
//! - on a bounded queue, an iterator adds its marks to the count of
//!   unfinished tasks in batches, so
//!   [`unfinished_tasks`](ClosableQueue::unfinished_tasks) may still count
//!   items a busy worker has finished (`join` is not affected).

use std::fmt;
use std::time::Duration;

use crate::error::{
    Closed, GetTimeoutError, PutTimeoutError, TaskDoneError, TryGetError, TryPutError,
};
use crate::queue::{Queue, fast, ring};

/// A FIFO queue, bounded or not, that can be closed and tracks unfinished
/// tasks: the one to use. A bounded queue is a lock-free ring (step 6), an
/// unbounded one is step 5; [`queue::flavor`](crate::queue::flavor) says
/// why.
///
/// ```
/// use std::thread;
/// use queuelab::ClosableQueue;
///
/// let q = ClosableQueue::bounded(4);
/// thread::scope(|s| {
///     let worker = s.spawn(|| {
///         let mut sum = 0;
///         for n in &q {
///             sum += n; // the item is marked done when the next one is asked for
///         }
///         sum // the loop ended: the queue is closed and drained
///     });
///     for n in 1..=10 {
///         q.put(n).unwrap();
///     }
///     q.close();
///     q.join(); // every item has been processed
///     assert_eq!(worker.join().unwrap(), 55);
/// });
/// ```
///
/// Its `Debug` output is the inner queue's: the same fields for both
/// flavors, and `capacity` tells them apart (`Some` for the ring, `None`
/// for step 5).
///
/// ```
/// let q = queuelab::ClosableQueue::<u8>::unbounded();
/// assert_eq!(
///     format!("{q:?}"),
///     "ClosableQueue { len: 0, capacity: None, closed: false, unfinished: 0, .. }"
/// );
/// ```
///
/// It is `Send` and `Sync` only when `T` is `Send`, and `UnwindSafe` and
/// `RefUnwindSafe` whatever `T` is, as both steps it wraps are (no user code
/// runs inside either queue while it is half-changed):
///
/// ```compile_fail
/// use std::rc::Rc;
/// fn shared<Q: Sync>(_: &Q) {}
/// shared(&queuelab::ClosableQueue::<Rc<u8>>::unbounded());
/// ```
///
/// ```compile_fail
/// use std::rc::Rc;
/// fn sent<Q: Send>(_: Q) {}
/// sent(queuelab::ClosableQueue::<Rc<u8>>::bounded(1));
/// ```
pub struct ClosableQueue<T> {
    flavor: Flavor<T>,
}

/// The step a queue runs on. The auto traits (`Send`, `Sync`, `UnwindSafe`,
/// `RefUnwindSafe`) come from the two steps, so they are theirs.
///
/// The ring keeps its counters on cache lines of their own and is much
/// larger than step 5 (1,408 bytes against 256 for `u64` items on x86-64;
/// the enum is 1,408 too), so an unbounded queue carries unused bytes. Boxing the ring would cost
/// every call on it one more pointer to follow; a queue is made once and
/// shared, so the bytes are the cheaper price.
#[allow(clippy::large_enum_variant)]
enum Flavor<T> {
    Bounded(ring::ClosableQueue<T>),
    Unbounded(fast::ClosableQueue<T>),
}

/// Runs `$call` on the inner queue, whichever flavor it is.
macro_rules! on_flavor {
    ($queue:expr, $inner:ident => $call:expr) => {
        match &$queue.flavor {
            Flavor::Bounded($inner) => $call,
            Flavor::Unbounded($inner) => $call,
        }
    };
}

impl<T> ClosableQueue<T> {
    /// An empty queue with no bound: `put` never waits. It runs on step 5
    /// ([`queue::fast`](crate::queue::fast)).
    ///
    /// ```
    /// let q = queuelab::ClosableQueue::<u32>::unbounded();
    /// assert_eq!(q.capacity(), None);
    /// ```
    pub fn unbounded() -> Self {
        ClosableQueue {
            flavor: Flavor::Unbounded(fast::ClosableQueue::unbounded()),
        }
    }

    /// An empty queue that holds at most `capacity` items: `put` waits while
    /// it is full. It runs on step 6 ([`queue::ring`](crate::queue::ring)),
    /// which allocates all `capacity` slots now: ask for the bound you
    /// mean, not for a very large one in place of
    /// [`unbounded`](Self::unbounded).
    ///
    /// # Panics
    ///
    /// If `capacity` is 0. Python's `Queue(0)` means "unbounded", Go's and
    /// crossbeam's capacity 0 means "rendezvous"; this crate refuses to
    /// guess. Also if `capacity` is so large that the ring's positions would
    /// not fit in a `usize`.
    ///
    /// ```
    /// let q = queuelab::ClosableQueue::<u32>::bounded(8);
    /// assert_eq!(q.capacity(), Some(8));
    /// ```
    ///
    /// ```should_panic
    /// let q = queuelab::ClosableQueue::<u32>::bounded(0); // panics: say what you mean
    /// ```
    pub fn bounded(capacity: usize) -> Self {
        ClosableQueue {
            flavor: Flavor::Bounded(ring::ClosableQueue::bounded(capacity)),
        }
    }

    /// Adds `item` at the back, waiting while the queue is full. Once the
    /// queue is closed, before or during the wait, the item comes back in
    /// `Err(Closed(item))`.
    ///
    /// ```
    /// use queuelab::{ClosableQueue, Closed};
    /// let q = ClosableQueue::unbounded();
    /// assert_eq!(q.put(1), Ok(()));
    /// q.close();
    /// assert_eq!(q.put(2), Err(Closed(2)));
    /// ```
    pub fn put(&self, item: T) -> Result<(), Closed<T>> {
        on_flavor!(self, q => q.put(item))
    }

    /// Adds `item` if there is room right now and the queue is open;
    /// otherwise hands it back in [`TryPutError::Full`] or
    /// [`TryPutError::Closed`].
    ///
    /// ```
    /// use queuelab::{ClosableQueue, TryPutError};
    /// let q = ClosableQueue::bounded(1);
    /// assert_eq!(q.try_put('a'), Ok(()));
    /// assert_eq!(q.try_put('b'), Err(TryPutError::Full('b')));
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        on_flavor!(self, q => q.try_put(item))
    }

    /// Like [`put`](Self::put), but gives up when no room has been made
    /// within `timeout`. The item comes back in
    /// [`PutTimeoutError::Timeout`] or [`PutTimeoutError::Closed`]. A time
    /// limit of zero never waits: it looks once, like
    /// [`try_put`](Self::try_put).
    ///
    /// ```
    /// use std::time::Duration;
    /// use queuelab::{ClosableQueue, PutTimeoutError};
    /// let q = ClosableQueue::bounded(1);
    /// q.put(1).unwrap();
    /// assert_eq!(q.put_timeout(2, Duration::from_millis(1)), Err(PutTimeoutError::Timeout(2)));
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutTimeoutError<T>> {
        on_flavor!(self, q => q.put_timeout(item, timeout))
    }

    /// Takes the item at the front, waiting until there is one. `None`
    /// only when the queue is closed **and** drained: items put before
    /// `close` are still handed out.
    ///
    /// ```
    /// let q = queuelab::ClosableQueue::unbounded();
    /// q.put('a').unwrap();
    /// q.close();
    /// assert_eq!(q.get(), Some('a'));
    /// assert_eq!(q.get(), None);
    /// ```
    pub fn get(&self) -> Option<T> {
        on_flavor!(self, q => q.get())
    }

    /// Takes the item at the front without waiting:
    /// [`TryGetError::Empty`] if there is none yet, [`TryGetError::Closed`]
    /// if none will ever come.
    ///
    /// ```
    /// use queuelab::{ClosableQueue, TryGetError};
    /// let q = ClosableQueue::<u8>::unbounded();
    /// assert_eq!(q.try_get(), Err(TryGetError::Empty));
    /// ```
    pub fn try_get(&self) -> Result<T, TryGetError> {
        on_flavor!(self, q => q.try_get())
    }

    /// Like [`get`](Self::get), but gives up with
    /// [`GetTimeoutError::Timeout`] when no item has arrived within
    /// `timeout`; [`GetTimeoutError::Closed`] when closed and drained. A time
    /// limit of zero never waits: it looks once, like
    /// [`try_get`](Self::try_get).
    ///
    /// ```
    /// use std::time::Duration;
    /// use queuelab::{ClosableQueue, GetTimeoutError};
    /// let q = ClosableQueue::<u8>::bounded(1);
    /// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetTimeoutError::Timeout));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetTimeoutError> {
        on_flavor!(self, q => q.get_timeout(timeout))
    }

    /// Closes the queue: from now on every put hands its item back, and
    /// every thread waiting in a put or a get is woken. Items already inside
    /// stay gettable. Idempotent: returns `true` only for the call that
    /// closed it.
    ///
    /// ```
    /// let q = queuelab::ClosableQueue::<u8>::unbounded();
    /// assert!(q.close());
    /// assert!(!q.close());
    /// assert!(q.is_closed());
    /// ```
    pub fn close(&self) -> bool {
        on_flavor!(self, q => q.close())
    }

    /// Closes the queue (as [`close`](Self::close)) and hands back every
    /// item still inside, oldest first, so nothing is lost. Those items no
    /// longer count as unfinished tasks, so a `join` waits only for the items
    /// that consumers already took.
    ///
    /// ```
    /// let q = queuelab::ClosableQueue::bounded(2);
    /// q.put(1).unwrap();
    /// q.put(2).unwrap();
    /// assert_eq!(q.close_now(), vec![1, 2]);
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// assert_eq!(q.get(), None);
    /// ```
    pub fn close_now(&self) -> Vec<T> {
        on_flavor!(self, q => q.close_now())
    }

    /// Whether [`close`](Self::close) or [`close_now`](Self::close_now) has
    /// been called. Unlike `len`, this never goes stale once it is `true`.
    ///
    /// ```
    /// let q = queuelab::ClosableQueue::<u8>::unbounded();
    /// assert!(!q.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        on_flavor!(self, q => q.is_closed())
    }

    /// How many items are inside. A snapshot: another thread may change it
    /// before the caller has read the number, so use it for reports, never
    /// to decide whether a `get` will wait.
    ///
    /// ```
    /// let q = queuelab::ClosableQueue::unbounded();
    /// q.put(()).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        on_flavor!(self, q => q.len())
    }

    /// `len() == 0`, with the same caveat: it may be stale when it returns.
    ///
    /// ```
    /// assert!(queuelab::ClosableQueue::<()>::unbounded().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        on_flavor!(self, q => q.is_empty())
    }

    /// The most items the queue holds at once; `None` when unbounded.
    ///
    /// ```
    /// assert_eq!(queuelab::ClosableQueue::<()>::bounded(3).capacity(), Some(3));
    /// assert_eq!(queuelab::ClosableQueue::<()>::unbounded().capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        on_flavor!(self, q => q.capacity())
    }

    /// Marks one task as finished: call it once for each item taken with
    /// [`get`](Self::get), [`try_get`](Self::try_get) or
    /// [`get_timeout`](Self::get_timeout), after processing it. When the
    /// count of unfinished tasks reaches zero, every `join` returns.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`], changing nothing, when every item taken with a
    /// `get` has been marked done already. This is Python's rule ("for each
    /// `get()` used to fetch a task, a subsequent call to `task_done()`"),
    /// kept more strictly than Python keeps it:
    /// - an item taken by an iterator (`for item in &q`) is marked done by
    ///   the iterator, so calling `task_done` for it is an error, not a
    ///   silent early `join`;
    /// - `task_done` before the `get` is an error too (Python allows it).
    ///
    /// The count is kept per queue, not per thread: a `task_done` called by
    /// mistake still succeeds while another thread holds an item it took
    /// with `get`, and spends that item's mark.
    ///
    /// ```
    /// let q = queuelab::ClosableQueue::unbounded();
    /// q.put("job").unwrap();
    /// let job = q.get().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1); // taken, but not yet done
    /// q.task_done().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// assert!(q.task_done().is_err());
    ///
    /// q.put("another").unwrap();
    /// q.close();
    /// for job in &q {
    ///     assert!(q.task_done().is_err()); // the loop marks `job` itself
    /// }
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        on_flavor!(self, q => q.task_done())
    }

    /// Waits until every item ever put has been marked done with
    /// [`task_done`](Self::task_done) (or by an iterator, or handed back by
    /// [`close_now`](Self::close_now)). Closing the queue does not release
    /// it: closing says no more items will come, not that the ones inside
    /// are done.
    ///
    /// ```
    /// let q = queuelab::ClosableQueue::<u8>::unbounded();
    /// q.join(); // nothing was ever put: returns at once
    /// ```
    pub fn join(&self) {
        on_flavor!(self, q => q.join())
    }

    /// How many items were put and not yet marked done: those inside plus
    /// those that consumers are working on. A snapshot, like `len`. On a
    /// bounded queue an iterator adds its marks in batches (see
    /// [`iter`](Self::iter)), so while its worker is busy the number may
    /// count items it has already finished.
    ///
    /// ```
    /// let q = queuelab::ClosableQueue::unbounded();
    /// q.put(1).unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        on_flavor!(self, q => q.unfinished_tasks())
    }

    /// An iterator that takes items as [`get`](Self::get) does until the
    /// queue is closed and drained, and marks each item done when the next
    /// one is asked for or when the iterator is dropped, also while a panic
    /// unwinds: the item a crashing worker held does not keep `join`
    /// waiting. The items still inside do, until another consumer takes
    /// them or [`close_now`](Self::close_now) hands them back; with no
    /// consumer left, `join` waits for ever. Do not call
    /// [`task_done`](Self::task_done) for an item the iterator gave you: it
    /// returns [`TaskDoneError`].
    ///
    /// On a bounded queue the iterator keeps its marks to itself and adds
    /// them to the queue's count in one go when it finds the queue empty,
    /// when the loop ends, and when it is dropped: `join` still cannot
    /// return while an item is being processed, nor wait for marks held by
    /// a worker that waits for items.
    ///
    /// ```
    /// let q = queuelab::ClosableQueue::unbounded();
    /// q.put(1).unwrap();
    /// q.put(2).unwrap();
    /// q.close();
    /// assert_eq!(q.iter().collect::<Vec<_>>(), vec![1, 2]);
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            flavor: match &self.flavor {
                Flavor::Bounded(q) => IterFlavor::Bounded(q.iter()),
                Flavor::Unbounded(q) => IterFlavor::Unbounded(q.iter()),
            },
        }
    }

    /// A guard that closes the queue when it is dropped: at the end of the
    /// block, on an early `return` or `?`, and while a panic unwinds. A
    /// producer that holds one cannot leave its consumers waiting for ever,
    /// which is what a dropped `Sender` does for a channel. Bind it to a
    /// named variable: `let _ = q.close_on_drop();` drops it, and closes the
    /// queue, at once.
    ///
    /// ```
    /// use std::{panic, thread};
    /// use queuelab::ClosableQueue;
    ///
    /// let q = ClosableQueue::bounded(2);
    /// let run = panic::catch_unwind(|| {
    ///     thread::scope(|s| {
    ///         s.spawn(|| {
    ///             let _closer = q.close_on_drop();
    ///             q.put(1).unwrap();
    ///             panic!("the producer fails half-way");
    ///         });
    ///         // The loop ends: the guard closed the queue during the panic.
    ///         assert_eq!(q.iter().collect::<Vec<_>>(), [1]);
    ///     })
    /// });
    /// assert!(run.is_err()); // and the producer's panic reaches the caller
    /// ```
    pub fn close_on_drop(&self) -> CloseOnDrop<'_, T> {
        CloseOnDrop { queue: self }
    }
}

/// Closes its queue when it is dropped; made by
/// [`ClosableQueue::close_on_drop`].
///
/// ```
/// let q = queuelab::ClosableQueue::<u8>::unbounded();
/// {
///     let _closer = q.close_on_drop();
///     assert!(!q.is_closed());
/// }
/// assert!(q.is_closed());
/// ```
#[must_use = "the queue is closed as soon as the guard is dropped"]
pub struct CloseOnDrop<'a, T> {
    queue: &'a ClosableQueue<T>,
}

impl<T> Drop for CloseOnDrop<'_, T> {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl<T> fmt::Debug for CloseOnDrop<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloseOnDrop").finish_non_exhaustive()
    }
}

/// The iterator of [`ClosableQueue::iter`] and of `for item in &queue`: the
/// iterator of the queue's flavor, which marks items done as it goes.
///
/// ```
/// let q = queuelab::ClosableQueue::unbounded();
/// q.put("a").unwrap();
/// let mut it = q.iter();
/// assert_eq!(it.next(), Some("a"));
/// drop(it); // marks "a" done
/// assert_eq!(q.unfinished_tasks(), 0);
/// ```
pub struct Iter<'a, T> {
    flavor: IterFlavor<'a, T>,
}

enum IterFlavor<'a, T> {
    Bounded(ring::Iter<'a, T>),
    Unbounded(fast::Iter<'a, T>),
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match &mut self.flavor {
            IterFlavor::Bounded(it) => it.next(),
            IterFlavor::Unbounded(it) => it.next(),
        }
    }
}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.flavor {
            IterFlavor::Bounded(it) => it.fmt(f),
            IterFlavor::Unbounded(it) => it.fmt(f),
        }
    }
}

impl<'a, T> IntoIterator for &'a ClosableQueue<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> fmt::Debug for ClosableQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The inner queue copies what it prints before it formats: no
        // formatter runs under step 5's lock.
        on_flavor!(self, q => q.fmt(f))
    }
}

impl<T: Send> Queue<T> for ClosableQueue<T> {
    fn push(&self, item: T) -> Result<(), T> {
        self.put(item).map_err(Closed::into_inner)
    }

    fn pop(&self) -> Option<T> {
        self.get()
    }

    fn try_pop(&self) -> Option<T> {
        self.try_get().ok()
    }

    fn len(&self) -> usize {
        self.len()
    }
}
