#![cfg(loom)]
//! Broken versions of step 6's ring (`src/queue/ring.rs`) that loom must
//! catch: the "what goes wrong" stories of step 6 (the book chapter is still to come).
//!
//! Each module below is a small copy of the part of the ring that matters,
//! written directly against `loom::sync` and `loom::cell::UnsafeCell`, in the
//! names of `ring.rs` so that it can be read side by side with it, with ONE
//! thing wrong (marked `BROKEN`). The copies are rings of capacity 1 with a
//! single producer and a single consumer, so a claim never has to be retried,
//! and they keep only what their variant needs. Each test runs a model of a
//! copy and asserts which failure loom reports: a race on a slot, a deadlock,
//! or the model's own assertion. Each model is written once, over the
//! queue's operations, and the tests at the end run the same models on the
//! real `queue::ring::ClosableQueue`, which passes them.
//!
//! The book quotes loom's own output for each; `book/src/loom/README.md`
//! says how those files were made. The `ANCHOR` comments let the book
//! include the broken code with `{{#include}}`.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_broken_ring -- --nocapture`

mod loom_common;

use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use loom_common::{assert_deadlock, check, expect_failure};
use queuelab::Closed;
use queuelab::queue::ring::ClosableQueue;

/// The copies are laid out as `ClosableQueue::bounded(1)` lays out the real
/// ring: `closed_bit` is 2 and `one_lap` is 4, so the positions go 0, 4, 8,
/// ... (plus 2 once closed), all in the one slot.
const CLOSED_BIT: usize = 2;
const ONE_LAP: usize = 4;

/// The position after `pos`: at capacity 1, the same slot one lap on.
fn after(pos: usize) -> usize {
    pos + ONE_LAP
}

/// What loom says when a read of an `UnsafeCell` is not ordered after the
/// last write to it.
const READ_RACES_WRITE: &str = "Causality violation: Concurrent read and write accesses.";

/// Variant 1: a put publishes its item by storing the slot's stamp with
/// `Relaxed` instead of `Release`. A get that loads the stamp with `Acquire`
/// sees the slot full, but nothing orders the put's write of the item before
/// the get's read of it: loom reports the read as racing the write. The same
/// model passes on the real ring: `ring_passes_one_put_one_get`, below. This
/// copy has no `Sleepers`: a get that finds nothing yields and looks again.
mod relaxed_stamp {
    use std::mem::MaybeUninit;

    use loom::cell::UnsafeCell;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    use super::{ONE_LAP, after};

    pub struct ClosableQueue {
        head: AtomicUsize,
        tail: AtomicUsize,
        slot: Slot,
    }

    struct Slot {
        stamp: AtomicUsize,
        item: UnsafeCell<MaybeUninit<u32>>,
    }

    // SAFETY: as for the real ring, the stamp is meant to make every access
    // to the slot exclusive. BROKEN below breaks that, and loom says so.
    unsafe impl Sync for ClosableQueue {}

    impl ClosableQueue {
        pub fn new() -> Self {
            ClosableQueue {
                head: AtomicUsize::new(0),
                tail: AtomicUsize::new(0),
                slot: Slot {
                    stamp: AtomicUsize::new(0),
                    item: UnsafeCell::new(MaybeUninit::uninit()),
                },
            }
        }

        /// `try_push` for the one put into an empty ring: the slot is empty
        /// at this lap, and the claim cannot fail.
        pub fn put(&self, item: u32) {
            let tail = self.tail.load(Ordering::Acquire);
            self.tail
                .compare_exchange(tail, after(tail), Ordering::AcqRel, Ordering::Acquire)
                .unwrap();
            self.write(tail, item);
        }

        // ANCHOR: relaxed_stamp
        fn write(&self, pos: usize, item: u32) {
            // SAFETY: this thread claimed `pos`, and the slot is empty.
            self.slot
                .item
                .with_mut(|p| unsafe { p.write(MaybeUninit::new(item)) });
            // BROKEN: `Relaxed` where `Release` is needed. A get that loads
            // this stamp sees the slot full, but not the item written above.
            self.slot.stamp.store(pos + 1, Ordering::Relaxed);
        }
        // ANCHOR_END: relaxed_stamp

