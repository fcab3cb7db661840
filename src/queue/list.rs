//! Step 7: an unbounded closable queue with no lock on the fast path.
//!
//! Same methods, errors and promises as step 6
//! ([`queue::ring::ClosableQueue`](crate::queue::ring::ClosableQueue)),
//! but unbounded only: `put` never waits for room, `try_put` never reports
//! `Full`, and `capacity()` is `None`.
//!
//! **Why unbounded is harder.** A ring is allocated once and freed when the
//! queue is dropped. An unbounded queue must take memory as it grows and
//! give it back as items are consumed, while other threads may still be
//! reading it, with no garbage collector and no lock to say "nobody is
//! looking".
//!
//! **What step 7 does.**
//! - The items live in a linked list of *blocks* of `BLOCK` slots each.
//!   A position counts the places in the list: block `n` has the positions
//!   `n * SPAN` to `n * SPAN + BLOCK - 1`, and one more, `n * SPAN + BLOCK`,
//!   the *gap*, which no item ever takes (`SPAN = BLOCK + 1`).
//! - `tail` is the position of the next put (shifted left by one, with the
//!   `closed` bit below it, as in step 6); `tail_block` is the block it is
//!   in. A producer claims a position with one `compare_exchange` on
//!   `tail`, writes the item, and publishes it by setting the slot's
//!   `WRITTEN` bit with `Release`.
//! - The producer that claims a block's last slot moves `tail` into the
//!   gap. While `tail` is in the gap nobody else can claim anything: the
//!   others wait (a little spinning, then they sleep in `linking` until
//!   `tail` leaves the gap). That producer allocated the next block before
//!   its claim (so that the others wait only for a few stores; a put that
//!   loses the race frees its spare), stores it in `tail_block`, moves
//!   `tail` out of the gap to the new block's first position (a
//!   `fetch_add`, so a `close` meanwhile keeps its bit), then links the
//!   block into the list (`next`), and only then writes its item.
//! - `head` and `head_block` are the same on the consumer side: a consumer
//!   claims a position with a `compare_exchange` on `head`; the one that
//!   claims a block's last slot moves `head` into the gap, waits for that
//!   block's `next`, stores it in `head_block`, and moves `head` out of the
//!   gap (other gets wait as puts do). Whether the queue is empty is read
//!   off `tail`, never off a slot, so a consumer looks at no block before
//!   it has claimed a slot in it. A get that finds `tail` past the end of
//!   `head`'s block sets the `FILLED` bit in `head`, and until `head`
//!   moves to the next block the gets skip `tail`: the line that every put
//!   writes is then read once per block rather than once per item.
//! - Each position is claimed by one producer and one consumer, and a
//!   thread that claimed position `p` and loaded the block pointer *after*
//!   loading `p` holds the block of `p`: the block pointer is stored before
//!   the position moves into that block, and a later block pointer means
//!   the position has moved on, and the claim fails.
//!
//! **Who frees a block, and when.** Each block counts the reads that are
//! finished in it (`reads`). A consumer reads its slot, and then, as its
//! very last touch of the block, adds one to `reads` with `AcqRel`; the one
//! that brings it to `BLOCK` frees the block. Why nobody can still be using
//! it then:
//! - every consumer of the block has finished with it: each of the `BLOCK`
//!   slots was claimed by one consumer, and each of them counted itself
//!   after its last touch (the one that claimed the last slot read `next`
//!   before its read). The `fetch_add`s of one word form a chain of
//!   read-modify-writes, so the last one sees, and comes after, everything
//!   the others did before theirs;
//! - every producer of the block has finished with it: a producer's last
//!   touch is the `Release` store of its slot's `WRITTEN` bit, which its
//!   consumer waited for with `Acquire` before counting; the producer that
//!   links the next block does so before it writes its item;
//! - nobody else ever touches a block: a thread that loaded a block pointer
//!   and then lost the race for a position drops the pointer unread.
//!
//! A slow consumer of slot 0 therefore keeps its block alive even after a
//! faster one has read the last slot: freeing a block as soon as its last
//! slot is read would free it under the slow one's feet
//! (`tests/loom_broken_list.rs` shows loom catching that).
//!
//! Under loom, freeing a block first touches every slot's item for writing:
//! freeing memory writes to it, and loom then checks that every read of a
//! slot comes before the free.
//!
//! **Why the waits in a gap sleep.** Several threads may wait for the one
//! that is linking a block. Were they all to spin, yielding, loom would
//! explore them taking turns for ever while the one they wait for never
//! runs (it reports "exceeded maximum number of branches"); a sleeping
//! waiter is out of the turns. Elsewhere, as in step 6, a thread that waits
//! for another is the only one waiting for it.
//!
//! **Memory.** A block is freed as soon as its last reader finishes, and the
//! next block is allocated only by a producer about to claim the last slot
//! of the one before. An empty queue holds one block (the one `tail` is
//! in), once every get has finished its read and every put has returned.
//!
//! **Waiting, closing, `task_done`/`join`, the iterator** work as in step 6:
//! `close` sets the bit in `tail` with a `fetch_or`; a get that finds the
//! queue empty waits with `Patience`, then sleeps on `getters`; the number
//! of items ever put is read off `tail`'s position; the iterator keeps its
//! done marks and adds them in one go.

