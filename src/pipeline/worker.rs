//! The two worker threads of Effective Python, Item 55: the polling
//! `Worker` and the `StoppableWorker`.
//!
//! Both take items from an input queue, apply a function and put the result
//! on an output queue, each in a thread of its own. They differ in how they
//! wait for work and in how they end:
//!
//! - [`PollingWorker`] reads a [`PollingQueue`], which cannot make a reader
//!   wait, so it asks again and again and counts every question (`polls`)
//!   next to the items it handled (`work_done`). Item 55's version loops for
//!   ever; this one stops when [`PollingWorker::stop`] is called (or when it
//!   is dropped).
//! - [`StoppableWorker`] reads a [`ClosableQueue`] with `for item in &input`:
//!   it sleeps while the queue is empty and ends by itself once the queue is
//!   closed and drained. No polling, no stop flag.
//!   [`StoppableWorker::stop_all`] stops a pool of them like Effective
//!   Python's `stop_threads` (close, wait, join), except that a worker that
//!   panicked cannot make it hang: the items it leaves behind are handed
//!   back in a [`StopError`].

use std::any::Any;
use std::fmt;
use std::panic;
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::ClosableQueue;
use crate::error::Closed;
use crate::pipeline::run::panic_message;
use crate::queue::polling::PollingQueue;
use crate::sync::Backoff;

/// What a [`PollingWorker`] does after it found its input queue empty,
/// before it polls again.
///
/// ```
/// use std::time::Duration;
/// use queuelab::PollStrategy;
///
/// let item_55 = PollStrategy::Sleep(Duration::from_millis(10)); // time.sleep(0.01)
/// assert_ne!(item_55, PollStrategy::Yield);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollStrategy {
    /// Sleep this long (Item 55's workers sleep 10 ms). Few polls, little
    /// CPU, but an item that arrives meanwhile waits up to this long.
    /// [`PollingWorker::stop`] wakes a sleeping worker at once.
    Sleep(Duration),
    /// Give the rest of the time slice to another thread
    /// ([`std::thread::yield_now`]) and poll again at once. Reacts fast,
    /// burns a core while idle.
    Yield,
    /// crossbeam-utils' `Backoff`: spin a few times, then yield, starting
    /// over after every item. Reacts fastest, burns a core while idle.
    Backoff,
}

/// The two counters of the polling `Worker` of Effective Python, Item 55.
///
/// `polls` counts every look at the input queue, the ones that found an item
/// and the ones that found nothing, so `polls >= work_done` and
/// [`empty_polls`](PollCounts::empty_polls) is the waste.
///
/// ```
/// use queuelab::PollCounts;
///
/// let counts = PollCounts { polls: 3009, work_done: 1000 };
/// assert_eq!(counts.empty_polls(), 2009);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PollCounts {
    /// How many times the worker looked at its input queue
    /// (`polled_count` in Item 55).
    pub polls: u64,
    /// How many items it took, processed and passed on (`work_done`).
    pub work_done: u64,
}

impl PollCounts {
    /// Polls that found the queue empty: `polls - work_done`.
    ///
    /// ```
    /// let counts = queuelab::PollCounts { polls: 10, work_done: 4 };
    /// assert_eq!(counts.empty_polls(), 6);
    /// ```
    pub fn empty_polls(&self) -> u64 {
        self.polls.saturating_sub(self.work_done)
    }
}

/// What a polling worker's thread and its owner share.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    polls: AtomicU64,
    work_done: AtomicU64,
}

impl Shared {
    fn counts(&self) -> PollCounts {
        // `work_done` is bumped with Release after `polls`; reading it first
        // with Acquire guarantees the `polls` we read is at least as new, so
        // `polls >= work_done` also while the worker runs.
        let work_done = self.work_done.load(Ordering::Acquire);
        let polls = self.polls.load(Ordering::Relaxed);
        PollCounts { polls, work_done }
    }
}

