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
//! load of `count` sees the sleeper. The mutex does the rest: the sleeper
//! holds it from registering until `wait` lets go of it, and the waker
//! takes it (and lets it go at once) before it notifies, so the sleeper it
//! saw in `count` is already waiting when the notification comes.
//!
//! The waker notifies *after* letting go of the mutex. Notified under the
//! mutex, the woken thread first has to wait for the waker to let go of it;
//! measured in Effective Python's pipeline next to three busy processes, that
//! made step 6 several times slower at capacity 64 (book, step-6 chapter).
//!
//! The argument uses only read-modify-writes and acquire/release, which
//! loom models exactly. The usual shortcut, a `SeqCst` store on one side and
//! a `SeqCst` load on the other, is correct too, but loom treats `SeqCst`
//! loads and stores as acquire/release (tokio-rs/loom#180) and would report
//! a lost wake-up that cannot happen; a plain `Acquire` load in the
//! sleeper's check really is wrong, and loom finds that
//! (`tests/loom_broken_ring.rs`, `sleepers_check_with_load_deadlocks`).

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{self, AtomicU32, AtomicU64};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::queue::Deadline;
use crate::sync::{AtomicUsize, Backoff, Condvar, Mutex, Ordering, clock, cpu_clock, yield_now};

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
    /// that made the change the sleepers wait for. Taking the lock waits
    /// for a sleeper that registered to be waiting; the notification comes
    /// after the lock is let go (module docs).
    // ANCHOR: notify
    pub(crate) fn notify_one(&self) {
        if self.count.load(Ordering::Relaxed) > 0 {
            drop(self.lock.lock());
            self.wake.notify_one();
        }
    }

    /// Wakes every sleeper, if any.
    pub(crate) fn notify_all(&self) {
        if self.count.load(Ordering::Relaxed) > 0 {
            drop(self.lock.lock());
            self.wake.notify_all();
        }
    }
    // ANCHOR_END: notify
}

// ANCHOR: patience
/// How a thread that has to wait passes the time before it sleeps: a few
/// rounds of spinning, then a few yields, unless yielding does not pay on
/// this machine right now.
///
/// **Why both.** Sleeping costs the waker a system call and the sleeper a
/// trip through the scheduler, far more than one hand-off through the ring.
/// When the other side is running on the other core, a short spin sees the
/// change. When it is runnable but waiting for this core (more threads
/// than cores, as in Effective Python's pipeline), a yield lets it run: a few
/// microseconds on an idle machine.
///
/// **Why not always.** When other programs keep the cores busy, a yield
/// hands the core to one of them for a whole time slice (4 ms here), and a
/// thread that spins and yields stays runnable, so it also takes turns that
/// the threads with work could have had. So every yield is timed, and a
/// long one is checked against the process's CPU clock: did the core go
/// to one of our own threads (a process with more threads than cores), or
/// to another program? When enough of the last yields of the process gave
/// the core to another program, every waiting thread skips its yields and
/// sleeps straight after its spins, for a quiet time; then a few probing
/// yields tell whether the machine is still busy.
#[derive(Debug, Default)]
pub(crate) struct Patience {
    backoff: Backoff,
    rounds: u32,
}

/// Spin rounds before the first yield: `Backoff::spin` doubles its pauses
/// each round, 127 in all. None under loom, which would explore every one.
const SPINS: u32 = if cfg!(loom) { 0 } else { 7 };
/// Yields after the spins, before sleeping.
const YIELDS: u32 = if cfg!(loom) { 1 } else { 4 };
/// A yield that took longer than this gave the core away: to one of our
/// threads, or to another program (`ours_ran` tells which).
const LONG_YIELD: Duration = Duration::from_micros(500);
/// Yields are judged in windows of this many, across all threads.
const WINDOW: u64 = 64;
/// A window with this many yields that gave the core to another program
/// starts a quiet time. Measured in Effective Python's pipeline on this crate's
/// 2-core machine: on an idle machine, no window of 64 had more than 7
/// long yields, most had none; next to three busy processes, none had
/// fewer than 14.
const LONG_IN_WINDOW: u64 = 12;
/// The first quiet time; each one that follows another doubles, up to
/// `QUIET` times `2^MAX_DOUBLINGS`.
const QUIET: Duration = Duration::from_millis(50);
const MAX_DOUBLINGS: u32 = 5;
/// Once a quiet time is over, one yield per this interval probes whether
/// the machine is still busy, until a window is full.
const PROBE: Duration = Duration::from_millis(1);

/// Until when (in nanoseconds after `epoch()`) yielding does not pay, or 0
/// if it does. Like the two below, a hint shared by the whole process and
/// read and written `Relaxed`: a thread that reads a stale value only
/// yields once too often or too rarely. None of them is a loom cell, as no
/// promise of the queues rests on them; under loom there is no clock, and
/// they stay 0.
static QUIET_UNTIL: AtomicU64 = AtomicU64::new(0);
/// The yields of the current window (low half) and how many were long
/// (high half).
static YIELDS_AND_LONG: AtomicU64 = AtomicU64::new(0);
/// How many quiet times in a row there have been.
static QUIET_TIMES: AtomicU32 = AtomicU32::new(0);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn nanos_since_epoch(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch()).as_nanos()).unwrap_or(u64::MAX)
}