        pub fn get(&self) -> Option<u32> {
            loop {
                if let Some(item) = self.try_pop() {
                    return Some(item);
                }
                thread::yield_now();
            }
        }

        /// `try_pop` for the one get: the claim cannot fail.
        fn try_pop(&self) -> Option<u32> {
            let head = self.head.load(Ordering::Acquire);
            let stamp = self.slot.stamp.load(Ordering::Acquire);
            if stamp != head + 1 && self.tail.load(Ordering::Acquire) == head {
                return None; // empty: not written, and no put has claimed it
            }
            self.head
                .compare_exchange(head, after(head), Ordering::AcqRel, Ordering::Acquire)
                .unwrap();
            Some(self.read(head))
        }

        fn read(&self, pos: usize) -> u32 {
            while self.slot.stamp.load(Ordering::Acquire) != pos + 1 {
                thread::yield_now();
            }
            // SAFETY: meant to be: the stamp says the put of `pos` wrote it.
            let item = self.slot.item.with(|p| unsafe { p.read().assume_init() });
            self.slot
                .stamp
                .store(pos.wrapping_add(ONE_LAP), Ordering::Release);
            item
        }
    }
}

#[test]
fn relaxed_stamp_races_on_the_slot() {
    use relaxed_stamp::ClosableQueue;
    let message = expect_failure("broken_ring::relaxed_stamp", || {
        one_put_one_get(ClosableQueue::new, ClosableQueue::put, ClosableQueue::get)
    });
    assert!(message.contains(READ_RACES_WRITE), "{message}");
}

/// A copy of `src/queue/sleepers.rs`, without deadlines, for variants 2 and
/// 4. Nothing is broken in it.
mod sleepers {
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::sync::{Condvar, Mutex};

    pub struct Sleepers {
        count: AtomicUsize,
        lock: Mutex<()>,
        wake: Condvar,
    }

    impl Sleepers {
        pub fn new() -> Self {
            Sleepers {
                count: AtomicUsize::new(0),
                lock: Mutex::new(()),
                wake: Condvar::new(),
            }
        }

        /// Sleeps once, until woken, unless `ready` says there is no need.
        /// (`#[track_caller]`, not in `sleepers.rs`, makes loom's deadlock
        /// report name the line that called this.)
        #[track_caller]
        pub fn sleep_unless(&self, ready: impl FnOnce() -> bool) {
            let guard = self.lock.lock().unwrap();
            self.count.fetch_add(1, Ordering::AcqRel);
            let _guard = if ready() {
                guard
            } else {
                self.wake.wait(guard).unwrap()
            };
            self.count.fetch_sub(1, Ordering::AcqRel);
        }

        pub fn notify_one(&self) {
            if self.count.load(Ordering::Relaxed) > 0 {
                let _guard = self.lock.lock().unwrap();
                self.wake.notify_one();
            }
        }

        pub fn notify_all(&self) {
            if self.count.load(Ordering::Relaxed) > 0 {
                let _guard = self.lock.lock().unwrap();
                self.wake.notify_all();
            }
        }
    }
}

/// Variant 2: a get about to sleep checks for an item with a plain
/// `load(Acquire)` of `tail` instead of a read-modify-write. The put claims
/// its slot with a `compare_exchange` on `tail` and then loads the getters'
/// `count`; with two plain loads on the two sides, each may miss what the
/// other just wrote: the get sleeps, and the put wakes nobody (the module
/// docs of `src/queue/sleepers.rs` explain it). loom reports a deadlock. The
/// same model passes on the real ring: `ring_passes_one_put_one_get`, below.
/// This copy cannot be closed.
///
/// (loom finds it in its first interleaving, with no preemption: the get
/// registers and goes to sleep before the put starts, and the put's load of
/// `count` still reads 0. Nothing orders that load after the registration:
/// with `fetch_add(0)` the put's `compare_exchange` would read from the
/// sleeper's read-modify-write of `tail`, which would order it.)
mod sleepers_check_with_load {
    use std::mem::MaybeUninit;