/// A thread that polls a [`PollingQueue`], applies a function to every item
/// it finds and puts the result on another [`PollingQueue`]: the first
/// `Worker` of Effective Python, Item 55, plus a way to stop it.
///
/// The worker runs until [`stop`](PollingWorker::stop) is called or the
/// `PollingWorker` is dropped (dropping also stops and joins the thread, so
/// a forgotten worker cannot spin for ever). Stopping does not drain the
/// input: items still in it stay there.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use queuelab::{PollStrategy, PollingQueue, PollingWorker};
///
/// let input = Arc::new(PollingQueue::new());
/// let output = Arc::new(PollingQueue::new());
/// let worker = PollingWorker::spawn(
///     Arc::clone(&input),
///     Arc::clone(&output),
///     PollStrategy::Sleep(Duration::from_millis(1)),
///     |n: u32| n * 10,
/// );
/// for n in 1..=3 {
///     input.put(n);
/// }
/// let mut results = Vec::new();
/// while results.len() < 3 {
///     match output.try_get() {
///         Some(n) => results.push(n), // the caller polls too, as in Item 55
///         None => std::thread::yield_now(),
///     }
/// }
/// let counts = worker.stop();
/// assert_eq!(results, [10, 20, 30]);
/// assert_eq!(counts.work_done, 3);
/// assert!(counts.polls >= 3);
/// ```
pub struct PollingWorker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl PollingWorker {
    /// Starts a thread that polls `input` with `strategy`, and for each item
    /// puts `func(item)` on `output`.
    ///
    /// # Panics
    ///
    /// If the operating system cannot start a thread.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use queuelab::{PollStrategy, PollingQueue, PollingWorker};
    ///
    /// let input = Arc::new(PollingQueue::<u8>::new());
    /// let output = Arc::new(PollingQueue::new());
    /// let worker = PollingWorker::spawn(input, output, PollStrategy::Yield, |b| b as char);
    /// assert_eq!(worker.stop().work_done, 0);
    /// ```
    pub fn spawn<T, U, F>(
        input: Arc<PollingQueue<T>>,
        output: Arc<PollingQueue<U>>,
        strategy: PollStrategy,
        func: F,
    ) -> PollingWorker
    where
        T: Send + 'static,
        U: Send + 'static,
        F: FnMut(T) -> U + Send + 'static,
    {
        let shared = Arc::new(Shared::default());
        let thread = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || poll_loop(&input, &output, strategy, &shared, func))
        };
        PollingWorker {
            shared,
            thread: Some(thread),
        }
    }

    /// The counts so far, read while the worker runs.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use queuelab::{PollStrategy, PollingQueue, PollingWorker};
    ///
    /// let input = Arc::new(PollingQueue::new());
    /// let output = Arc::new(PollingQueue::new());
    /// let worker = PollingWorker::spawn(input.clone(), output.clone(), PollStrategy::Backoff, |x: i32| -x);
    /// input.put(5);
    /// while worker.counts().work_done < 1 {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(output.try_get(), Some(-5));
    /// ```
    pub fn counts(&self) -> PollCounts {
        self.shared.counts()
    }

    /// Tells the worker to stop, waits for its thread to end, and returns
    /// its final counts. A worker that is sleeping between polls is woken.
    ///
    /// # Panics
    ///
    /// If `func` panicked, `stop` panics with the same payload (as
    /// [`std::thread::scope`] does for its threads).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use queuelab::{PollStrategy, PollingQueue, PollingWorker};
    ///
    /// let q = Arc::new(PollingQueue::<()>::new());
    /// let hour = PollStrategy::Sleep(Duration::from_secs(3600));
    /// let worker = PollingWorker::spawn(q.clone(), q, hour, |x| x);
    /// let counts = worker.stop(); // returns at once, not after an hour
    /// assert_eq!(counts.work_done, 0);
    /// ```
    pub fn stop(mut self) -> PollCounts {
        if let Err(payload) = self.stop_and_join() {
            panic::resume_unwind(payload);
        }
        self.counts()
    }

    fn stop_and_join(&mut self) -> thread::Result<()> {
        self.shared.stop.store(true, Ordering::Release);
        match self.thread.take() {
            Some(thread) => {
                thread.thread().unpark();
                thread.join()
            }
            None => Ok(()),
        }
    }
}

