#![cfg(loom)]
//! A broken version of step 7's list of blocks (`src/queue/list.rs`) that
//! loom must catch: a block freed as soon as its LAST slot is read, without
//! waiting for slower readers of its earlier slots.
//!
//! The module below is a small copy of the part of the list that matters,
//! written directly against `loom::sync`, `loom::cell::UnsafeCell` and
//! `loom::alloc::Track`, in the names of `list.rs` so that it can be read side by
//! side with it, with ONE thing wrong (marked `BROKEN`). It keeps only what
//! the model needs: one producer, which fills the first block before the
//! consumers start, and gets that take what is there (no waiting, no
//! closing). As in `list.rs`, freeing a block first touches each slot's
//! item for writing, since freeing memory writes to it.
//!
//! The model: two items fill the first block (of 2 slots); two consumers
//! take one each. The one that takes the block's last slot frees the block
//! as soon as it has read its item, while the other may still be reading
//! the first slot, or may have read it with nothing ordering that read
//! before the free. loom reports the free as racing that read. The same
//! model passes on the real `queue::list::ClosableQueue`, which counts the
//! finished reads and lets the last reader free the block.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_broken_list -- --nocapture`

mod loom_common;

use std::sync::Arc;

use loom::thread;
use loom_common::{check, expect_failure};
use queuelab::queue::list::ClosableQueue;

/// What loom says when the free (a write to each slot's item) is not ordered
/// after a read of an item.
const FREE_RACES_READ: &str = "Causality violation: Concurrent read and write accesses";

/// Step 7's list, freeing a block when its last slot is read.
mod free_on_last_read {
    use std::mem::MaybeUninit;
    use std::ptr;

    use loom::cell::UnsafeCell;
    use loom::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

    /// Slots per block, as in `list.rs` under loom; a block's positions
    /// are its slots and a gap.
    const BLOCK: usize = 2;
    const SPAN: usize = BLOCK + 1;
    const WRITTEN: usize = 1;

    struct Block {
        next: AtomicPtr<Block>,
        slots: [Slot; BLOCK],
        /// loom reports a block never freed as a leak.
        _track: loom::alloc::Track<()>,
    }

    struct Slot {
        state: AtomicUsize,
        item: UnsafeCell<MaybeUninit<u32>>,
    }

    fn offset(pos: usize) -> usize {
        pos % SPAN
    }

    impl Block {
        fn allocate() -> *mut Block {
            Box::into_raw(Box::new(Block {
                next: AtomicPtr::new(ptr::null_mut()),
                slots: std::array::from_fn(|_| Slot {
                    state: AtomicUsize::new(0),
                    item: UnsafeCell::new(MaybeUninit::uninit()),
                }),
                _track: loom::alloc::Track::new(()),
            }))
        }

        /// Frees `block`, touching each slot's item for writing first.
        ///
        /// # Safety
        ///
        /// Meant to be: nobody touches the block any more. BROKEN below
        /// calls it too early.
        unsafe fn free(block: *mut Block) {
            // SAFETY: see above.
            for slot in unsafe { &(*block).slots } {
                slot.item.with_mut(|_| ());
            }
            // SAFETY: see above; made by `allocate` with `Box`.
            drop(unsafe { Box::from_raw(block) });
        }
    }

    pub struct ClosableQueue {
        head: AtomicUsize,
        head_block: AtomicPtr<Block>,
        /// One producer: the position of its next put, without a `closed`
        /// bit.
        tail: AtomicUsize,
        tail_block: AtomicPtr<Block>,
    }

    // SAFETY: as for the real list, the claims on `head` and `tail` are
    // meant to make every access to a slot exclusive, and a block is meant
    // to be freed once nobody uses it. BROKEN below breaks that, and loom
    // says so.
    unsafe impl Send for ClosableQueue {}
    // SAFETY: as for `Send`.
    unsafe impl Sync for ClosableQueue {}

    impl ClosableQueue {
        pub fn new() -> Self {
            let first = Block::allocate();
            ClosableQueue {
                head: AtomicUsize::new(0),
                head_block: AtomicPtr::new(first),
                tail: AtomicUsize::new(0),
                tail_block: AtomicPtr::new(first),
            }
        }