    use loom::cell::UnsafeCell;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;

    use super::sleepers::Sleepers;
    use super::{ONE_LAP, after};

    pub struct ClosableQueue {
        head: AtomicUsize,
        tail: AtomicUsize,
        slot: Slot,
        getters: Sleepers,
    }

    struct Slot {
        stamp: AtomicUsize,
        item: UnsafeCell<MaybeUninit<u32>>,
    }

    // SAFETY: as for the real ring: the stamp makes every access to the
    // slot exclusive.
    unsafe impl Sync for ClosableQueue {}

    impl ClosableQueue {
        pub fn new() -> Self {
            ClosableQueue {
                head: AtomicUsize::new(0),
                tail: AtomicUsize::new(0),
                slot: Slot {
                    stamp: AtomicUsize::new(0),
                    item: UnsafeCell::new(MaybeUninit::uninit()),
                },
                getters: Sleepers::new(),
            }
        }

        /// `try_push` for the one put into an empty ring: the slot is empty
        /// at this lap, and the claim cannot fail.
        pub fn put(&self, item: u32) {
            let tail = self.tail.load(Ordering::Acquire);
            self.tail
                .compare_exchange(tail, after(tail), Ordering::AcqRel, Ordering::Acquire)
                .unwrap();
            self.write(tail, item);
        }

        fn write(&self, pos: usize, item: u32) {
            // SAFETY: this thread claimed `pos`, and the slot is empty.
            self.slot
                .item
                .with_mut(|p| unsafe { p.write(MaybeUninit::new(item)) });
            self.slot.stamp.store(pos + 1, Ordering::Release);
            self.getters.notify_one();
        }

        /// `pop_waiting` without the spin: it sleeps at once.
        pub fn get(&self) -> Option<u32> {
            loop {
                if let Some(item) = self.try_pop() {
                    return Some(item);
                }
                self.getters.sleep_unless(|| self.item_or_closed());
            }
        }

        /// `try_pop` for the one get: the claim cannot fail.
        fn try_pop(&self) -> Option<u32> {
            let head = self.head.load(Ordering::Acquire);
            let stamp = self.slot.stamp.load(Ordering::Acquire);
            if stamp != head + 1 && self.tail.load(Ordering::Acquire) == head {
                return None; // empty: not written, and no put has claimed it
            }
            self.head
                .compare_exchange(head, after(head), Ordering::AcqRel, Ordering::Acquire)
                .unwrap();
            Some(self.read(head))
        }

        fn read(&self, pos: usize) -> u32 {
            while self.slot.stamp.load(Ordering::Acquire) != pos + 1 {
                thread::yield_now();
            }
            // SAFETY: the stamp says the put of `pos` wrote the slot.
            let item = self.slot.item.with(|p| unsafe { p.read().assume_init() });
            self.slot
                .stamp
                .store(pos.wrapping_add(ONE_LAP), Ordering::Release);
            item
        }

        // ANCHOR: sleepers_check_with_load
        /// Whether a sleeping get should wake: an item is in (or being
        /// written).
        fn item_or_closed(&self) -> bool {
            // BROKEN: a plain load where `fetch_add(0, Ordering::AcqRel)` is
            // needed. It may read `tail` from before the put's claim, while
            // the put's look at `count` misses this sleeper.
            let tail = self.tail.load(Ordering::Acquire);
            tail != self.head.load(Ordering::Relaxed)
        }
        // ANCHOR_END: sleepers_check_with_load
    }
}

#[test]
fn sleepers_check_with_load_deadlocks() {
    use sleepers_check_with_load::ClosableQueue;
    let message = expect_failure("broken_ring::sleepers_check_with_load", || {
        one_put_one_get(ClosableQueue::new, ClosableQueue::put, ClosableQueue::get)
    });
    // The model's thread asleep in `get`; the producer finished.
    assert_deadlock(&message, 1, 1);
}