impl Drop for PollingWorker {
    fn drop(&mut self) {
        // A panic of `func` is dropped here: panicking inside `drop` could
        // abort the process. Call `stop` to see it.
        let _ = self.stop_and_join();
    }
}

impl fmt::Debug for PollingWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollingWorker")
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

// ANCHOR: poll_loop
/// The body of a polling worker's thread: Item 55's `Worker.run`, with a
/// stop flag instead of `while True`.
fn poll_loop<T, U>(
    input: &PollingQueue<T>,
    output: &PollingQueue<U>,
    strategy: PollStrategy,
    shared: &Shared,
    mut func: impl FnMut(T) -> U,
) {
    let mut backoff = Backoff::new();
    while !shared.stop.load(Ordering::Acquire) {
        shared.polls.fetch_add(1, Ordering::Relaxed);
        match input.try_get() {
            Some(item) => {
                output.put(func(item));
                shared.work_done.fetch_add(1, Ordering::Release);
                backoff = Backoff::new();
            }
            // Nothing to do: wait a little, then ask again.
            None => match strategy {
                // `park_timeout` sleeps like `thread::sleep`, but `stop` can
                // cut the sleep short with `unpark`.
                PollStrategy::Sleep(pause) => thread::park_timeout(pause),
                PollStrategy::Yield => thread::yield_now(),
                PollStrategy::Backoff => backoff.snooze(),
            },
        }
    }
}
// ANCHOR_END: poll_loop

/// A thread that takes items from a [`ClosableQueue`] until it is closed and
/// drained, and puts `func(item)` on another [`ClosableQueue`]: the
/// `StoppableWorker` of Effective Python, Item 55.
///
/// It never polls: while the input is empty, its `get` sleeps. It ends by
/// itself once the input is closed and drained; [`join`](Self::join) then
/// returns how many items it processed. If the *output* is closed while it
/// still has a result to deliver, it stops early and `join` hands that result
/// back in `Err(Closed(result))`; the items it did not take stay in the
/// input.
///
/// If `func` panics, the thread ends. The item it was working on is marked
/// done on the input, but the items behind it stay in the input, unfinished:
/// when no other worker is left to take them, the input's
/// [`join`](ClosableQueue::join) waits for ever. So Effective Python's
/// stop order (close the input, `join` it, then join the threads) hangs
/// after a panic, and the panic never reaches the caller.
/// [`stop_all`](Self::stop_all) stops a pool of workers without that hang.
///
/// Dropping a `StoppableWorker` detaches its thread (like dropping a
/// [`JoinHandle`]); the thread still ends when the input is closed.
///
/// ```
/// use std::sync::Arc;
/// use queuelab::{ClosableQueue, StoppableWorker};
///
/// let input = Arc::new(ClosableQueue::bounded(2));
/// let output = Arc::new(ClosableQueue::unbounded());
/// let worker = StoppableWorker::spawn(Arc::clone(&input), Arc::clone(&output), |s: &str| s.len());
/// for word in ["one", "three", "seven"] {
///     input.put(word).unwrap();
/// }
/// input.close(); // no more input: the worker ends once it has drained it
/// assert_eq!(worker.join(), Ok(3));
/// output.close();
/// assert_eq!(output.iter().collect::<Vec<_>>(), [3, 5, 5]);
/// ```
pub struct StoppableWorker<U> {
    thread: JoinHandle<Result<u64, Closed<U>>>,
    /// Items whose result was put on the output. The thread counts in here,
    /// so the count survives a panic.
    processed: Arc<AtomicU64>,
    /// The input queue, so that [`stop_all`](Self::stop_all) can check it
    /// was given the right one.
    input: Arc<dyn Any + Send + Sync>,
}