use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::ptr::{self, NonNull};
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::error::{
    Closed, GetTimeoutError, PutTimeoutError, TaskDoneError, TryGetError, TryPutError,
};
use crate::queue::sleepers::{Patience, Sleepers};
use crate::queue::{Deadline, Queue};
use crate::sync::{AtomicPtr, AtomicUsize, Backoff, Ordering, UnsafeCell, allocate, free};

/// Slots per block: small under loom, so that models cross a block's end
/// in few steps.
const BLOCK: usize = if cfg!(loom) { 2 } else { 31 };
/// Positions per block: its slots, and the gap after them.
const SPAN: usize = BLOCK + 1;
/// The bit of `tail` that says the queue is closed; positions sit above it.
const CLOSED: usize = 1;
/// The bit of `head` that says every slot of `head`'s block has been
/// claimed by a put, so a get need not look at `tail` until `head` moves
/// on to the next block.
const FILLED: usize = 1;
/// One position, in `tail`'s and `head`'s words.
const ONE: usize = 2;
/// A slot's state: its item has been written.
const WRITTEN: usize = 1;

/// An unbounded FIFO queue that can be closed and tracks unfinished tasks,
/// with no lock on the fast path (step 7 of the ladder).
///
/// ```
/// use std::thread;
/// use queuelab::queue::list::ClosableQueue;
///
/// let q = ClosableQueue::unbounded();
/// thread::scope(|s| {
///     let worker = s.spawn(|| q.iter().sum::<i32>());
///     let _closer = q.close_on_drop();
///     for n in 1..=100 {
///         q.put(n).unwrap();
///     }
///     q.join(); // every item has been processed
///     drop(_closer);
///     assert_eq!(worker.join().unwrap(), 5050);
/// });
/// ```
///
/// It is `Send` and `Sync` only when `T` is `Send`:
///
/// ```compile_fail
/// use std::rc::Rc;
/// fn shared<Q: Sync>(_: &Q) {}
/// shared(&queuelab::queue::list::ClosableQueue::<Rc<u8>>::unbounded());
/// ```
///
/// ```compile_fail
/// use std::rc::Rc;
/// fn sent<Q: Send>(_: Q) {}
/// sent(queuelab::queue::list::ClosableQueue::<Rc<u8>>::unbounded());
/// ```
// ANCHOR: struct
pub struct ClosableQueue<T> {
    /// The position of the next get, shifted left by one, with the
    /// `FILLED` bit.
    head: CachePadded<AtomicUsize>,
    /// The block `head` is in (or, while `head` is in a gap, the block
    /// before it).
    head_block: CachePadded<AtomicPtr<Block<T>>>,
    /// The position of the next put, shifted left by one, with the
    /// `CLOSED` bit.
    tail: CachePadded<AtomicUsize>,
    /// The block `tail` is in (or, while `tail` is in a gap, the block
    /// before it).
    tail_block: CachePadded<AtomicPtr<Block<T>>>,
    /// Tasks marked done: by `task_done`, by iterators, and the items
    /// `close_now` handed back.
    done: CachePadded<AtomicUsize>,
    /// Items taken with `get`, `try_get` or `get_timeout` that `task_done`
    /// has not marked yet: the only ones it may mark.
    taken: CachePadded<AtomicUsize>,
    /// Threads waiting for an item, in `join`, and for a block to be linked
    /// (puts while `tail` is in a gap, gets while `head` is).
    getters: Sleepers,
    joiners: Sleepers,
    linking: Sleepers,
    /// The queue owns its blocks, and drops the `T`s left in them.
    _owns: PhantomData<Box<Block<T>>>,
}