        /// `try_push` for the only producer: the claim cannot fail, and the
        /// block after a full one is linked at once.
        pub fn put(&self, item: u32) {
            let pos = self.tail.load(Ordering::Acquire);
            let block = self.tail_block.load(Ordering::Acquire);
            if offset(pos) + 1 == BLOCK {
                let next = Block::allocate();
                self.tail_block.store(next, Ordering::Release);
                self.tail.store(pos + 2, Ordering::Release); // past the gap
                // SAFETY: the slot at `pos` is not written yet.
                unsafe { &*block }.next.store(next, Ordering::Release);
            } else {
                self.tail.store(pos + 1, Ordering::Release);
            }
            // SAFETY: the slot at `pos` is not written yet.
            let slot = unsafe { &(*block).slots[offset(pos)] };
            // SAFETY: this thread claimed `pos`.
            slot.item
                .with_mut(|p| unsafe { p.write(MaybeUninit::new(item)) });
            slot.state.store(WRITTEN, Ordering::Release);
        }

        /// `try_pop`, for a queue the model never leaves `head` in a gap of
        /// (it reads no further than the first block).
        pub fn try_get(&self) -> Option<u32> {
            let mut head = self.head.load(Ordering::Acquire);
            loop {
                assert_ne!(offset(head), BLOCK, "the model stays in one block");
                if self.tail.load(Ordering::Acquire) == head {
                    return None;
                }
                let block = self.head_block.load(Ordering::Acquire);
                match self.head.compare_exchange(
                    head,
                    head + 1,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {
                        if offset(head) + 1 == BLOCK {
                            // SAFETY: claimed a slot of it, not yet read.
                            let next = unsafe { &*block }.next.load(Ordering::Acquire);
                            assert!(!next.is_null(), "linked before the put wrote");
                            self.head_block.store(next, Ordering::Release);
                            self.head.store(head + 2, Ordering::Release);
                        }
                        return Some(self.read(block, head));
                    }
                    Err(now) => head = now,
                }
            }
        }

        // ANCHOR: free_on_last_read
        fn read(&self, block: *mut Block, pos: usize) -> u32 {
            // SAFETY: meant to be: this thread claimed `pos` and has not
            // finished with the block.
            let slot = unsafe { &(*block).slots[offset(pos)] };
            while slot.state.load(Ordering::Acquire) & WRITTEN == 0 {
                loom::thread::yield_now();
            }
            // SAFETY: written, and claimed by this thread alone.
            let item = slot.item.with(|p| unsafe { p.read().assume_init() });
            // BROKEN: the reader of the last slot frees the block at once.
            // The reader of an earlier slot may still be reading it, and
            // nothing orders its read before this free.
            if offset(pos) + 1 == BLOCK {
                // SAFETY: meant to be: nobody touches the block any more.
                unsafe { Block::free(block) };
            }
            item
        }
        // ANCHOR_END: free_on_last_read
    }

    impl Drop for ClosableQueue {
        /// Frees the block `tail` is in, which the model leaves empty.
        fn drop(&mut self) {
            let block = self.tail_block.load(Ordering::Relaxed);
            // SAFETY: `&mut self`: nobody else touches it.
            unsafe { Block::free(block) };
        }
    }
}

/// Two items fill the first block; two consumers take one each. Written
/// over the queue's operations, so that it runs on the broken copy and on
/// the real list.
fn two_readers_of_one_block<Q: Send + Sync + 'static>(
    new: fn() -> Q,
    put: fn(&Q, u32),
    try_get: fn(&Q) -> Option<u32>,
) {
    let q = Arc::new(new());
    put(&q, 0);
    put(&q, 1);
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || try_get(&q).expect("two items, two gets"))
        })
        .collect();
    let mut got: Vec<u32> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1]);
}

#[test]
fn freeing_a_block_when_its_last_slot_is_read_races_a_slower_reader() {
    use free_on_last_read::ClosableQueue;
    let message = expect_failure("broken_list::free_on_last_read", || {
        two_readers_of_one_block(
            ClosableQueue::new,
            ClosableQueue::put,
            ClosableQueue::try_get,
        )
    });
    assert!(message.contains(FREE_RACES_READ), "{message}");
}

/// The same model on the real list: the last of the two readers frees the
/// block, after both reads.
#[test]
fn list_passes_two_readers_of_one_block() {
    check("broken_list::real_list_two_readers_of_one_block", || {
        two_readers_of_one_block(
            ClosableQueue::unbounded,
            |q, item| q.put(item).unwrap(),
            |q| q.try_get().ok(),
        )
    });
}