/// What the model of variant 3 panics with when the item is lost.
const ITEM_LOST: &str = "the put was told Ok, but the consumer was told the queue is closed and drained without getting its item";

/// Variant 3: "closed" is a flag of its own, beside `tail`, and not a bit in
/// `tail`. A put checks the flag, then claims its slot on `tail`; a `close`
/// can fall between the two, and a get that comes next finds the queue
/// closed and empty. The put is then told `Ok`, and nobody will ever get its
/// item. The same model passes on the real ring, where `close` sets the bit
/// with `fetch_or` on the word that the put's `compare_exchange` claims on:
/// `ring_passes_close_races_a_put`, below. This copy has no `Sleepers`: a
/// get that finds nothing yields and looks again.
///
/// (loom finds it in its second interleaving, with no preemption: `close`
/// stores the flag first, and the put's load still reads `false`, since
/// nothing orders the two. The order "the put checks, `close`, the consumer
/// finds the queue closed and empty, the put claims" loses the item the same
/// way under any memory model.)
mod closed_flag_beside_tail {
    use std::mem::MaybeUninit;

    use loom::cell::UnsafeCell;
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use loom::thread;
    use queuelab::TryGetError;

    use super::{ONE_LAP, after};

    pub struct ClosableQueue {
        head: AtomicUsize,
        tail: AtomicUsize,
        closed: AtomicBool,
        slot: Slot,
    }

    struct Slot {
        stamp: AtomicUsize,
        item: UnsafeCell<MaybeUninit<u32>>,
    }

    // SAFETY: as for the real ring: the stamp makes every access to the
    // slot exclusive.
    unsafe impl Sync for ClosableQueue {}

    impl ClosableQueue {
        pub fn new() -> Self {
            ClosableQueue {
                head: AtomicUsize::new(0),
                tail: AtomicUsize::new(0),
                closed: AtomicBool::new(false),
                slot: Slot {
                    stamp: AtomicUsize::new(0),
                    item: UnsafeCell::new(MaybeUninit::uninit()),
                },
            }
        }

        // ANCHOR: closed_flag_beside_tail
        /// `try_push` for the one put into an empty ring.
        pub fn put(&self, item: u32) -> Result<(), u32> {
            // BROKEN: the check and the claim are on two different words.
            // A `close` that falls between them is not seen, and the item
            // goes into a queue that its consumers may already have left.
            if self.closed.load(Ordering::Acquire) {
                return Err(item);
            }
            let tail = self.tail.load(Ordering::Acquire);
            self.tail
                .compare_exchange(tail, after(tail), Ordering::AcqRel, Ordering::Acquire)
                .unwrap();
            self.write(tail, item);
            Ok(())
        }

        pub fn close(&self) {
            self.closed.store(true, Ordering::Release);
        }
        // ANCHOR_END: closed_flag_beside_tail

        fn write(&self, pos: usize, item: u32) {
            // SAFETY: this thread claimed `pos`, and the slot is empty.
            self.slot
                .item
                .with_mut(|p| unsafe { p.write(MaybeUninit::new(item)) });
            self.slot.stamp.store(pos + 1, Ordering::Release);
        }

        pub fn get(&self) -> Option<u32> {
            loop {
                match self.try_pop() {
                    Ok(item) => return Some(item),
                    Err(TryGetError::Closed) => return None,
                    Err(TryGetError::Empty) => thread::yield_now(),
                }
            }
        }

        /// `try_pop` for the one get: the claim cannot fail.
        fn try_pop(&self) -> Result<u32, TryGetError> {
            let head = self.head.load(Ordering::Acquire);
            let stamp = self.slot.stamp.load(Ordering::Acquire);
            if stamp != head + 1 && self.tail.load(Ordering::Acquire) == head {
                return Err(if self.closed.load(Ordering::Acquire) {
                    TryGetError::Closed
                } else {
                    TryGetError::Empty
                });
            }
            self.head
                .compare_exchange(head, after(head), Ordering::AcqRel, Ordering::Acquire)
                .unwrap();
            Ok(self.read(head))
        }

