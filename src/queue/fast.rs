//! Step 5: the closable queue of step 4, made fast.
//!
//! Same methods, errors and promises as step 4
//! ([`queue::closable::ClosableQueue`](crate::queue::closable::ClosableQueue)):
//! FIFO, no item lost, `close`/`close_now`, `task_done`/`join`, iteration
//! that ends; `UnwindSafe` for the same reason. Only how a thread waits has
//! changed, and `diff src/queue/closable.rs src/queue/fast.rs` shows all of
//! it. Until step 7 exists, the crate root's `queuelab::ClosableQueue` runs
//! on this step when it is made with `unbounded()`
//! ([`queue::flavor`](crate::queue::flavor)).
//!
//! **Where step 4 loses its time.** Not in the lock: in sleeping. Whenever a
//! consumer finds the queue empty, or a producer finds it full, step 4 goes
//! to sleep on a condition variable at once. Sleeping and being woken cost
//! system calls and context switches, microseconds each, while the other
//! thread is usually a few hundred nanoseconds away from bringing the item or
//! making room. With capacity 64 that happens for most items, and step 4
//! took many times crossbeam-channel's time in the benches (chapter 9 of the
//! book has the numbers).
//!
//! **What step 5 does.**
//! - Before it sleeps, a thread lets go of the lock and waits a little with
//!   crossbeam-utils' `Backoff` (spin, then yield), and sleeps only once
//!   `Backoff` is completed. crossbeam-channel waits the same way. This is
//!   almost all of the gain.
//! - While it waits, it watches `changes`, a counter that every put, get and
//!   close bumps under the lock, instead of taking the lock again and again;
//!   the counter sits on its own cache line (`CachePadded`), so the watchers
//!   do not pull the lock's line away from the thread that holds it.
//! - `Iter::next` marks the previous item done and takes the next one under
//!   one lock instead of two.
//! - Tried and dropped: counting sleeping threads so that a put or get
//!   notifies only when someone sleeps. parking_lot's `notify_one` already
//!   returns after one atomic load when nobody waits: no gain measured.
//!
//! The numbers, change by change, and the commands that measured them are
//! in chapter 9 of the book (`book/src/ch09-fast.md`, measured with
//! `scripts/fast_steps.sh`).
//!
//! **What is still wrong.** A waiting thread burns a few microseconds of CPU
//! before it sleeps. And one lock still guards both ends: a producer and a
//! consumer on two cores hand the lock's cache line back and forth for
//! every item. crossbeam-channel's bounded channel takes no lock on that
//! path (a ring of slots, each with its own stamp, claimed with one atomic
//! operation), and a lock-based queue does not catch up with it there.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::error::{
    Closed, GetTimeoutError, PutTimeoutError, TaskDoneError, TryGetError, TryPutError,
};
use crate::queue::{Deadline, Queue, ZERO_CAPACITY};
use crate::sync::{AtomicUsize, Backoff, Condvar, Mutex, MutexGuard, Ordering};

/// A FIFO queue, bounded or not, that can be closed and tracks unfinished
/// tasks (step 5 of the ladder: step 4, made fast).
///
/// ```
/// use std::thread;
/// use queuelab::queue::fast::ClosableQueue;
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
// ANCHOR: struct
pub struct ClosableQueue<T> {
    state: Mutex<State<T>>,
    /// Bumped under the lock whenever `items` or `closed` change, so that a
    /// thread spinning before it sleeps can watch for a change without
    /// taking the lock. On a cache line of its own, so that spinning
    /// threads reading it do not pull the lock's line away from its holder.
    changes: CachePadded<AtomicUsize>,
    not_empty: Condvar,
    not_full: Condvar,
    all_done: Condvar,
    capacity: Option<usize>,
}

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
    unfinished: usize,
    /// Items handed out by `get`, `try_get` and `get_timeout` that
    /// `task_done` has not marked yet: the only ones it may mark. An
    /// iterator marks its own items, so they are not counted here.
    taken: usize,
}
// ANCHOR_END: struct