/// `BLOCK` slots, and what it takes to link and free them.
struct Block<T> {
    /// The block after this one: null until the producer that claimed this
    /// block's last slot links it.
    next: AtomicPtr<Block<T>>,
    /// How many of the slots have been read: the reader that makes it
    /// `BLOCK` frees the block.
    reads: AtomicUsize,
    slots: [Slot<T>; BLOCK],
}

/// One place in a block.
struct Slot<T> {
    /// `WRITTEN` once the item is in; 0 before.
    state: AtomicUsize,
    item: UnsafeCell<MaybeUninit<T>>,
}
// ANCHOR_END: struct

impl<T> Block<T> {
    /// A fresh, empty block on the heap.
    fn allocate() -> NonNull<Block<T>> {
        allocate(Block {
            next: AtomicPtr::new(ptr::null_mut()),
            reads: AtomicUsize::new(0),
            slots: std::array::from_fn(|_| Slot {
                state: AtomicUsize::new(0),
                item: UnsafeCell::new(MaybeUninit::uninit()),
            }),
        })
    }

    /// Frees a block that a put allocated and did not link (it lost the
    /// race for the last slot, or found the queue closed).
    fn discard(spare: Option<NonNull<Block<T>>>) {
        if let Some(block) = spare {
            // SAFETY: never linked, so no other thread has seen it.
            unsafe { Block::free(block) }
        }
    }

    /// Frees the block. Its items must have been read or dropped already.
    ///
    /// # Safety
    ///
    /// Nobody touches the block during or after this call.
    unsafe fn free(block: NonNull<Block<T>>) {
        // SAFETY: the caller promises that nobody else touches the block.
        let slots = unsafe { &block.as_ref().slots };
        for slot in slots {
            // Freeing writes the memory: under loom this checks that every
            // access to the item came before the free. (Nothing otherwise.)
            slot.item.with_mut(|_| ());
        }
        // SAFETY: made by `Block::allocate`, and the caller promises that
        // nobody touches it any more.
        unsafe { free(block) }
    }
}

/// Where a position is in its block: below `BLOCK` a slot, `BLOCK` the gap.
fn offset(pos: usize) -> usize {
    pos % SPAN
}

/// How many item positions come before `pos`: for `tail`, the number of
/// items ever put; for `head`, the number ever taken.
fn count(pos: usize) -> usize {
    (pos / SPAN)
        .wrapping_mul(BLOCK)
        .wrapping_add(offset(pos).min(BLOCK))
}

