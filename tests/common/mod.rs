//! Helpers shared by the integration tests (`mod common;` in each file).
//!
//! Not every test file uses every helper, hence the `allow(dead_code)`.
#![allow(dead_code)]

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread::{self, Scope, ScopedJoinHandle};
use std::time::Duration;

/// Runs `f` in its own thread and fails the test if it does not return
/// within two minutes (a hang), or re-raises its panic. The limit only
/// catches deadlocks; no test asserts anything about speed.
pub fn within_deadline<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let runner = thread::spawn(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        let _ = tx.send(());
        result
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("hung: it did not return within two minutes");
    match runner.join().unwrap() {
        Ok(r) => r,
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// A scoped thread that the test expects to block inside a queue, with a
/// way to wait until it has: see [`spawn_until_blocked`].
pub struct Watched<'scope, T> {
    handle: ScopedJoinHandle<'scope, T>,
    tid: Option<String>,
}

/// Spawns `f` on a scoped thread and returns once that thread has gone to
/// sleep (or has already finished).
///
/// A test of a blocking path wants to act (put, get, close...) only after
/// the other thread is really blocked inside the queue. Sleeping "long
/// enough" is a guess that fails on a loaded machine, so instead this asks
/// the kernel: on Linux, `/proc/self/task/<tid>/stat` says whether a thread
/// is running (`R`) or sleeping (`S`), and a thread blocked on a condition
/// variable sleeps in the kernel until it is woken.
///
/// The tests never *depend* on the thread being asleep: their assertions hold
/// for a correct queue whatever the timing. Waiting here makes the blocking
/// path the one that actually runs, and makes `assert!(!t.is_finished())` a
/// real check: a queue that fails to block lets the thread finish, and the
/// assertion fails. (On systems without `/proc` this returns at once and the
/// tests are weaker, not wrong.)
pub fn spawn_until_blocked<'scope, T: Send + 'scope>(
    s: &'scope Scope<'scope, '_>,
    f: impl FnOnce() -> T + Send + 'scope,
) -> Watched<'scope, T> {
    let (tx, rx) = mpsc::channel();
    let handle = s.spawn(move || {
        tx.send(kernel_thread_id()).unwrap();
        drop(tx);
        f()
    });
    let tid = rx.recv().unwrap();
    let watched = Watched { handle, tid };
    watched.wait_until_blocked();
    watched
}

impl<T> Watched<'_, T> {
    /// Returns once the thread is asleep or finished. Call it again after
    /// something that should *not* wake the thread for good (a `task_done`
    /// that leaves work unfinished, a `close` that does not release `join`),
    /// then check `is_finished()`.
    pub fn wait_until_blocked(&self) {
        if let Some(tid) = &self.tid {
            while !self.handle.is_finished() && !is_asleep(tid) {
                thread::yield_now();
            }
        }
    }

    /// Whether the thread's closure has returned.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for the thread and returns what its closure returned.
    pub fn join(self) -> T {
        self.handle.join().expect("watched thread panicked")
    }
}

/// The calling thread's id as the kernel knows it: `/proc/thread-self` is a
/// link to `<pid>/task/<tid>`.
fn kernel_thread_id() -> Option<String> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    Some(link.file_name()?.to_str()?.to_owned())
}

/// Whether the thread `tid` of this process is sleeping. A thread that has
/// exited has no `stat` file any more; that counts as "not asleep" and the
/// caller's `is_finished` check ends the wait.
fn is_asleep(tid: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return false;
    };
    // The format is `tid (name) STATE ...`; the name may hold spaces and
    // parentheses, so look after the last `)`.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after_name.trim_start().starts_with('S')
}

/// Checks the conservation law of the stress tests: every item
/// `(producer, seq)` with `producer < producers` and `seq < per_producer`
/// appears exactly once in `lists`. Each list holds, per producer, the
/// sequence numbers one consumer received (or that were handed back to one
/// producer); each must be increasing, because a FIFO queue never lets a
/// consumer see a producer's items out of order. Returns how many items
/// each list held, in the order given.
pub fn assert_each_item_once(
    producers: usize,
    per_producer: u64,
    lists: &[Vec<Vec<u64>>],
) -> Vec<u64> {
    let mut seen = vec![vec![false; per_producer as usize]; producers];
    let mut sizes = Vec::with_capacity(lists.len());
    for (i, list) in lists.iter().enumerate() {
        assert_eq!(list.len(), producers, "list {i} has one entry per producer");
        let mut size = 0;
        for (p, seqs) in list.iter().enumerate() {
            for pair in seqs.windows(2) {
                assert!(
                    pair[0] < pair[1],
                    "list {i}: producer {p}'s item {} came after {}",
                    pair[1],
                    pair[0]
                );
            }
            for &seq in seqs {
                let slot = &mut seen[p][seq as usize];
                assert!(!*slot, "item ({p}, {seq}) seen twice");
                *slot = true;
            }
            size += seqs.len() as u64;
        }
        sizes.push(size);
    }
    for (p, flags) in seen.iter().enumerate() {
        if let Some(seq) = flags.iter().position(|&f| !f) {
            panic!("item ({p}, {seq}) was lost");
        }
    }
    sizes
}

/// An item whose `Drop` panics unless it was consumed: for the tests that a
/// panicking `Drop` during a shutdown neither hangs nor aborts the process.
#[derive(Debug)]
pub struct MustConsume(pub u64);

impl MustConsume {
    /// Takes the item apart without running its `Drop`.
    pub fn consume(self) -> u64 {
        let n = self.0;
        std::mem::forget(self);
        n
    }
}

impl Drop for MustConsume {
    fn drop(&mut self) {
        panic!("item {} was dropped without being consumed", self.0);
    }
}

/// Every item taken from the source is, for each stage, processed, failed
/// or never reached; what the last stage processed was delivered or dropped
/// on the way to the sink; and every failure is listed once.
#[allow(dead_code)] // not every test file checks a pipeline's report
pub fn assert_accounted(report: &queuelab::PipelineReport) {
    for s in &report.stages {
        assert_eq!(
            s.processed + s.failed + s.never_reached,
            report.items_in,
            "stage {} does not add up:\n{report}",
            s.name
        );
    }
    let last_out = report
        .stages
        .last()
        .map_or(report.items_in, |s| s.processed);
    assert_eq!(report.items_out + report.undelivered, last_out, "{report}");
    let failed: u64 = report.stages.iter().map(|s| s.failed).sum();
    assert_eq!(report.failures.len() as u64, failed, "{report}");
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else {
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    }
}

/// Checks that making a queue of capacity 0 panicked, with a message that
/// says what is wrong and why 0 is refused.
pub fn assert_zero_capacity_panic<Q>(made: std::thread::Result<Q>) {
    let Err(payload) = made else {
        panic!("a queue of capacity 0 was made");
    };
    let message = panic_message(&*payload);
    assert!(message.contains("capacity must be at least 1"), "{message}");
    // It says why 0 is refused: the two meanings other libraries give it.
    assert!(message.contains("unbounded"), "{message}");
    assert!(message.contains("rendezvous"), "{message}");
}