impl<T> ClosableQueue<T> {
    // ANCHOR: with_capacity
    fn with_capacity(capacity: Option<usize>) -> Self {
        ClosableQueue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity.unwrap_or(0).min(1024)),
                closed: false,
                unfinished: 0,
                taken: 0,
            }),
            changes: CachePadded::new(AtomicUsize::new(0)),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            all_done: Condvar::new(),
            capacity,
        }
    }
    // ANCHOR_END: with_capacity

    /// An empty queue with no bound: `put` never waits.
    ///
    /// ```
    /// let q = queuelab::queue::fast::ClosableQueue::<u32>::unbounded();
    /// assert_eq!(q.capacity(), None);
    /// ```
    pub fn unbounded() -> Self {
        Self::with_capacity(None)
    }

    /// An empty queue that holds at most `capacity` items: `put` waits while
    /// it is full.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0. Python's `Queue(0)` means "unbounded", Go's and
    /// crossbeam's capacity 0 means "rendezvous"; this crate refuses to guess.
    ///
    /// ```
    /// let q = queuelab::queue::fast::ClosableQueue::<u32>::bounded(8);
    /// assert_eq!(q.capacity(), Some(8));
    /// ```
    ///
    /// ```should_panic
    /// let q = queuelab::queue::fast::ClosableQueue::<u32>::bounded(0); // panics: say what you mean
    /// ```
    // ANCHOR: bounded
    pub fn bounded(capacity: usize) -> Self {
        assert!(capacity > 0, "{ZERO_CAPACITY}");
        Self::with_capacity(Some(capacity))
    }
    // ANCHOR_END: bounded

    // ANCHOR: is_full
    fn is_full(&self, state: &State<T>) -> bool {
        self.capacity.is_some_and(|cap| state.items.len() >= cap)
    }
    // ANCHOR_END: is_full

    /// Before a thread sleeps on a condition variable, it lets go of the
    /// lock and waits a little with crossbeam-utils' `Backoff` (spinning,
    /// then yielding) for `changes` to move, and then looks again under the
    /// lock: a sleep and a wake-up cost system calls and context switches,
    /// and the thread it waits for is often about to make room or bring an
    /// item. Returns with the lock held and `ready` true, or once `Backoff`
    /// says that waiting longer is better done asleep, or once the deadline
    /// has passed (at once for a time limit of zero).
    // ANCHOR: spin_until
    fn spin_until(
        &self,
        state: &mut MutexGuard<'_, State<T>>,
        deadline: &Deadline,
        ready: impl Fn(&State<T>) -> bool,
    ) {
        let backoff = Backoff::new();
        let give_up = || backoff.is_completed() || deadline.has_passed();
        while !ready(state) && !give_up() {
            let seen = self.changes.load(Ordering::Relaxed);
            MutexGuard::unlocked(state, || {
                while self.changes.load(Ordering::Relaxed) == seen && !give_up() {
                    backoff.snooze();
                    #[cfg(test)]
                    tests::SNOOZES.with(|n| n.set(n.get() + 1));
                }
            });
        }
    }

    /// Records a change to `items` or `closed`; called with the lock held,
    /// so a plain load and store suffice.
    fn changed(&self) {
        let n = self.changes.load(Ordering::Relaxed);
        self.changes.store(n.wrapping_add(1), Ordering::Relaxed);
    }
    // ANCHOR_END: spin_until

    /// Appends under the lock the caller holds, counts the new task and
    /// wakes one consumer.
    // ANCHOR: push_locked
    fn push_locked(&self, state: &mut MutexGuard<'_, State<T>>, item: T) {
        state.items.push_back(item);
        state.unfinished += 1;
        self.changed();
        self.not_empty.notify_one();
    }
    // ANCHOR_END: push_locked

    /// Pops under the lock the caller holds and wakes one producer.
    // ANCHOR: pop_locked
    fn pop_locked(&self, state: &mut MutexGuard<'_, State<T>>) -> Option<T> {
        let item = state.items.pop_front()?;
        self.changed();
        if self.capacity.is_some() {
            self.not_full.notify_one();
        }
        Some(item)
    }
    // ANCHOR_END: pop_locked

    /// Adds `item` at the back, sleeping while the queue is full. Once the
    /// queue is closed, before or during the wait, the item comes back in
    /// `Err(Closed(item))`.
    ///
    /// ```
    /// use queuelab::{queue::fast::ClosableQueue, Closed};
    /// let q = ClosableQueue::unbounded();
    /// assert_eq!(q.put(1), Ok(()));
    /// q.close();
    /// assert_eq!(q.put(2), Err(Closed(2)));
    /// ```
    // ANCHOR: put
    pub fn put(&self, item: T) -> Result<(), Closed<T>> {
        let mut state = self.state.lock();
        self.spin_until(&mut state, &Deadline::NEVER, |s| {
            s.closed || !self.is_full(s)
        });
        while !state.closed && self.is_full(&state) {
            self.not_full.wait(&mut state);
        }
        if state.closed {
            return Err(Closed(item));
        }
        self.push_locked(&mut state, item);
        Ok(())
    }
    // ANCHOR_END: put

    /// Adds `item` if there is room right now and the queue is open;
    /// otherwise hands it back in [`TryPutError::Full`] or
    /// [`TryPutError::Closed`].
    ///
    /// ```
    /// use queuelab::{queue::fast::ClosableQueue, TryPutError};
    /// let q = ClosableQueue::bounded(1);
    /// assert_eq!(q.try_put('a'), Ok(()));
    /// assert_eq!(q.try_put('b'), Err(TryPutError::Full('b')));
    /// ```
    // ANCHOR: try_put
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(TryPutError::Closed(item));
        }
        if self.is_full(&state) {
            return Err(TryPutError::Full(item));
        }
        self.push_locked(&mut state, item);
        Ok(())
    }
    // ANCHOR_END: try_put

    /// Like [`put`](Self::put), but gives up when no room has been made
    /// within `timeout`. The item comes back in
    /// [`PutTimeoutError::Timeout`] or [`PutTimeoutError::Closed`]. A time
    /// limit of zero never waits: it looks once, like
    /// [`try_put`](Self::try_put).
    ///
    /// ```
    /// use std::time::Duration;
    /// use queuelab::{queue::fast::ClosableQueue, PutTimeoutError};
    /// let q = ClosableQueue::bounded(1);
    /// q.put(1).unwrap();
    /// assert_eq!(q.put_timeout(2, Duration::from_millis(1)), Err(PutTimeoutError::Timeout(2)));
    /// ```
    // ANCHOR: put_timeout
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutTimeoutError<T>> {
        let deadline = Deadline::after(timeout);
        let mut state = self.state.lock();
        self.spin_until(&mut state, &deadline, |s| s.closed || !self.is_full(s));
        while !state.closed && self.is_full(&state) {
            if deadline.wait(&self.not_full, &mut state) && !state.closed && self.is_full(&state) {
                return Err(PutTimeoutError::Timeout(item));
            }
        }
        if state.closed {
            return Err(PutTimeoutError::Closed(item));
        }
        self.push_locked(&mut state, item);
        Ok(())
    }
    // ANCHOR_END: put_timeout

    /// Takes the item at the front, sleeping until there is one. `None`
    /// only when the queue is closed **and** drained: items put before
    /// `close` are still handed out.
    ///
    /// ```
    /// let q = queuelab::queue::fast::ClosableQueue::unbounded();
    /// q.put('a').unwrap();
    /// q.close();
    /// assert_eq!(q.get(), Some('a'));
    /// assert_eq!(q.get(), None);
    /// ```
    // ANCHOR: get
    pub fn get(&self) -> Option<T> {
        let mut state = self.state.lock();
        let item = self.wait_and_pop(&mut state)?;
        state.taken += 1; // for `task_done`
        Some(item)
    }
    // ANCHOR_END: get

    /// Waits until there is an item or the queue is closed, and pops. Both
    /// [`get`](Self::get) and [`Iter::next`] use it; only `get` counts the
    /// item as taken for `task_done`.
    // ANCHOR: wait_and_pop
    fn wait_and_pop(&self, state: &mut MutexGuard<'_, State<T>>) -> Option<T> {
        self.spin_until(state, &Deadline::NEVER, |s| s.closed || !s.items.is_empty());
        loop {
            if let Some(item) = self.pop_locked(state) {
                return Some(item);
            }
            if state.closed {
                return None;
            }
            self.not_empty.wait(state);
        }
    }
    // ANCHOR_END: wait_and_pop

    /// Takes the item at the front without waiting:
    /// [`TryGetError::Empty`] if there is none yet, [`TryGetError::Closed`]
    /// if none will ever come.
    ///
    /// ```
    /// use queuelab::{queue::fast::ClosableQueue, TryGetError};
    /// let q = ClosableQueue::<u8>::unbounded();
    /// assert_eq!(q.try_get(), Err(TryGetError::Empty));
    /// ```
    // ANCHOR: try_get
    pub fn try_get(&self) -> Result<T, TryGetError> {
        let mut state = self.state.lock();
        match self.pop_locked(&mut state) {
            Some(item) => {
                state.taken += 1;
                Ok(item)
            }
            None if state.closed => Err(TryGetError::Closed),
            None => Err(TryGetError::Empty),
        }
    }
    // ANCHOR_END: try_get

    /// Like [`get`](Self::get), but gives up with
    /// [`GetTimeoutError::Timeout`] when no item has arrived within
    /// `timeout`; [`GetTimeoutError::Closed`] when closed and drained. A time
    /// limit of zero never waits: it looks once, like
    /// [`try_get`](Self::try_get).
    ///
    /// ```
    /// use std::time::Duration;
    /// use queuelab::{queue::fast::ClosableQueue, GetTimeoutError};
    /// let q = ClosableQueue::<u8>::bounded(1);
    /// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetTimeoutError::Timeout));
    /// ```
    // ANCHOR: get_timeout
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetTimeoutError> {
        let deadline = Deadline::after(timeout);
        let mut state = self.state.lock();
        self.spin_until(&mut state, &deadline, |s| s.closed || !s.items.is_empty());
        loop {
            if let Some(item) = self.pop_locked(&mut state) {
                state.taken += 1;
                return Ok(item);
            }
            if state.closed {
                return Err(GetTimeoutError::Closed);
            }
            if deadline.wait(&self.not_empty, &mut state) && state.items.is_empty() && !state.closed
            {
                return Err(GetTimeoutError::Timeout);
            }
        }
    }
    // ANCHOR_END: get_timeout

    /// Closes the queue: from now on every put hands its item back, and
    /// every thread sleeping in a put or a get is woken. Items already inside
    /// stay gettable. Idempotent: returns `true` only for the call that
    /// closed it.
    ///
    /// ```
    /// let q = queuelab::queue::fast::ClosableQueue::<u8>::unbounded();
    /// assert!(q.close());
    /// assert!(!q.close());
    /// assert!(q.is_closed());
    /// ```
    // ANCHOR: close
    pub fn close(&self) -> bool {
        let mut state = self.state.lock();
        if state.closed {
            return false;
        }
        state.closed = true;
        self.changed();
        self.not_empty.notify_all();
        self.not_full.notify_all();
        true
    }
    // ANCHOR_END: close

    /// Closes the queue (as [`close`](Self::close)) and hands back every
    /// item still inside, oldest first, so nothing is lost. Those items no
    /// longer count as unfinished tasks, so a `join` waits only for the items
    /// that consumers already took.
    ///
    /// ```
    /// let q = queuelab::queue::fast::ClosableQueue::unbounded();
    /// q.put(1).unwrap();
    /// q.put(2).unwrap();
    /// assert_eq!(q.close_now(), vec![1, 2]);
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// assert_eq!(q.get(), None);
    /// ```
    // ANCHOR: close_now
    pub fn close_now(&self) -> Vec<T> {
        let mut state = self.state.lock();
        state.closed = true;
        self.changed();
        let items: Vec<T> = state.items.drain(..).collect();
        state.unfinished -= items.len();
        if state.unfinished == 0 {
            self.all_done.notify_all();
        }
        self.not_empty.notify_all();
        self.not_full.notify_all();
        items
    }
    // ANCHOR_END: close_now

    /// Whether [`close`](Self::close) or [`close_now`](Self::close_now) has
    /// been called. Unlike `len`, this never goes stale once it is `true`.
    ///
    /// ```
    /// let q = queuelab::queue::fast::ClosableQueue::<u8>::unbounded();
    /// assert!(!q.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// How many items are inside. A snapshot: another thread may change it
    /// before the caller has read the number, so use it for reports, never
    /// to decide whether a `get` will wait (Python's `qsize()` is a
    /// snapshot too).
    ///
    /// ```
    /// let q = queuelab::queue::fast::ClosableQueue::unbounded();
    /// q.put(()).unwrap();
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
    /// assert!(queuelab::queue::fast::ClosableQueue::<()>::unbounded().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most items the queue holds at once; `None` when unbounded.
    ///
    /// ```
    /// assert_eq!(queuelab::queue::fast::ClosableQueue::<()>::bounded(3).capacity(), Some(3));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.capacity
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
    /// let q = queuelab::queue::fast::ClosableQueue::unbounded();
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
    // ANCHOR: task_done
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut state = self.state.lock();
        if state.taken == 0 {
            return Err(TaskDoneError);
        }
        state.taken -= 1;
        self.finish_locked(&mut state);
        Ok(())
    }
    // ANCHOR_END: task_done

    /// Marks one task done under the lock the caller holds, and wakes every
    /// `join` if it was the last.
    // ANCHOR: finish_locked
    fn finish_locked(&self, state: &mut MutexGuard<'_, State<T>>) {
        state.unfinished -= 1;
        if state.unfinished == 0 {
            self.all_done.notify_all();
        }
    }
    // ANCHOR_END: finish_locked

    /// Sleeps until every item ever put has been marked done with
    /// [`task_done`](Self::task_done) (or handed back by
    /// [`close_now`](Self::close_now)). Closing the queue does not release
    /// it: closing says no more items will come, not that the ones inside
    /// are done.
    ///
    /// ```
    /// let q = queuelab::queue::fast::ClosableQueue::<u8>::unbounded();
    /// q.join(); // nothing was ever put: returns at once
    /// ```
    // ANCHOR: join
    pub fn join(&self) {
        let mut state = self.state.lock();
        while state.unfinished > 0 {
            self.all_done.wait(&mut state);
        }
    }
    // ANCHOR_END: join

    /// How many items were put and not yet marked done: those inside plus
    /// those that consumers are working on.
    ///
    /// ```
    /// let q = queuelab::queue::fast::ClosableQueue::unbounded();
    /// q.put(1).unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.state.lock().unfinished
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
    /// ```
    /// let q = queuelab::queue::fast::ClosableQueue::unbounded();
    /// q.put(1).unwrap();
    /// q.put(2).unwrap();
    /// q.close();
    /// assert_eq!(q.iter().collect::<Vec<_>>(), vec![1, 2]);
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            queue: self,
            holding: false,
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
    /// use queuelab::queue::fast::ClosableQueue;
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
    // ANCHOR: close_on_drop
    pub fn close_on_drop(&self) -> CloseOnDrop<'_, T> {
        CloseOnDrop { queue: self }
    }
    // ANCHOR_END: close_on_drop
}