        fn read(&self, pos: usize) -> u32 {
            while self.slot.stamp.load(Ordering::Acquire) != pos + 1 {
                thread::yield_now();
            }
            // SAFETY: the stamp says the put of `pos` wrote the slot.
            let item = self.slot.item.with(|p| unsafe { p.read().assume_init() });
            self.slot
                .stamp
                .store(pos.wrapping_add(ONE_LAP), Ordering::Release);
            item
        }
    }
}

#[test]
fn closed_flag_beside_tail_loses_an_item() {
    use closed_flag_beside_tail::ClosableQueue;
    let message = expect_failure("broken_ring::closed_flag_beside_tail", || {
        close_races_a_put(
            ClosableQueue::new,
            ClosableQueue::put,
            ClosableQueue::get,
            ClosableQueue::close,
        )
    });
    assert!(message.contains(ITEM_LOST), "{message}");
}

/// Variant 4: the iterator keeps its done marks until it is dropped, also
/// while it sleeps waiting for the next item. `join` waits for those marks,
/// and the worker for an item that the thread in `join` would put or close
/// only after `join` returned: loom reports a deadlock. The same model
/// passes on the real ring, whose iterator adds its marks to `done` before
/// it waits: `ring_passes_join_while_the_worker_waits`, below.
mod marks_only_on_drop {
    use std::mem::MaybeUninit;

    use loom::cell::UnsafeCell;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::thread;
    use queuelab::TryGetError;

    use super::sleepers::Sleepers;
    use super::{CLOSED_BIT, ONE_LAP, after};

    pub struct ClosableQueue {
        head: AtomicUsize,
        tail: AtomicUsize,
        done: AtomicUsize,
        slot: Slot,
        getters: Sleepers,
        joiners: Sleepers,
    }

    struct Slot {
        stamp: AtomicUsize,
        item: UnsafeCell<MaybeUninit<u32>>,
    }

    // SAFETY: as for the real ring: the stamp makes every access to the
    // slot exclusive.
    unsafe impl Sync for ClosableQueue {}

    impl ClosableQueue {
        pub fn new() -> Self {
            ClosableQueue {
                head: AtomicUsize::new(0),
                tail: AtomicUsize::new(0),
                done: AtomicUsize::new(0),
                slot: Slot {
                    stamp: AtomicUsize::new(0),
                    item: UnsafeCell::new(MaybeUninit::uninit()),
                },
                getters: Sleepers::new(),
                joiners: Sleepers::new(),
            }
        }

        /// `try_push` for the one put into an empty ring: the slot is empty
        /// at this lap, and the claim cannot fail.
        pub fn put(&self, item: u32) -> Result<(), u32> {
            let tail = self.tail.load(Ordering::Acquire);
            if tail & CLOSED_BIT != 0 {
                return Err(item);
            }
            self.tail
                .compare_exchange(tail, after(tail), Ordering::AcqRel, Ordering::Acquire)
                .unwrap();
            self.write(tail, item);
            Ok(())
        }

        fn write(&self, pos: usize, item: u32) {
            // SAFETY: this thread claimed `pos`, and the slot is empty.
            self.slot
                .item
                .with_mut(|p| unsafe { p.write(MaybeUninit::new(item)) });
            self.slot.stamp.store(pos + 1, Ordering::Release);
            self.getters.notify_one();
        }

        /// `try_pop` for the one get: the claim cannot fail.
        fn try_pop(&self) -> Result<u32, TryGetError> {
            let head = self.head.load(Ordering::Acquire);
            let stamp = self.slot.stamp.load(Ordering::Acquire);
            if stamp != head + 1 {
                let tail = self.tail.load(Ordering::Acquire);
                if tail & !CLOSED_BIT == head {
                    return Err(if tail & CLOSED_BIT != 0 {
                        TryGetError::Closed
                    } else {
                        TryGetError::Empty
                    });
                }
            }
            self.head
                .compare_exchange(head, after(head), Ordering::AcqRel, Ordering::Acquire)
                .unwrap();
            Ok(self.read(head))
        }