impl<U: Send + 'static> StoppableWorker<U> {
    /// Starts a thread that runs `for item in &input { output.put(func(item)) }`.
    ///
    /// Each item is marked done on `input` (for [`ClosableQueue::join`])
    /// once its result has been put on `output`, as in Item 55.
    ///
    /// # Panics
    ///
    /// If the operating system cannot start a thread.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use queuelab::{ClosableQueue, StoppableWorker};
    ///
    /// let input = Arc::new(ClosableQueue::unbounded());
    /// let output = Arc::new(ClosableQueue::unbounded());
    /// let worker = StoppableWorker::spawn(input.clone(), output.clone(), |n: u64| n + 1);
    /// input.put(41).unwrap();
    /// input.join(); // waits until the worker has handled the item
    /// assert_eq!(output.try_get(), Ok(42));
    /// input.close();
    /// assert_eq!(worker.join(), Ok(1));
    /// ```
    pub fn spawn<T, F>(
        input: Arc<ClosableQueue<T>>,
        output: Arc<ClosableQueue<U>>,
        func: F,
    ) -> StoppableWorker<U>
    where
        T: Send + 'static,
        F: FnMut(T) -> U + Send + 'static,
    {
        let processed = Arc::new(AtomicU64::new(0));
        let thread = {
            let (input, processed) = (Arc::clone(&input), Arc::clone(&processed));
            thread::spawn(move || stoppable_loop(&input, &output, &processed, func))
        };
        StoppableWorker {
            thread,
            processed,
            input,
        }
    }

    /// Waits for the thread to end. `Ok(n)`: the input was closed and
    /// drained after `n` items. `Err(Closed(result))`: the output was closed,
    /// and `result` is the one that could not be delivered.
    ///
    /// # Panics
    ///
    /// If `func` panicked, `join` panics with the same payload. The item
    /// that was being processed is still marked done on the input, but the
    /// items behind it are not: see [`stop_all`](Self::stop_all).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use queuelab::{ClosableQueue, Closed, StoppableWorker};
    ///
    /// let input = Arc::new(ClosableQueue::unbounded());
    /// let output = Arc::new(ClosableQueue::unbounded());
    /// output.close(); // nobody will take results
    /// let worker = StoppableWorker::spawn(input.clone(), output, |n: i32| n * 2);
    /// input.put(21).unwrap();
    /// assert_eq!(worker.join(), Err(Closed(42))); // the result is handed back
    /// ```
    pub fn join(self) -> Result<u64, Closed<U>> {
        match self.thread.join() {
            Ok(result) => result,
            Err(payload) => panic::resume_unwind(payload),
        }
    }

    /// Whether the thread has ended, without waiting.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use queuelab::{ClosableQueue, StoppableWorker};
    ///
    /// let input = Arc::new(ClosableQueue::<u8>::unbounded());
    /// let output = Arc::new(ClosableQueue::unbounded());
    /// let worker = StoppableWorker::spawn(input.clone(), output, |b| b);
    /// input.close();
    /// while !worker.is_finished() {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(worker.join(), Ok(0));
    /// ```
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Stops a pool of workers that all read `input`: Effective Python's
    /// `stop_threads` (Item 55), in an order that cannot hang on a worker
    /// that died.
    ///
    /// 1. Closes `input`: no more items will come.
    /// 2. Joins every worker. A worker ends once `input` is closed and
    ///    drained, or when `func` panicked, or when it found its output
    ///    closed.
    /// 3. Takes back with [`close_now`](ClosableQueue::close_now) the items
    ///    still in `input` (there are some only if a worker panicked or
    ///    stopped early), so that `input.join()` returns at once.
    ///
    /// Effective Python waits for the items first (`input.join()`) and joins
    /// the threads after. With no worker left to take the items, that first
    /// wait never ends. Joining the threads first waits only for threads
    /// that are still running.
    ///
    /// It does still wait for a worker that is inside `func`, or that waits
    /// in `put` for room in a full output queue that nobody reads. And it
    /// relies on the workers being `input`'s only consumers: an item taken
    /// with `get` elsewhere and never marked done still keeps `input.join()`
    /// waiting.
    ///
    /// # Errors
    ///
    /// `Ok(n)`: every worker ended cleanly, after processing `n` items in
    /// all, and nothing was left. Otherwise a [`StopError`] with the panics,
    /// the results that could not be delivered, the items left in `input`
    /// and the count of items processed. No item is lost.
    ///
    /// # Panics
    ///
    /// If a worker reads another queue than `input` (closing `input` would
    /// not stop it). Nothing is closed or joined then.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use queuelab::{ClosableQueue, StoppableWorker};
    ///
    /// let input = Arc::new(ClosableQueue::unbounded());
    /// let output = Arc::new(ClosableQueue::unbounded());
    /// let worker = StoppableWorker::spawn(input.clone(), output, |n: u32| {
    ///     assert!(n != 2, "cannot process item {n}");
    ///     n
    /// });
    /// for n in 0..5 {
    ///     input.put(n).unwrap();
    /// }
    /// let err = StoppableWorker::stop_all(&input, vec![worker]).unwrap_err();
    /// assert_eq!(err.panic_messages().collect::<Vec<_>>(), ["cannot process item 2"]);
    /// assert_eq!(err.left, [3, 4]); // handed back
    /// assert_eq!(err.processed, 2);
    /// input.join(); // returns at once
    /// ```
    // ANCHOR: stop_all
    pub fn stop_all<T>(
        input: &ClosableQueue<T>,
        workers: Vec<StoppableWorker<U>>,
    ) -> Result<u64, StopError<T, U>> {
        assert!(
            workers
                .iter()
                .all(|w| ptr::addr_eq(Arc::as_ptr(&w.input), input)),
            "stop_all: a worker reads another queue than `input`"
        );
        input.close();
        let mut err = StopError {
            workers: workers.len(),
            processed: 0,
            panics: Vec::new(),
            undelivered: Vec::new(),
            left: Vec::new(),
        };
        for worker in workers {
            match worker.thread.join() {
                Ok(Ok(_)) => {}
                Ok(Err(Closed(result))) => err.undelivered.push(result),
                Err(payload) => err.panics.push(payload),
            }
            // The join orders the thread's last count before this load.
            err.processed += worker.processed.load(Ordering::Relaxed);
        }
        err.left = input.close_now();
        if err.panics.is_empty() && err.undelivered.is_empty() && err.left.is_empty() {
            Ok(err.processed)
        } else {
            Err(err)
        }
    }
    // ANCHOR_END: stop_all
}

