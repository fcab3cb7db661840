//! Step 6: a bounded closable queue with no lock on the fast path.
//!
//! Same methods, errors and promises as step 5
//! ([`queue::fast::ClosableQueue`](crate::queue::fast::ClosableQueue)),
//! but bounded only: there is no `unbounded()` here (step 7 will bring
//! one). The crate root's `queuelab::ClosableQueue` runs on this step when
//! it is made with `bounded(n)` ([`queue::flavor`](crate::queue::flavor)).
//!
//! **Where step 5 loses its time.** One lock guards both ends. A producer
//! and a consumer on two cores hand the lock's cache line back and forth for
//! every item, and while one holds it the other waits, even when they touch
//! different items.
//!
//! **What step 6 does.**
//! - The items live in a ring of `capacity` slots. `tail` says where the
//!   next put goes, `head` where the next get reads; each sits on a cache
//!   line of its own (`CachePadded`), so producers and consumers do not
//!   fight over one line.
//! - Each slot has a *stamp* that says whose turn it is: the producer of
//!   this lap (the slot is empty) or the consumer of this lap (the slot is
//!   full). A producer claims an empty slot by moving `tail` past it with
//!   one `compare_exchange`, writes the item, and publishes it by storing
//!   the stamp with `Release`; a consumer that loads the stamp with
//!   `Acquire` then sees the whole item. Freeing the slot after a read is
//!   the same dance the other way round. A consumer that finds a position
//!   claimed by a put still writing claims it too and waits for that put
//!   alone, so no two threads ever wait for the same one.
//! - `close` sets a bit in `tail` itself, with one `fetch_or`. A put claims
//!   its slot with a `compare_exchange` on that same word, so a put and a
//!   `close` are ordered: the put either claimed its slot first (the item is
//!   in, and gettable or handed back by `close_now`) or sees the bit and
//!   hands the item back. Never both, never neither.
//! - Nobody holds a lock to put or get. A thread that has to wait spins a
//!   little, then sleeps (`src/queue/sleepers.rs`); a put or get learns that
//!   nobody sleeps from one atomic load.
//! - `task_done`/`join` cost a put nothing: the number of items ever put is
//!   read off `tail`'s position, and `done` counts the marks. The iterator
//!   keeps its marks to itself and adds them to `done` in one go when it
//!   has to wait, when the queue is closed and drained, and when it is
//!   dropped: never while `join` could be waiting for them alone.
//!
//! This is the design of Dmitry Vyukov's bounded MPMC queue, which
//! crossbeam-channel's bounded channel also uses. `tests/loom_broken_ring.rs`
//! has four ways to get it wrong, each caught by loom.
//!
//! **Waiting.** A thread that has to wait spins a little, yields a few
//! times, then sleeps. Spinning and yielding win on an idle machine and
//! lose badly on a busy one, where a yield hands the core to another
//! program for a whole time slice; so every yield is timed, and when many
//! of them gave the core to another program (the process's CPU clock
//! tells), the waiting threads skip their yields for a while (`Patience`,
//! in `src/queue/sleepers.rs`).
//!
//! **What is still wrong.** It is bounded only, and it allocates every slot
//! when it is made.

use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::error::{
    Closed, GetTimeoutError, PutTimeoutError, TaskDoneError, TryGetError, TryPutError,
};
use crate::queue::sleepers::{Patience, Sleepers, timed_yield};
use crate::queue::{Deadline, Queue, ZERO_CAPACITY};
use crate::sync::{AtomicUsize, Backoff, Ordering, UnsafeCell};