        fn read(&self, pos: usize) -> u32 {
            while self.slot.stamp.load(Ordering::Acquire) != pos + 1 {
                thread::yield_now();
            }
            // SAFETY: the stamp says the put of `pos` wrote the slot.
            let item = self.slot.item.with(|p| unsafe { p.read().assume_init() });
            self.slot
                .stamp
                .store(pos.wrapping_add(ONE_LAP), Ordering::Release);
            item
        }

        fn item_or_closed(&self) -> bool {
            let tail = self.tail.fetch_add(0, Ordering::AcqRel);
            tail & CLOSED_BIT != 0 || tail != self.head.load(Ordering::Relaxed)
        }

        /// `pop_waiting` without the spin: it sleeps at once.
        fn pop_waiting(&self) -> Option<u32> {
            loop {
                match self.try_pop() {
                    Ok(item) => return Some(item),
                    Err(TryGetError::Closed) => return None,
                    Err(TryGetError::Empty) => {}
                }
                self.getters.sleep_unless(|| self.item_or_closed());
            }
        }

        pub fn close(&self) {
            self.tail.fetch_or(CLOSED_BIT, Ordering::AcqRel);
            self.getters.notify_all();
        }

        fn mark_done(&self, n: usize) {
            if n > 0 {
                self.done.fetch_add(n, Ordering::AcqRel);
                self.joiners.notify_all();
            }
        }

        /// Items ever put minus tasks marked done. At capacity 1, the number
        /// of items ever put is the lap of `tail`.
        fn unfinished(&self) -> usize {
            let done = self.done.fetch_add(0, Ordering::AcqRel);
            let tail = self.tail.load(Ordering::Acquire) & !CLOSED_BIT;
            (tail / ONE_LAP).wrapping_sub(done)
        }

        pub fn join(&self) {
            while self.unfinished() != 0 {
                self.joiners.sleep_unless(|| self.unfinished() == 0);
            }
        }

        pub fn iter(&self) -> Iter<'_> {
            Iter {
                queue: self,
                holding: false,
                finished: 0,
            }
        }
    }

    pub struct Iter<'a> {
        queue: &'a ClosableQueue,
        holding: bool,
        finished: usize,
    }

    impl Iter<'_> {
        fn publish(&mut self) {
            self.finished += usize::from(std::mem::take(&mut self.holding));
            self.queue.mark_done(std::mem::take(&mut self.finished));
        }
    }

    impl Iterator for Iter<'_> {
        type Item = u32;

        // ANCHOR: marks_only_on_drop
        fn next(&mut self) -> Option<u32> {
            self.finished += usize::from(std::mem::take(&mut self.holding));
            // BROKEN: no `self.publish()` before waiting. The worker sleeps
            // until the next item with the marks of the items it finished,
            // and `join` waits for those marks.
            let item = self.queue.pop_waiting()?;
            self.holding = true;
            Some(item)
        }
        // ANCHOR_END: marks_only_on_drop
    }

    impl Drop for Iter<'_> {
        fn drop(&mut self) {
            // Not while the worker unwinds from the deadlock that loom
            // found: loom would panic again inside `publish`, which aborts
            // the test binary. (The real iterator publishes while a panic
            // unwinds too.)
            if !std::thread::panicking() {
                self.publish();
            }
        }
    }
}

#[test]
fn marks_only_on_drop_deadlocks() {
    use marks_only_on_drop::ClosableQueue;
    let message = expect_failure("broken_ring::marks_only_on_drop", || {
        join_while_the_worker_waits(
            ClosableQueue::new,
            |q, item| q.put(item).unwrap(),
            |q, processed| {
                for item in q.iter() {
                    processed.fetch_add(item as usize, Ordering::SeqCst);
                }
            },
            ClosableQueue::join,
            ClosableQueue::close,
        )
    });
    // The worker asleep in `next`, the model's thread in `join`.
    assert_deadlock(&message, 2, 0);
}