impl<T> ClosableQueue<T> {
    /// An empty queue with no bound: `put` never waits. It holds one block
    /// of slots now, and takes more as it grows.
    ///
    /// ```
    /// let q = queuelab::queue::list::ClosableQueue::<u32>::unbounded();
    /// assert_eq!(q.capacity(), None);
    /// ```
    // ANCHOR: unbounded
    pub fn unbounded() -> Self {
        let first = Block::allocate().as_ptr();
        ClosableQueue {
            head: CachePadded::new(AtomicUsize::new(0)),
            head_block: CachePadded::new(AtomicPtr::new(first)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            tail_block: CachePadded::new(AtomicPtr::new(first)),
            done: CachePadded::new(AtomicUsize::new(0)),
            taken: CachePadded::new(AtomicUsize::new(0)),
            getters: Sleepers::new(),
            joiners: Sleepers::new(),
            linking: Sleepers::new(),
            _owns: PhantomData,
        }
    }
    // ANCHOR_END: unbounded

    /// Claims the position at `tail` and writes `item` there, unless the
    /// queue is closed. Waits only while another put is linking a block.
    // ANCHOR: try_push
    fn try_push(&self, item: T) -> Result<(), Closed<T>> {
        let backoff = Backoff::new();
        let mut patience = Patience::new();
        // `Acquire`: a `tail` that moved into a block comes with the store
        // of that block to `tail_block`.
        let mut tail = self.tail.load(Ordering::Acquire);
        // The next block, allocated before claiming a block's last slot, so
        // that `tail` stays in the gap only for a few stores.
        let mut spare = None;
        loop {
            if tail & CLOSED != 0 {
                Block::discard(spare);
                return Err(Closed(item));
            }
            let pos = tail / ONE;
            if offset(pos) == BLOCK {
                // In the gap: another put is linking the next block. Wait
                // for it, and sleep if it takes long (`link_next` wakes us):
                // several threads may wait for that one put, and only a
                // sleeping waiter cannot take turns with the others.
                if !patience.wait() {
                    self.linking.sleep_unless(&Deadline::NEVER, || {
                        offset(self.tail.fetch_add(0, Ordering::AcqRel) / ONE) != BLOCK
                    });
                }
                tail = self.tail.load(Ordering::Acquire);
                continue;
            }
            if offset(pos) + 1 == BLOCK && spare.is_none() {
                spare = Some(Block::allocate());
            }
            // Loaded after `tail`: the block of `pos`, or a later one, and
            // then the claim below fails. Not touched before the claim.
            let block = self.tail_block.load(Ordering::Acquire);
            match self.tail.compare_exchange_weak(
                tail,
                tail + ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if offset(pos) + 1 == BLOCK {
                        let next = spare.take().expect("allocated before the claim");
                        self.link_next(block, next);
                    }
                    self.write(block, pos, item);
                    Block::discard(spare);
                    return Ok(());
                }
                Err(now) => {
                    tail = now;
                    backoff.spin();
                }
            }
        }
    }

    /// Called by the put that claimed the last slot of `block`, with `tail`
    /// in the gap after it: makes `next` the next block and moves `tail`
    /// into it. `next` is set last, so a get that finds it finds `tail`
    /// past the gap too.
    fn link_next(&self, block: *mut Block<T>, next: NonNull<Block<T>>) {
        let next = next.as_ptr();
        self.tail_block.store(next, Ordering::Release);
        // Out of the gap, keeping the `CLOSED` bit if a `close` came.
        self.tail.fetch_add(ONE, Ordering::AcqRel);
        self.linking.notify_all();
        // SAFETY: this thread claimed a slot of `block` and has not written
        // it yet, so its reader has not counted itself: the block is alive.
        let current = unsafe { &*block };
        current.next.store(next, Ordering::Release);
    }

    /// Writes `item` at position `pos` of `block`, which this thread has
    /// claimed, and publishes it. The `Release` store is this thread's last
    /// touch of the block.
    fn write(&self, block: *mut Block<T>, pos: usize, item: T) {
        // SAFETY: this thread claimed `pos` and has not published it, so its
        // reader has not counted itself and the block is alive.
        let slot = unsafe { &(*block).slots[offset(pos)] };
        slot.item.with_mut(|p| {
            // SAFETY: claiming `pos` made this thread its only writer, and
            // its reader waits for `WRITTEN` before it looks.
            unsafe { p.write(MaybeUninit::new(item)) }
        });
        slot.state.store(WRITTEN, Ordering::Release);
        self.getters.notify_one();
    }
    // ANCHOR_END: try_push