impl Patience {
    pub(crate) fn new() -> Self {
        Patience::default()
    }

    /// Waits a little, or returns `false` when it is time to sleep.
    // Under loom `SPINS` is 0, and clippy calls `rounds < SPINS` absurd.
    #[cfg_attr(loom, allow(clippy::absurd_extreme_comparisons))]
    pub(crate) fn wait(&mut self) -> bool {
        if self.rounds < SPINS {
            self.backoff.spin();
        } else if self.rounds < SPINS + YIELDS && yielding_pays() {
            timed_yield();
        } else {
            return false;
        }
        self.rounds += 1;
        true
    }
}

/// Whether a waiting thread should yield, rather than sleep, right now.
/// When a quiet time is over, one thread (the one that moves its end) gets
/// to yield, to probe whether the machine is still busy; the others go on
/// sleeping.
fn yielding_pays() -> bool {
    let until = QUIET_UNTIL.load(atomic::Ordering::Relaxed);
    if until == 0 {
        return true;
    }
    let Some(now) = clock() else {
        return true;
    };
    let now = nanos_since_epoch(now);
    now >= until
        && QUIET_UNTIL
            .compare_exchange(
                until,
                now.saturating_add(PROBE.as_nanos() as u64),
                atomic::Ordering::Relaxed,
                atomic::Ordering::Relaxed,
            )
            .is_ok()
}

/// Yields, and counts whether the core went to another program meanwhile.
/// The yield that fills a window judges it: enough such yields start a
/// quiet time (twice as long as the last, if that one was quiet too),
/// otherwise yielding pays again.
pub(crate) fn timed_yield() {
    let Some(start) = clock() else {
        return yield_now();
    };
    let sample = cpu_sample(start);
    yield_now();
    let Some(end) = clock() else {
        return;
    };
    let add = if end - start > LONG_YIELD && !ours_ran(end, sample) {
        1 << 32 | 1
    } else {
        1
    };
    let window = YIELDS_AND_LONG.fetch_add(add, atomic::Ordering::Relaxed) + add;
    if window & u64::from(u32::MAX) < WINDOW {
        return;
    }
    YIELDS_AND_LONG.store(0, atomic::Ordering::Relaxed);
    if window >> 32 >= LONG_IN_WINDOW {
        let doublings = QUIET_TIMES
            .fetch_add(1, atomic::Ordering::Relaxed)
            .min(MAX_DOUBLINGS);
        QUIET_UNTIL.store(
            nanos_since_epoch(end + QUIET * (1 << doublings)),
            atomic::Ordering::Relaxed,
        );
    } else if QUIET_UNTIL.load(atomic::Ordering::Relaxed) != 0 {
        QUIET_TIMES.store(0, atomic::Ordering::Relaxed);
        QUIET_UNTIL.store(0, atomic::Ordering::Relaxed);
    }
}

/// A sample of the process's CPU clock is taken at most this often per
/// thread: reading it is a system call (`examples/yield_cost.rs` prints
/// what one costs: about half a microsecond on this crate's machine).
const CPU_SAMPLE_AGE: Duration = Duration::from_micros(100);

/// This thread's latest sample of (wall clock, process CPU clock), taken
/// afresh if it is older than `CPU_SAMPLE_AGE`.
fn cpu_sample(now: Instant) -> Option<(Instant, Duration)> {
    thread_local! {
        static SAMPLE: Cell<Option<(Instant, Duration)>> = const { Cell::new(None) };
    }
    SAMPLE.with(|sample| match sample.get() {
        Some((at, cpu)) if now - at < CPU_SAMPLE_AGE => Some((at, cpu)),
        _ => {
            let fresh = cpu_clock().map(|cpu| (now, cpu));
            sample.set(fresh);
            fresh
        }
    })
}

/// Whether this process's own threads had the cores during a long yield.
/// A process with more runnable threads than cores (Effective Python's
/// pipeline with 3/4/5 workers has 12, this machine 2) sees long yields on
/// an idle machine too: the core went to one of its own threads, which had
/// work. Then the process
/// used nearly every core for the whole time; when the yield's core went to
/// another program, it used at most the others. So: since `sample`, at
/// least `cores - 1/2` times the time passed in CPU time means "ours".
fn ours_ran(end: Instant, sample: Option<(Instant, Duration)>) -> bool {
    static CORES: OnceLock<f64> = OnceLock::new();
    let cores =
        *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64));
    match (sample, cpu_clock()) {
        (Some((at, before)), Some(after)) => {
            let used = after.saturating_sub(before).as_secs_f64();
            used >= (end - at).as_secs_f64() * (cores - 0.5)
        }
        _ => false,
    }
}

// ANCHOR_END: patience