/// A bounded FIFO queue that can be closed and tracks unfinished tasks, with
/// no lock on the fast path (step 6 of the ladder).
///
/// ```
/// use std::thread;
/// use queuelab::queue::ring::ClosableQueue;
///
/// let q = ClosableQueue::bounded(4);
/// thread::scope(|s| {
///     let worker = s.spawn(|| q.iter().sum::<i32>());
///     let _closer = q.close_on_drop();
///     for n in 1..=10 {
///         q.put(n).unwrap();
///     }
///     q.join(); // every item has been processed
///     drop(_closer);
///     assert_eq!(worker.join().unwrap(), 55);
/// });
/// ```
///
/// It is `Send` and `Sync` only when `T` is `Send`:
///
/// ```compile_fail
/// use std::rc::Rc;
/// fn shared<Q: Sync>(_: &Q) {}
/// shared(&queuelab::queue::ring::ClosableQueue::<Rc<u8>>::bounded(1));
/// ```
///
/// ```compile_fail
/// use std::rc::Rc;
/// fn sent<Q: Send>(_: Q) {}
/// sent(queuelab::queue::ring::ClosableQueue::<Rc<u8>>::bounded(1));
/// ```
// ANCHOR: struct
pub struct ClosableQueue<T> {
    /// The position of the next get.
    head: CachePadded<AtomicUsize>,
    /// The position of the next put, with the `closed` bit.
    tail: CachePadded<AtomicUsize>,
    /// Tasks marked done: by `task_done`, by iterators, and the items
    /// `close_now` handed back.
    done: CachePadded<AtomicUsize>,
    /// Items taken with `get`, `try_get` or `get_timeout` that `task_done`
    /// has not marked yet: the only ones it may mark.
    taken: CachePadded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    capacity: usize,
    /// A position is `lap | index`: `index` (below `capacity`) is the slot,
    /// and `lap` counts the turns around the ring in the bits above
    /// `closed_bit`, the bit of `tail` that says the queue is closed.
    closed_bit: usize,
    /// How much a position grows by from one lap to the next.
    one_lap: usize,
    /// Threads waiting for an item, for room, and in `join`.
    getters: Sleepers,
    putters: Sleepers,
    joiners: Sleepers,
    /// The queue drops the `T`s left in its slots (`MaybeUninit` does not
    /// say so to the drop checker).
    _owns: PhantomData<T>,
}

/// One place in the ring.
struct Slot<T> {
    /// Whose turn it is at this slot. `stamp == pos`: empty, waiting for the
    /// put at position `pos`. `stamp == pos + 1`: full, waiting for the get
    /// at `pos`, which then sets it to `pos + one_lap`, the next lap's put.
    stamp: AtomicUsize,
    item: UnsafeCell<MaybeUninit<T>>,
}
// ANCHOR_END: struct