/// Closes its queue when it is dropped; made by
/// [`ClosableQueue::close_on_drop`].
///
/// ```
/// let q = queuelab::queue::fast::ClosableQueue::<u8>::unbounded();
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

/// The iterator of [`ClosableQueue::iter`] and of `for item in &queue`.
///
/// ```
/// let q = queuelab::queue::fast::ClosableQueue::unbounded();
/// q.put("a").unwrap();
/// let mut it = q.iter();
/// assert_eq!(it.next(), Some("a"));
/// drop(it); // marks "a" done
/// assert_eq!(q.unfinished_tasks(), 0);
/// ```
pub struct Iter<'a, T> {
    queue: &'a ClosableQueue<T>,
    /// The last item handed out has not been marked done yet.
    holding: bool,
}

impl<T> Iter<'_, T> {
    // ANCHOR: finish_held
    fn finish_held(&mut self) {
        if std::mem::take(&mut self.holding) {
            self.queue.finish_locked(&mut self.queue.state.lock());
        }
    }
    // ANCHOR_END: finish_held
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    // ANCHOR: iter_next
    fn next(&mut self) -> Option<T> {
        // One lock for both: mark the last item done, then get the next.
        let mut state = self.queue.state.lock();
        if std::mem::take(&mut self.holding) {
            self.queue.finish_locked(&mut state);
        }
        let item = self.queue.wait_and_pop(&mut state)?;
        self.holding = true;
        Some(item)
    }
    // ANCHOR_END: iter_next
}