    /// Claims the position at `head` and reads the item there, unless the
    /// queue is empty. A position whose put is still writing counts as an
    /// item, as in step 6.
    // ANCHOR: try_pop
    fn try_pop(&self) -> Result<T, TryGetError> {
        let backoff = Backoff::new();
        let mut patience = Patience::new();
        // `Acquire`: a `head` that moved into a block comes with the store
        // of that block to `head_block`, and with what the get that moved
        // it saw (the puts before, as in step 6).
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let pos = head / ONE;
            if offset(pos) == BLOCK {
                // In the gap: another get is moving to the next block. Wait
                // as a put waits in `tail`'s gap; `move_head_on` wakes us.
                if !patience.wait() {
                    self.linking.sleep_unless(&Deadline::NEVER, || {
                        offset(self.head.fetch_add(0, Ordering::AcqRel) / ONE) != BLOCK
                    });
                }
                head = self.head.load(Ordering::Acquire);
                continue;
            }
            // With `FILLED` the item at `pos` has been claimed by a put:
            // no need to look at `tail`, which the puts keep changing.
            let mut filled = head & FILLED;
            if filled == 0 {
                let tail = self.tail.load(Ordering::Acquire);
                if tail / ONE == pos {
                    return Err(if tail & CLOSED != 0 {
                        TryGetError::Closed
                    } else {
                        TryGetError::Empty
                    });
                }
                // `tail` past this block's last slot: tell the next gets.
                if tail / ONE >= pos - offset(pos) + BLOCK {
                    filled = FILLED;
                }
            }
            // As in `try_push`: not touched before the claim.
            let block = self.head_block.load(Ordering::Acquire);
            match self.head.compare_exchange_weak(
                head,
                ((pos + 1) * ONE) | filled,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if offset(pos) + 1 == BLOCK {
                        self.move_head_on(block, pos + 1);
                    }
                    return Ok(self.read(block, pos));
                }
                Err(now) => {
                    head = now;
                    backoff.spin();
                }
            }
        }
    }

    /// Called by the get that claimed the last slot of `block`, with `head`
    /// in the gap `gap` after it: waits for the next block to be linked
    /// (only this thread waits for that), and moves `head` into it, without
    /// `FILLED`. Nobody else moves `head` while it is in the gap.
    fn move_head_on(&self, block: *mut Block<T>, gap: usize) {
        // SAFETY: this thread claimed a slot of `block` and has not counted
        // its read yet: the block is alive.
        let current = unsafe { &*block };
        let backoff = Backoff::new();
        let next = loop {
            // `Acquire`: pairs with `link_next`'s `Release`; the put that
            // links it has claimed this block's last slot, so it comes.
            let next = current.next.load(Ordering::Acquire);
            if !next.is_null() {
                break next;
            }
            backoff.snooze();
        };
        self.head_block.store(next, Ordering::Release);
        // A read-modify-write, for the gets asleep in `linking`.
        self.head.swap((gap + 1) * ONE, Ordering::AcqRel);
        self.linking.notify_all();
    }

    /// Reads the item at position `pos` of `block`, which this thread has
    /// claimed, waiting for its put if that is still writing; then counts
    /// the read, and frees the block if it was the last.
    fn read(&self, block: *mut Block<T>, pos: usize) -> T {
        // SAFETY: this thread claimed `pos` and has not counted its read,
        // so the block is alive.
        let current = unsafe { &*block };
        let slot = &current.slots[offset(pos)];
        let backoff = Backoff::new();
        while slot.state.load(Ordering::Acquire) & WRITTEN == 0 {
            backoff.snooze();
        }
        // `WRITTEN` was stored with `Release` after the write, and loaded
        // with `Acquire` above.
        let item = slot.item.with(|p| {
            // SAFETY: written (above), and claiming `pos` made this thread
            // its only reader.
            unsafe { p.read().assume_init() }
        });
        // The last touch of the block: after this, another reader may free
        // it. `AcqRel`: the reader that counts last sees every touch that
        // the others made before they counted.
        if current.reads.fetch_add(1, Ordering::AcqRel) + 1 == BLOCK {
            // SAFETY: every slot has been read, and every reader and writer
            // of the block has finished with it (module docs).
            unsafe { Block::free(NonNull::from(current)) }
        }
        item
    }
    // ANCHOR_END: try_pop

    /// Whether a sleeping get should wake: an item is in (or being
    /// written), or the queue is closed. Reads `tail` with a
    /// read-modify-write, for `Sleepers`.
    // ANCHOR: ready
    fn item_or_closed(&self) -> bool {
        let tail = self.tail.fetch_add(0, Ordering::AcqRel);
        tail & CLOSED != 0 || tail / ONE != self.head.load(Ordering::Relaxed) / ONE
    }
    // ANCHOR_END: ready

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
            if !patience.wait() {
                self.getters
                    .sleep_unless(deadline, || self.item_or_closed());
            }
        }
    }
    // ANCHOR_END: pop_waiting

    /// Adds `item` at the back; it never waits for room, only, now and
    /// then, for another put that is linking a new block. Once the queue is
    /// closed the item comes back in `Err(Closed(item))`.
    ///
    /// ```
    /// use queuelab::{queue::list::ClosableQueue, Closed};
    /// let q = ClosableQueue::unbounded();
    /// assert_eq!(q.put(1), Ok(()));
    /// q.close();
    /// assert_eq!(q.put(2), Err(Closed(2)));
    /// ```
    pub fn put(&self, item: T) -> Result<(), Closed<T>> {
        self.try_push(item)
    }

    /// Adds `item` if the queue is open; otherwise hands it back in
    /// [`TryPutError::Closed`]. The queue is never full, so it never
    /// returns [`TryPutError::Full`]. Like `put`, it may wait for another
    /// put that is linking a new block (once per block of slots).
    ///
    /// ```
    /// use queuelab::{queue::list::ClosableQueue, TryPutError};
    /// let q = ClosableQueue::unbounded();
    /// assert_eq!(q.try_put('a'), Ok(()));
    /// q.close();
    /// assert_eq!(q.try_put('b'), Err(TryPutError::Closed('b')));
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        self.try_push(item)
            .map_err(|Closed(item)| TryPutError::Closed(item))
    }

    /// Like [`put`](Self::put): the queue is never full, so it never times
    /// out; once closed, the item comes back in
    /// [`PutTimeoutError::Closed`]. (The same signature as the steps that
    /// can be bounded.)
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = queuelab::queue::list::ClosableQueue::unbounded();
    /// assert_eq!(q.put_timeout(1, Duration::ZERO), Ok(()));
    /// ```
    pub fn put_timeout(&self, item: T, _timeout: Duration) -> Result<(), PutTimeoutError<T>> {
        self.try_push(item)
            .map_err(|Closed(item)| PutTimeoutError::Closed(item))
    }

    /// Takes the item at the front, waiting until there is one. `None`
    /// only when the queue is closed **and** drained: items put before
    /// `close` are still handed out.
    ///
    /// ```
    /// let q = queuelab::queue::list::ClosableQueue::unbounded();
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
    /// is still writing its item, it waits for that put to finish; and,
    /// like `get`, it may wait for another get that is moving on to the
    /// next block (once per block of slots).
    ///
    /// ```
    /// use queuelab::{queue::list::ClosableQueue, TryGetError};
    /// let q = ClosableQueue::<u8>::unbounded();
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
    /// use queuelab::{queue::list::ClosableQueue, GetTimeoutError};
    /// let q = ClosableQueue::<u8>::unbounded();
    /// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetTimeoutError::Timeout));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetTimeoutError> {
        let item = self.pop_waiting(&Deadline::after(timeout))?;
        self.taken.fetch_add(1, Ordering::Relaxed);
        Ok(item)
    }

    /// Closes the queue: from now on every put hands its item back, and
    /// every thread waiting in a get is woken. Items already inside stay
    /// gettable. Idempotent: returns `true` only for the call that closed
    /// it.
    ///
    /// ```
    /// let q = queuelab::queue::list::ClosableQueue::<u8>::unbounded();
    /// assert!(q.close());
    /// assert!(!q.close());
    /// assert!(q.is_closed());
    /// ```
    // ANCHOR: close
    pub fn close(&self) -> bool {
        let before = self.tail.fetch_or(CLOSED, Ordering::AcqRel);
        if before & CLOSED != 0 {
            return false;
        }
        self.getters.notify_all();
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
    /// let q = queuelab::queue::list::ClosableQueue::unbounded();
    /// q.put(1).unwrap();
    /// q.put(2).unwrap();
    /// assert_eq!(q.close_now(), vec![1, 2]);
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// assert_eq!(q.get(), None);
    /// ```
    pub fn close_now(&self) -> Vec<T> {
        self.close();
        let mut items = Vec::new();
        // Closed: `try_pop` ends once every claimed position has been
        // read, by us or by another get.
        while let Ok(item) = self.try_pop() {
            items.push(item);
        }
        self.mark_done(items.len());
        items
    }

    /// Whether [`close`](Self::close) or [`close_now`](Self::close_now) has
    /// been called. Unlike `len`, this never goes stale once it is `true`.
    ///
    /// ```
    /// let q = queuelab::queue::list::ClosableQueue::<u8>::unbounded();
    /// assert!(!q.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.tail.load(Ordering::Acquire) & CLOSED != 0
    }

    /// How many items are inside (counting puts still writing theirs). A
    /// snapshot: another thread may change it before the caller has read
    /// the number, so use it for reports, never to decide whether a `get`
    /// will wait.
    ///
    /// ```
    /// let q = queuelab::queue::list::ClosableQueue::unbounded();
    /// q.put(()).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        // `head` first: every get it counts claimed a position that a put
        // had claimed before, so the `tail` read after it counts that put
        // too, and the difference is never negative.
        let head = self.head.load(Ordering::Acquire) / ONE;
        let tail = self.tail.load(Ordering::Acquire) / ONE;
        count(tail).wrapping_sub(count(head))
    }

    /// `len() == 0`, with the same caveat: it may be stale when it returns.
    ///
    /// ```
    /// assert!(queuelab::queue::list::ClosableQueue::<()>::unbounded().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most items the queue holds at once: always `None` here (the
    /// same signature as the steps that can be bounded).
    ///
    /// ```
    /// assert_eq!(queuelab::queue::list::ClosableQueue::<()>::unbounded().capacity(), None);
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        None
    }

    /// Adds `n` marks to `done` and wakes the joiners if that finished
    /// every task.
    fn mark_done(&self, n: usize) {
        if n > 0 {
            self.done.fetch_add(n, Ordering::AcqRel);
            self.joiners.notify_all();
        }
    }

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
    /// (the iterator marks those itself). As in steps 4 to 6, the count is
    /// kept per queue, not per thread.
    ///
    /// ```
    /// let q = queuelab::queue::list::ClosableQueue::unbounded();
    /// q.put("job").unwrap();
    /// let job = q.get().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1); // taken, but not yet done
    /// q.task_done().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// assert!(q.task_done().is_err());
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| n.checked_sub(1))
            .map_err(|_| TaskDoneError)?;
        self.mark_done(1);
        Ok(())
    }

    /// Items ever put minus tasks marked done. `done` is read first, with a
    /// read-modify-write (for `Sleepers`): every item it counts was put
    /// before it was marked, so the `tail` read after it counts that put
    /// too, and the difference never goes below zero.
    fn unfinished(&self) -> usize {
        let done = self.done.fetch_add(0, Ordering::AcqRel);
        let tail = self.tail.load(Ordering::Acquire) / ONE;
        count(tail).wrapping_sub(done)
    }

    /// Waits until every item ever put has been marked done with
    /// [`task_done`](Self::task_done) (or by an iterator, or handed back by
    /// [`close_now`](Self::close_now)). Closing the queue does not release
    /// it.
    ///
    /// ```
    /// let q = queuelab::queue::list::ClosableQueue::<u8>::unbounded();
    /// q.join(); // nothing was ever put: returns at once
    /// ```
    pub fn join(&self) {
        while self.unfinished() != 0 {
            self.joiners
                .sleep_unless(&Deadline::NEVER, || self.unfinished() == 0);
        }
    }

    /// How many items were put and not yet marked done: those inside plus
    /// those that consumers are working on. A snapshot, like `len`; and an
    /// iterator adds its marks in batches (see [`iter`](Self::iter)), so
    /// while its worker is busy the number may count items it has already
    /// finished.
    ///
    /// ```
    /// let q = queuelab::queue::list::ClosableQueue::unbounded();
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
    /// sleeps. The items still inside keep `join` waiting until a consumer
    /// takes them or [`close_now`](Self::close_now) hands them back. Do not
    /// call [`task_done`](Self::task_done) for an item the iterator gave
    /// you: it returns [`TaskDoneError`].
    ///
    /// ```
    /// let q = queuelab::queue::list::ClosableQueue::unbounded();
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
    /// let q = queuelab::queue::list::ClosableQueue::<u8>::unbounded();
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
/// let q = queuelab::queue::list::ClosableQueue::unbounded();
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
    /// Adds the marks this iterator kept to the queue's count.
    fn publish(&mut self) {
        self.finished += usize::from(std::mem::take(&mut self.holding));
        self.queue.mark_done(std::mem::take(&mut self.finished));
    }
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

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
/// let q = queuelab::queue::list::ClosableQueue::<u8>::unbounded();
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
        // `&mut self`: no other thread can touch the queue, every put has
        // finished writing and every get reading, so neither end is in a
        // gap. The blocks before `head_block` are freed; the items left are
        // at the positions from `head` to `tail`, in the blocks from
        // `head_block` on.
        let tail = self.tail.load(Ordering::Relaxed) / ONE;
        let mut head = self.head.load(Ordering::Relaxed) / ONE;
        let mut block = self.head_block.load(Ordering::Relaxed);
        while head != tail {
            if offset(head) == BLOCK {
                // SAFETY: `block` is alive (above) and only we touch it.
                let next = unsafe { (*block).next.load(Ordering::Relaxed) };
                // SAFETY: its items have been read or dropped, and only we
                // hold it.
                unsafe { Block::free(NonNull::new_unchecked(block)) };
                block = next;
            } else {
                // SAFETY: `block` is alive and only we touch it.
                let slot = unsafe { &(*block).slots[offset(head)] };
                // A slot between `head` and `tail` holds an item that was
                // written and not read: the queue owns it.
                slot.item.with_mut(|p| {
                    // SAFETY: written and not read (above); dropped once, as
                    // `head` moves past it.
                    unsafe { (*p).assume_init_drop() }
                });
            }
            head += 1;
        }
        // SAFETY: the block `tail` is in, alive and only ours; its items
        // have been read or dropped.
        unsafe { Block::free(NonNull::new_unchecked(block)) };
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
// by the claims on `tail` and `head` and the slot's `WRITTEN` bit, and every
// block is freed once, by its last reader (module docs).
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