impl<T> ClosableQueue<T> {
    /// An empty queue that holds at most `capacity` items: `put` waits while
    /// it is full. All `capacity` slots are allocated now.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0 (Python's `Queue(0)` means "unbounded", Go's and
    /// crossbeam's capacity 0 means "rendezvous"; this crate refuses to
    /// guess), or so large that its positions would not fit in a `usize`.
    ///
    /// ```
    /// let q = queuelab::queue::ring::ClosableQueue::<u32>::bounded(8);
    /// assert_eq!(q.capacity(), Some(8));
    /// ```
    ///
    /// ```should_panic
    /// let q = queuelab::queue::ring::ClosableQueue::<u32>::bounded(0); // say what you mean
    /// ```
    // ANCHOR: bounded
    pub fn bounded(capacity: usize) -> Self {
        assert!(capacity > 0, "{ZERO_CAPACITY}");
        let closed_bit = capacity
            .checked_add(1)
            .and_then(usize::checked_next_power_of_two)
            .filter(|bit| *bit <= usize::MAX / 4)
            .expect("capacity too large for the ring's positions");
        let slots = (0..capacity)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i), // lap 0: empty, waiting for put `i`
                item: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        ClosableQueue {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            done: CachePadded::new(AtomicUsize::new(0)),
            taken: CachePadded::new(AtomicUsize::new(0)),
            slots,
            capacity,
            closed_bit,
            one_lap: closed_bit * 2,
            getters: Sleepers::new(),
            putters: Sleepers::new(),
            joiners: Sleepers::new(),
            _owns: PhantomData,
        }
    }
    // ANCHOR_END: bounded

    // ANCHOR: positions
    /// The slot a position is at.
    fn index(&self, pos: usize) -> usize {
        pos & (self.closed_bit - 1)
    }

    /// The position after `pos`: the next slot, or slot 0 of the next lap.
    fn after(&self, pos: usize) -> usize {
        let index = self.index(pos);
        if index + 1 < self.capacity {
            pos + 1
        } else {
            (pos - index).wrapping_add(self.one_lap)
        }
    }

    /// How many positions come before `pos`: for `tail`, the number of
    /// items ever put; for `head`, the number ever taken.
    fn count(&self, pos: usize) -> usize {
        let lap = pos / self.one_lap; // a shift: `one_lap` is a power of two
        lap.wrapping_mul(self.capacity)
            .wrapping_add(self.index(pos))
    }

    fn slot(&self, pos: usize) -> &Slot<T> {
        &self.slots[self.index(pos)]
    }
    // ANCHOR_END: positions

    /// Claims the position at `tail` and writes `item` there, unless the
    /// queue is full or closed.
    // ANCHOR: try_push
    fn try_push(&self, item: T) -> Result<(), TryPutError<T>> {
        let backoff = Backoff::new();
        // `Acquire`: a `tail` written by another put comes with what that
        // put saw, in particular the gets that made room before it.
        let mut tail = self.tail.load(Ordering::Acquire);
        loop {
            if tail & self.closed_bit != 0 {
                return Err(TryPutError::Closed(item));
            }
            let stamp = self.slot(tail).stamp.load(Ordering::Acquire);
            let lag = stamp.wrapping_sub(tail) as isize;
            if lag > 0 {
                // Written at this lap already: another put claimed this
                // position first. Look again.
                backoff.snooze();
                tail = self.tail.load(Ordering::Acquire);
                continue;
            }
            if lag < 0 {
                // The slot still holds the lap before's item: the ring is
                // full. (A get may have claimed that item and be reading
                // it; the put can be ordered before that get, so "full" is
                // still a true answer. Claiming the slot now would make
                // this thread wait for that get, and a get for this put.)
                return Err(TryPutError::Full(item));
            }
            match self.tail.compare_exchange_weak(
                tail,
                self.after(tail),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    self.write(tail, item);
                    return Ok(());
                }
                Err(now) => {
                    tail = now;
                    backoff.spin();
                }
            }
        }
    }

    /// Writes `item` at position `pos`, which this thread has claimed
    /// after it saw the slot empty at this lap, and publishes it.
    fn write(&self, pos: usize, item: T) {
        let slot = self.slot(pos);
        // The stamp said the slot is empty at this lap: its last reader
        // published that with `Release`, and `try_push` loaded it with
        // `Acquire`.
        slot.item.with_mut(|p| {
            // SAFETY: the slot is empty (above), and claiming `pos` made
            // this thread the only one whose turn it is, until the store.
            unsafe { p.write(MaybeUninit::new(item)) }
        });
        slot.stamp.store(pos + 1, Ordering::Release);
        self.getters.notify_one();
    }
    // ANCHOR_END: try_push

    /// Claims the position at `head` and reads the item there, unless the
    /// queue is empty. A position whose put is still writing counts as an
    /// item: FIFO order says it comes before any later one, which may be in
    /// already.
    // ANCHOR: try_pop
    fn try_pop(&self) -> Result<T, TryGetError> {
        let backoff = Backoff::new();
        // `Acquire`: a `head` written by another get comes with what that
        // get saw, in particular the put of the item it took. Without it,
        // this thread could see the slot after that item empty and still
        // read a `tail` from before that put: it would wait for a put that
        // is long finished (loom finds that).
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let stamp = self.slot(head).stamp.load(Ordering::Acquire);
            let lag = stamp.wrapping_sub(head + 1) as isize;
            if lag > 0 {
                // Read at this lap already: another get claimed this
                // position first. Look again.
                backoff.snooze();
                head = self.head.load(Ordering::Acquire);
                continue;
            }
            if lag < 0 {
                // Not written at this lap: empty, unless a put has claimed
                // this position and is still writing.
                let tail = self.tail.load(Ordering::Acquire);
                if tail & !self.closed_bit == head {
                    return Err(if tail & self.closed_bit != 0 {
                        TryGetError::Closed
                    } else {
                        TryGetError::Empty
                    });
                }
            }
            match self.head.compare_exchange_weak(
                head,
                self.after(head),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(self.read(head)),
                Err(now) => {
                    head = now;
                    backoff.spin();
                }
            }
        }
    }

    /// Reads the item at position `pos`, which this thread has claimed, and
    /// hands the slot to the next lap's put. If the put of `pos` is still
    /// writing, waits for it: only this thread waits for it.
    fn read(&self, pos: usize) -> T {
        let slot = self.slot(pos);
        let backoff = Backoff::new();
        while slot.stamp.load(Ordering::Acquire) != pos + 1 {
            backoff.snooze();
        }
        // The stamp says the put of `pos` wrote this slot: it published
        // that with `Release`, and we loaded it with `Acquire`.
        let item = slot.item.with(|p| {
            // SAFETY: written (above), and claiming `pos` made this thread
            // its only reader, until the store hands the slot on.
            unsafe { p.read().assume_init() }
        });
        slot.stamp
            .store(pos.wrapping_add(self.one_lap), Ordering::Release);
        self.putters.notify_one();
        item
    }
    // ANCHOR_END: try_pop

    // ANCHOR: ready
    /// Whether a sleeping put should wake: there is room, or the queue is
    /// closed. Reads both words with a read-modify-write, for `Sleepers`.
    fn room_or_closed(&self) -> bool {
        let tail = self.tail.fetch_add(0, Ordering::AcqRel);
        let head = self.head.fetch_add(0, Ordering::AcqRel);
        tail & self.closed_bit != 0 || head.wrapping_add(self.one_lap) != tail
    }

    /// Whether a sleeping get should wake: an item is in (or being written),
    /// or the queue is closed.
    fn item_or_closed(&self) -> bool {
        let tail = self.tail.fetch_add(0, Ordering::AcqRel);
        tail & self.closed_bit != 0 || tail != self.head.load(Ordering::Relaxed)
    }
    // ANCHOR_END: ready

    /// `try_push` until it succeeds, the queue is closed, or the deadline
    /// passes: spinning first, then sleeping.
    // ANCHOR: push_waiting
    fn push_waiting(&self, mut item: T, deadline: &Deadline) -> Result<(), PutTimeoutError<T>> {
        let mut patience = Patience::new();
        loop {
            item = match self.try_push(item) {
                Ok(()) => return Ok(()),
                Err(TryPutError::Closed(item)) => return Err(PutTimeoutError::Closed(item)),
                Err(TryPutError::Full(item)) => item,
            };
            if deadline.has_passed() {
                return Err(PutTimeoutError::Timeout(item));
            }
            // Wait a little, then sleep; unless `ready` finds room by now,
            // or a get that has claimed the last item but not finished
            // reading it (nobody would wake us when it is done): then
            // yield and look again.
            if !patience.wait()
                && !self
                    .putters
                    .sleep_unless(deadline, || self.room_or_closed())
            {
                timed_yield();
            }
        }
    }
    // ANCHOR_END: push_waiting

    /// `try_pop` until it gets an item, the queue is closed and drained, or
    /// the deadline passes: spinning first, then sleeping.
    // ANCHOR: pop_waiting
    fn pop_waiting(&self, deadline: &Deadline) -> Result<T, GetTimeoutError> {
        let mut patience = Patience::new();
        loop {
            match self.try_pop() {
                Ok(item) => return Ok(item),
                Err(TryGetError::Closed) => return Err(GetTimeoutError::Closed),
                Err(TryGetError::Empty) => {}
            }
            if deadline.has_passed() {
                return Err(GetTimeoutError::Timeout);
            }
            // Wait a little, then sleep; unless `ready` finds that a put
            // has claimed a position since we looked: then look again.
            if !patience.wait() {
                self.getters
                    .sleep_unless(deadline, || self.item_or_closed());
            }
        }
    }
    // ANCHOR_END: pop_waiting

    /// Adds `item` at the back, waiting while the queue is full. Once the
    /// queue is closed, before or during the wait, the item comes back in
    /// `Err(Closed(item))`.
    ///
    /// ```
    /// use queuelab::{queue::ring::ClosableQueue, Closed};
    /// let q = ClosableQueue::bounded(2);
    /// assert_eq!(q.put(1), Ok(()));
    /// q.close();
    /// assert_eq!(q.put(2), Err(Closed(2)));
    /// ```
    pub fn put(&self, item: T) -> Result<(), Closed<T>> {
        self.push_waiting(item, &Deadline::NEVER)
            .map_err(|e| Closed(e.into_inner()))
    }

    /// Adds `item` if there is room right now and the queue is open;
    /// otherwise hands it back in [`TryPutError::Full`] or
    /// [`TryPutError::Closed`].
    ///
    /// ```
    /// use queuelab::{queue::ring::ClosableQueue, TryPutError};
    /// let q = ClosableQueue::bounded(1);
    /// assert_eq!(q.try_put('a'), Ok(()));
    /// assert_eq!(q.try_put('b'), Err(TryPutError::Full('b')));
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        self.try_push(item)
    }

    /// Like [`put`](Self::put), but gives up when no room has been made
    /// within `timeout`. The item comes back in
    /// [`PutTimeoutError::Timeout`] or [`PutTimeoutError::Closed`]. A time
    /// limit of zero never waits: it looks once, like
    /// [`try_put`](Self::try_put).
    ///
    /// ```
    /// use std::time::Duration;
    /// use queuelab::{queue::ring::ClosableQueue, PutTimeoutError};
    /// let q = ClosableQueue::bounded(1);
    /// q.put(1).unwrap();
    /// assert_eq!(q.put_timeout(2, Duration::from_millis(1)), Err(PutTimeoutError::Timeout(2)));
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutTimeoutError<T>> {
        self.push_waiting(item, &Deadline::after(timeout))
    }

    /// Takes the item at the front, waiting until there is one. `None`
    /// only when the queue is closed **and** drained: items put before
    /// `close` are still handed out.
    ///
    /// ```
    /// let q = queuelab::queue::ring::ClosableQueue::bounded(1);
    /// q.put('a').unwrap();
    /// q.close();
    /// assert_eq!(q.get(), Some('a'));
    /// assert_eq!(q.get(), None);
    /// ```
    pub fn get(&self) -> Option<T> {
        let item = self.pop_waiting(&Deadline::NEVER).ok()?;
        self.taken.fetch_add(1, Ordering::Relaxed); // for `task_done`
        Some(item)
    }

    /// Takes the item at the front without waiting for one:
    /// [`TryGetError::Empty`] if there is none yet, [`TryGetError::Closed`]
    /// if none will ever come. If a put has claimed the front position and
    /// is still writing its item, it waits for that put to finish.
    ///
    /// ```
    /// use queuelab::{queue::ring::ClosableQueue, TryGetError};
    /// let q = ClosableQueue::<u8>::bounded(1);
    /// assert_eq!(q.try_get(), Err(TryGetError::Empty));
    /// ```
    pub fn try_get(&self) -> Result<T, TryGetError> {
        let item = self.try_pop()?;
        self.taken.fetch_add(1, Ordering::Relaxed);
        Ok(item)
    }

    /// Like [`get`](Self::get), but gives up with
    /// [`GetTimeoutError::Timeout`] when no item has arrived within
    /// `timeout`; [`GetTimeoutError::Closed`] when closed and drained. A time
    /// limit of zero never waits: it looks once, like
    /// [`try_get`](Self::try_get).
    ///
    /// ```
    /// use std::time::Duration;
    /// use queuelab::{queue::ring::ClosableQueue, GetTimeoutError};
    /// let q = ClosableQueue::<u8>::bounded(1);
    /// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetTimeoutError::Timeout));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetTimeoutError> {
        let item = self.pop_waiting(&Deadline::after(timeout))?;
        self.taken.fetch_add(1, Ordering::Relaxed);
        Ok(item)
    }

    /// Closes the queue: from now on every put hands its item back, and
    /// every thread waiting in a put or a get is woken. Items already inside
    /// stay gettable. Idempotent: returns `true` only for the call that
    /// closed it.
    ///
    /// ```
    /// let q = queuelab::queue::ring::ClosableQueue::<u8>::bounded(1);
    /// assert!(q.close());
    /// assert!(!q.close());
    /// assert!(q.is_closed());
    /// ```
    // ANCHOR: close
    pub fn close(&self) -> bool {
        let before = self.tail.fetch_or(self.closed_bit, Ordering::AcqRel);
        if before & self.closed_bit != 0 {
            return false;
        }
        self.getters.notify_all();
        self.putters.notify_all();
        true
    }
    // ANCHOR_END: close

    /// Closes the queue (as [`close`](Self::close)) and hands back every
    /// item still inside, oldest first, so nothing is lost; an item whose
    /// put is still writing it is waited for and handed back too. Those
    /// items no longer count as unfinished tasks, so a `join` waits only for
    /// the items that consumers already took.
    ///
    /// ```
    /// let q = queuelab::queue::ring::ClosableQueue::bounded(2);
    /// q.put(1).unwrap();
    /// q.put(2).unwrap();
    /// assert_eq!(q.close_now(), vec![1, 2]);
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// assert_eq!(q.get(), None);
    /// ```
    // ANCHOR: close_now
    pub fn close_now(&self) -> Vec<T> {
        self.close();
        let mut items = Vec::new();
        // Closed: `try_pop` ends once every claimed slot has been read,
        // by us or by another get.
        while let Ok(item) = self.try_pop() {
            items.push(item);
        }
        self.mark_done(items.len());
        items
    }
    // ANCHOR_END: close_now

    /// Whether [`close`](Self::close) or [`close_now`](Self::close_now) has
    /// been called. Unlike `len`, this never goes stale once it is `true`.
    ///
    /// ```
    /// let q = queuelab::queue::ring::ClosableQueue::<u8>::bounded(1);
    /// assert!(!q.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.tail.load(Ordering::Acquire) & self.closed_bit != 0
    }

    /// How many items are inside (counting puts still writing theirs). A
    /// snapshot: another thread may change it before the caller has read
    /// the number, so use it for reports, never to decide whether a `get`
    /// will wait.
    ///
    /// ```
    /// let q = queuelab::queue::ring::ClosableQueue::bounded(2);
    /// q.put(()).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        // `head` first: every get it counts claimed a position that a put
        // had claimed before, so the `tail` read after it counts that put
        // too, and the difference is never negative.
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire) & !self.closed_bit;
        let len = self.count(tail).wrapping_sub(self.count(head));
        len.min(self.capacity)
    }

    /// `len() == 0`, with the same caveat: it may be stale when it returns.
    ///
    /// ```
    /// assert!(queuelab::queue::ring::ClosableQueue::<()>::bounded(1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most items the queue holds at once: always `Some` here (the
    /// same signature as the steps that can be unbounded).
    ///
    /// ```
    /// assert_eq!(queuelab::queue::ring::ClosableQueue::<()>::bounded(3).capacity(), Some(3));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        Some(self.capacity)
    }

    /// Adds `n` marks to `done` and wakes the joiners if that finished
    /// every task.
    // ANCHOR: mark_done
    fn mark_done(&self, n: usize) {
        if n > 0 {
            self.done.fetch_add(n, Ordering::AcqRel);
            self.joiners.notify_all();
        }
    }
    // ANCHOR_END: mark_done

    /// Marks one task as finished: call it once for each item taken with
    /// [`get`](Self::get), [`try_get`](Self::try_get) or
    /// [`get_timeout`](Self::get_timeout), after processing it. When the
    /// count of unfinished tasks reaches zero, every `join` returns.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`], changing nothing, when every item taken with a
    /// `get` has been marked done already: `task_done` before the `get`, a
    /// `task_done` too many, or one for an item that an iterator handed out
    /// (the iterator marks those itself). As in steps 4 and 5, the count is
    /// kept per queue, not per thread.
    ///
    /// ```
    /// let q = queuelab::queue::ring::ClosableQueue::bounded(2);
    /// q.put("job").unwrap();
    /// let job = q.get().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1); // taken, but not yet done
    /// q.task_done().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// assert!(q.task_done().is_err());
    /// ```
    // ANCHOR: task_done
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| n.checked_sub(1))
            .map_err(|_| TaskDoneError)?;
        self.mark_done(1);
        Ok(())
    }
    // ANCHOR_END: task_done

    /// Items ever put minus tasks marked done. `done` is read first, with a
    /// read-modify-write (for `Sleepers`): every item it counts was put
    /// before it was marked, so the `tail` read after it counts that put
    /// too, and the difference never goes below zero.
    // ANCHOR: unfinished
    fn unfinished(&self) -> usize {
        let done = self.done.fetch_add(0, Ordering::AcqRel);
        let tail = self.tail.load(Ordering::Acquire) & !self.closed_bit;
        self.count(tail).wrapping_sub(done)
    }
    // ANCHOR_END: unfinished

    /// Waits until every item ever put has been marked done with
    /// [`task_done`](Self::task_done) (or by an iterator, or handed back by
    /// [`close_now`](Self::close_now)). Closing the queue does not release
    /// it.
    ///
    /// ```
    /// let q = queuelab::queue::ring::ClosableQueue::<u8>::bounded(1);
    /// q.join(); // nothing was ever put: returns at once
    /// ```
    // ANCHOR: join
    pub fn join(&self) {
        while self.unfinished() != 0 {
            self.joiners
                .sleep_unless(&Deadline::NEVER, || self.unfinished() == 0);
        }
    }
    // ANCHOR_END: join

    /// How many items were put and not yet marked done: those inside plus
    /// those that consumers are working on. A snapshot, like `len`; and an
    /// iterator adds its marks in batches (see [`iter`](Self::iter)), so
    /// while its worker is busy the number may count items it has already
    /// finished.
    ///
    /// ```
    /// let q = queuelab::queue::ring::ClosableQueue::bounded(1);
    /// q.put(1).unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.unfinished()
    }

    /// An iterator that takes items as [`get`](Self::get) does until the
    /// queue is closed and drained. It marks each item done once the next
    /// one is asked for, or the iterator is dropped, also while a panic
    /// unwinds; and it keeps those marks to itself and adds them to the
    /// queue's count in one go when it finds the queue empty, when the loop
    /// ends, and when it is dropped. So `join` cannot return while an item
    /// is being processed, and cannot wait for marks held by a worker that
    /// sleeps. As in step 5, the items still inside keep `join` waiting
    /// until a consumer takes them or [`close_now`](Self::close_now) hands
    /// them back. Do not call [`task_done`](Self::task_done) for an item the
    /// iterator gave you: it returns [`TaskDoneError`].
    ///
    /// ```
    /// let q = queuelab::queue::ring::ClosableQueue::bounded(2);
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
            finished: 0,
        }
    }

    /// A guard that closes the queue when it is dropped: at the end of the
    /// block, on an early `return` or `?`, and while a panic unwinds.
    /// Bind it to a named variable: `let _ = q.close_on_drop();` drops it,
    /// and closes the queue, at once.
    ///
    /// ```
    /// let q = queuelab::queue::ring::ClosableQueue::<u8>::bounded(1);
    /// {
    ///     let _closer = q.close_on_drop();
    ///     assert!(!q.is_closed());
    /// }
    /// assert!(q.is_closed());
    /// ```
    pub fn close_on_drop(&self) -> CloseOnDrop<'_, T> {
        CloseOnDrop { queue: self }
    }
}