impl<T> Drop for Iter<'_, T> {
    // ANCHOR: iter_drop
    fn drop(&mut self) {
        self.finish_held();
    }
    // ANCHOR_END: iter_drop
}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("holding", &self.holding)
            .finish_non_exhaustive()
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
        // Copy under the lock, format after: the formatter runs user code
        // (the writer), which may block or use this queue.
        let (len, closed, unfinished) = {
            let state = self.state.lock();
            (state.items.len(), state.closed, state.unfinished)
        };
        f.debug_struct("ClosableQueue")
            .field("len", &len)
            .field("capacity", &self.capacity)
            .field("closed", &closed)
            .field("unfinished", &unfinished)
            .finish_non_exhaustive()
    }
}

// No user code runs while the lock is held (the lock only guards `VecDeque`
// operations and counters), so a panic can never leave the queue
// half-changed.
impl<T> UnwindSafe for ClosableQueue<T> {}
impl<T> RefUnwindSafe for ClosableQueue<T> {}

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

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::Duration;

    use super::ClosableQueue;
    use crate::{GetTimeoutError, PutTimeoutError};

    thread_local! {
        /// How many times this thread has snoozed in `spin_until`.
        pub(super) static SNOOZES: Cell<u64> = const { Cell::new(0) };
    }

    /// A time limit of zero looks once and never spins.
    #[test]
    fn timed_operations_with_a_zero_limit_do_not_spin() {
        let q = ClosableQueue::bounded(1);
        assert_eq!(q.get_timeout(Duration::ZERO), Err(GetTimeoutError::Timeout));
        q.put(1).unwrap();
        assert_eq!(
            q.put_timeout(2, Duration::ZERO),
            Err(PutTimeoutError::Timeout(2))
        );
        assert_eq!(SNOOZES.get(), 0, "a time limit of zero spun");
        // The count works: a wait with time to spare spins before it sleeps.
        let empty = ClosableQueue::<u8>::unbounded();
        let limit = Duration::from_millis(200);
        assert_eq!(empty.get_timeout(limit), Err(GetTimeoutError::Timeout));
        assert!(SNOOZES.get() > 0);
    }
}