impl<U> fmt::Debug for StoppableWorker<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoppableWorker")
            .field("finished", &self.thread.is_finished())
            .finish_non_exhaustive()
    }
}

// ANCHOR: stoppable_loop
/// The body of a stoppable worker's thread: Item 55's
/// `StoppableWorker.run`. The loop ends when `input` is closed and drained.
/// Only this thread writes `processed`; its owner reads it after joining.
fn stoppable_loop<T, U>(
    input: &ClosableQueue<T>,
    output: &ClosableQueue<U>,
    processed: &AtomicU64,
    mut func: impl FnMut(T) -> U,
) -> Result<u64, Closed<U>> {
    for item in input {
        output.put(func(item))?;
        processed.fetch_add(1, Ordering::Relaxed);
    }
    Ok(processed.load(Ordering::Relaxed))
}
// ANCHOR_END: stoppable_loop

/// What [`StoppableWorker::stop_all`] found when the workers had not all
/// ended cleanly: everything it took back, so that nothing is lost.
///
/// `Display` says what went wrong; `Debug` shows the panic messages and
/// counts, and needs neither `T: Debug` nor `U: Debug`. A panic payload is
/// `Send` but not `Sync`, so `?` turns a `StopError` into a
/// `Box<dyn Error>`, not into a `Box<dyn Error + Send + Sync>`.
///
/// ```
/// use std::sync::Arc;
/// use queuelab::{ClosableQueue, StoppableWorker};
///
/// let input = Arc::new(ClosableQueue::unbounded());
/// let output = Arc::new(ClosableQueue::unbounded());
/// let workers = (0..3)
///     .map(|_| StoppableWorker::spawn(input.clone(), output.clone(), |n: u32| n))
///     .collect();
/// output.close(); // nobody takes the results
/// for n in 0..5 {
///     input.put(n).unwrap();
/// }
/// let err = StoppableWorker::stop_all(&input, workers).unwrap_err();
/// assert!(err.panics.is_empty());
/// // Each item came back: as a refused result, or left in the input.
/// assert_eq!(err.undelivered.len() + err.left.len(), 5);
/// assert!(err.to_string().contains("the output queue was closed"));
/// ```
#[non_exhaustive]
pub struct StopError<T, U> {
    /// How many workers were stopped.
    pub workers: usize,
    /// How many items the workers processed (their result was put on the
    /// output), counting those of workers that panicked later.
    pub processed: u64,
    /// The payloads of the workers' panics, in the order the workers were
    /// given. Read them with [`panic_messages`](Self::panic_messages), or
    /// carry one on with [`std::panic::resume_unwind`].
    pub panics: Vec<Box<dyn Any + Send + 'static>>,
    /// The results that could not be delivered because the output queue was
    /// closed: at most one per worker.
    pub undelivered: Vec<U>,
    /// The items that were still in the input queue once every worker had
    /// ended, oldest first. No worker took them; they are unprocessed.
    pub left: Vec<T>,
}