/// The iterator of [`ClosableQueue::iter`] and of `for item in &queue`.
///
/// ```
/// let q = queuelab::queue::ring::ClosableQueue::bounded(1);
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
    /// Items finished and not yet added to the queue's `done`.
    finished: usize,
}

impl<T> Iter<'_, T> {
    // ANCHOR: publish
    /// Adds the marks this iterator kept to the queue's count.
    fn publish(&mut self) {
        self.finished += usize::from(std::mem::take(&mut self.holding));
        self.queue.mark_done(std::mem::take(&mut self.finished));
    }
    // ANCHOR_END: publish
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    // ANCHOR: iter_next
    fn next(&mut self) -> Option<T> {
        self.finished += usize::from(std::mem::take(&mut self.holding));
        let item = match self.queue.try_pop() {
            Ok(item) => item,
            Err(_) => {
                // About to wait, or the end: nobody may wait for our marks.
                self.publish();
                self.queue.pop_waiting(&Deadline::NEVER).ok()?
            }
        };
        self.holding = true;
        Some(item)
    }
    // ANCHOR_END: iter_next
}

impl<T> Drop for Iter<'_, T> {
    fn drop(&mut self) {
        self.publish();
    }
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

/// Closes its queue when it is dropped; made by
/// [`ClosableQueue::close_on_drop`].
///
/// ```
/// let q = queuelab::queue::ring::ClosableQueue::<u8>::bounded(1);
/// drop(q.close_on_drop());
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