/// The model of variants 1 and 2: a producer puts one item, and the model's
/// thread gets it.
fn one_put_one_get<Q: Send + Sync + 'static>(
    new: fn() -> Q,
    put: fn(&Q, u32),
    get: fn(&Q) -> Option<u32>,
) {
    let q = Arc::new(new());
    let producer = {
        let q = Arc::clone(&q);
        thread::spawn(move || put(&q, 1))
    };
    assert_eq!(get(&q), Some(1));
    producer.join().unwrap();
}

/// The model of variant 3: a producer puts one item, a consumer gets until
/// the queue is closed and drained, and the model's thread closes the queue.
/// The put is either told `Ok` and the consumer gets the item, or handed its
/// item back and the consumer gets nothing.
fn close_races_a_put<Q: Send + Sync + 'static>(
    new: fn() -> Q,
    put: fn(&Q, u32) -> Result<(), u32>,
    get: fn(&Q) -> Option<u32>,
    close: fn(&Q),
) {
    let q = Arc::new(new());
    let producer = {
        let q = Arc::clone(&q);
        thread::spawn(move || put(&q, 7))
    };
    let consumer = {
        let q = Arc::clone(&q);
        thread::spawn(move || std::iter::from_fn(|| get(&q)).collect::<Vec<u32>>())
    };
    close(&q);
    let put = producer.join().unwrap();
    let got = consumer.join().unwrap();
    match put {
        Ok(()) => assert_eq!(got, [7], "{ITEM_LOST}"),
        Err(item) => {
            assert_eq!(item, 7);
            assert!(got.is_empty(), "the item was handed back and handed out");
        }
    }
}

/// The model of variant 4: a worker iterates over the queue, adding up what
/// it processes; the model's thread puts one item, waits in `join`, checks
/// that the item was processed, and then closes the queue to end the loop.
fn join_while_the_worker_waits<Q: Send + Sync + 'static>(
    new: fn() -> Q,
    put: fn(&Q, u32),
    work: fn(&Q, &AtomicUsize),
    join: fn(&Q),
    close: fn(&Q),
) {
    let q = Arc::new(new());
    let processed = Arc::new(AtomicUsize::new(0));
    let worker = {
        let (q, processed) = (Arc::clone(&q), Arc::clone(&processed));
        thread::spawn(move || work(&q, &processed))
    };
    put(&q, 1);
    join(&q);
    assert_eq!(processed.load(Ordering::SeqCst), 1, "join returned early");
    close(&q);
    worker.join().unwrap();
}

/// Variants 1 and 2, fixed: the real ring passes their model.
#[test]
fn ring_passes_one_put_one_get() {
    check("broken_ring::ring_passes_one_put_one_get", || {
        one_put_one_get(
            || ClosableQueue::bounded(1),
            |q, item| q.put(item).unwrap(),
            ClosableQueue::get,
        )
    });
}

/// Variant 3, fixed: the real ring passes its model.
#[test]
fn ring_passes_close_races_a_put() {
    check("broken_ring::ring_passes_close_races_a_put", || {
        close_races_a_put(
            || ClosableQueue::bounded(1),
            |q, item| q.put(item).map_err(Closed::into_inner),
            ClosableQueue::get,
            |q| {
                q.close();
            },
        )
    });
}

/// Variant 4, fixed: the real ring passes its model.
#[test]
fn ring_passes_join_while_the_worker_waits() {
    check(
        "broken_ring::ring_passes_join_while_the_worker_waits",
        || {
            join_while_the_worker_waits(
                || ClosableQueue::bounded(1),
                |q, item| q.put(item).unwrap(),
                |q, processed| {
                    for item in q.iter() {
                        processed.fetch_add(item as usize, Ordering::SeqCst);
                    }
                },
                ClosableQueue::join,
                |q| {
                    q.close();
                },
            )
        },
    );
}
