//! Where the lock-free steps' threads sleep, and how they are woken.
//!
//! A thread that found nothing to do (no item, no room, tasks unfinished)
//! and has spun long enough sleeps on a condition variable. The thread that
//! changes the queue must then wake it, and it must not pay for that when
//! nobody sleeps: on the fast path, one atomic load of `count` tells it.
//!
//! **The race.** The sleeper checks the queue, then sleeps; the waker
//! changes the queue, then checks `count`. If the sleeper's check sees the
//! queue as it was *before* the change, and the waker's look at `count` sees
//! it as it was *before* the sleeper registered, each misses the other, and
//! the sleeper sleeps through the change: a lost wake-up.
//!
//! **Why it cannot happen here.** The waker changes the queue with a
//! read-modify-write (the `compare_exchange` that claims a slot, the
//! `fetch_add` that counts a task done, the `fetch_or` that closes). The
//! sleeper registers in `count`, and then reads that same word with a
//! read-modify-write too (`fetch_add(0)`), with `AcqRel`. Read-modify-writes
//! of one word are totally ordered, and each one reads the one before it.
//! So either the sleeper's comes second and reads the change (it does not
//! sleep), or the waker's comes second: it then reads from the sleeper's,
//! which is a release, so everything the sleeper did before (registering in
//! `count`) happens before everything the waker does after, and the waker's
//! load of `count` sees the sleeper. The mutex does the rest: the waker
//! takes it before it notifies, and the sleeper holds it from registering
//! until `wait` lets go of it, so the notification cannot fall between the
//! sleeper's check and its sleep.
//!
//! The argument uses only read-modify-writes and acquire/release, which
//! loom models exactly. The usual shortcut, a `SeqCst` store on one side and
//! a `SeqCst` load on the other, is correct too, but loom treats `SeqCst`
//! loads and stores as acquire/release (tokio-rs/loom#180) and would report
//! a lost wake-up that cannot happen; a plain `Acquire` load in the
//! sleeper's check really is wrong, and loom finds that
//! (`tests/loom_broken_ring.rs`, `sleepers_check_with_load_deadlocks`).

use crossbeam_utils::CachePadded;

use crate::queue::Deadline;
use crate::sync::{AtomicUsize, Condvar, Mutex, Ordering};

/// The threads sleeping until one kind of change: an item, room, or the
/// last task done.
#[derive(Debug)]
pub(crate) struct Sleepers {
    /// How many threads are between registering and waking up. Read on
    /// every fast path, written only by sleepers: on a line of its own.
    count: CachePadded<AtomicUsize>,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Sleepers {
    pub(crate) fn new() -> Self {
        Sleepers {
            count: CachePadded::new(AtomicUsize::new(0)),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    /// Sleeps once, until woken or until `deadline`, unless `ready` says
    /// there is no need. `ready` runs after the thread has registered, and
    /// must read the word that the waker changes with a read-modify-write
    /// (see the module docs). Returns whether the thread slept. Wake-ups
    /// may be spurious, and the deadline may have passed: the caller looks
    /// again either way.
    // ANCHOR: sleep
    pub(crate) fn sleep_unless(&self, deadline: &Deadline, ready: impl FnOnce() -> bool) -> bool {
        let mut guard = self.lock.lock();
        self.count.fetch_add(1, Ordering::AcqRel);
        let sleep = !ready();
        if sleep {
            deadline.wait(&self.wake, &mut guard);
        }
        self.count.fetch_sub(1, Ordering::AcqRel);
        sleep
    }
    // ANCHOR_END: sleep

    /// Wakes one sleeper, if any. Call it right after the read-modify-write
    /// that made the change the sleepers wait for.
    // ANCHOR: notify
    pub(crate) fn notify_one(&self) {
        if self.count.load(Ordering::Relaxed) > 0 {
            let _guard = self.lock.lock();
            self.wake.notify_one();
        }
    }

    /// Wakes every sleeper, if any.
    pub(crate) fn notify_all(&self) {
        if self.count.load(Ordering::Relaxed) > 0 {
            let _guard = self.lock.lock();
            self.wake.notify_all();
        }
    }
    // ANCHOR_END: notify
}