impl<T> Drop for ClosableQueue<T> {
    // ANCHOR: drop
    fn drop(&mut self) {
        // `&mut self`: no other thread can touch the queue, and every put
        // has finished writing. The items are in the slots from `head` to
        // `tail`.
        let tail = self.tail.load(Ordering::Relaxed) & !self.closed_bit;
        let mut head = self.head.load(Ordering::Relaxed);
        while head != tail {
            // A slot between `head` and `tail` holds an item that was
            // written and not read: the queue owns it.
            self.slot(head).item.with_mut(|p| {
                // SAFETY: written and not read (above); dropped once, as
                // `head` moves past it.
                unsafe { (*p).assume_init_drop() }
            });
            head = self.after(head);
        }
    }
    // ANCHOR_END: drop
}

impl<T> fmt::Debug for ClosableQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClosableQueue")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .field("unfinished", &self.unfinished_tasks())
            .finish_non_exhaustive()
    }
}

// SAFETY: the queue moves items of type `T` from the threads that put them
// to the threads that get them, so it may be shared or sent between threads
// only when `T` may be sent. Every access to a slot's item is made exclusive
// by the slot's stamp (see `try_push` and `try_pop`).
unsafe impl<T: Send> Send for ClosableQueue<T> {}
// SAFETY: as for `Send`.
unsafe impl<T: Send> Sync for ClosableQueue<T> {}

// No lock at all, and no user code runs inside a method, but for the `Drop`
// of the queue itself: a panic cannot leave the queue half-changed.
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