impl<T, U> StopError<T, U> {
    /// The message of each panic in [`panics`](Self::panics), or a
    /// placeholder for a payload that is not a string.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use queuelab::{ClosableQueue, StoppableWorker};
    ///
    /// let input = Arc::new(ClosableQueue::unbounded());
    /// let output = Arc::new(ClosableQueue::<()>::unbounded());
    /// let worker = StoppableWorker::spawn(input.clone(), output, |_: ()| panic!("out of disk"));
    /// input.put(()).unwrap();
    /// let err = StoppableWorker::stop_all(&input, vec![worker]).unwrap_err();
    /// assert_eq!(err.panic_messages().next(), Some("out of disk"));
    /// ```
    pub fn panic_messages(&self) -> impl Iterator<Item = &str> {
        self.panics.iter().map(|payload| panic_message(&**payload))
    }
}

impl<T, U> fmt::Display for StopError<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(first) = self.panic_messages().next() {
            parts.push(format!(
                "{} of {} workers panicked (first: {first:?})",
                self.panics.len(),
                self.workers
            ));
        }
        match self.undelivered.len() {
            0 => {}
            1 => parts.push("1 result could not be delivered: the output queue was closed".into()),
            n => parts.push(format!(
                "{n} results could not be delivered: the output queue was closed"
            )),
        }
        match self.left.len() {
            0 => {}
            1 => parts.push("1 item was left in the input queue".into()),
            n => parts.push(format!("{n} items were left in the input queue")),
        }
        if parts.is_empty() {
            f.write_str("no worker failed and no item was left")
        } else {
            f.write_str(&parts.join("; "))
        }
    }
}

impl<T, U> fmt::Debug for StopError<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopError")
            .field("workers", &self.workers)
            .field("processed", &self.processed)
            .field("panics", &self.panic_messages().collect::<Vec<_>>())
            .field(
                "undelivered",
                &format_args!("{} results", self.undelivered.len()),
            )
            .field("left", &format_args!("{} items", self.left.len()))
            .finish()
    }
}

impl<T, U> std::error::Error for StopError<T, U> {}
