//! Stopping a run from outside: the [`CancelHandle`], and the signal that
//! wakes the run's sleeping threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use crate::sync::{Condvar, Mutex};

/// How a run was cancelled (see [`CancelHandle`]).
///
/// ```
/// use queuelab::pipeline::CancelMode;
/// assert!(CancelMode::Graceful < CancelMode::Now); // `Now` overrides `Graceful`
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum CancelMode {
    /// No more items were taken from the source; the items already taken
    /// went through the pipeline as usual.
    Graceful,
    /// Every queue was closed with
    /// [`close_now`](crate::ClosableQueue::close_now), as a failure does: the
    /// items in flight were dropped and counted as never reached.
    Now,
}

const RUNNING: u8 = 0;
const GRACEFUL: u8 = 1;
const NOW: u8 = 2;

/// What a [`CancelHandle`] shares with the run, and the signal that wakes
/// the run's sleepers: the workers pausing between retries, the source
/// waiting for the ordered window, and the monitor thread (which does the
/// `close_now` of [`CancelMode::Now`], and calls the progress hook).
#[derive(Debug)]
pub(crate) struct Control {
    mode: AtomicU8,
    /// Whether the sink's loop has ended (the monitor then ends too).
    pub(crate) over: Mutex<bool>,
    /// Wakes the monitor and the workers pausing between attempts.
    pub(crate) wake: Condvar,
    /// Wakes the source waiting for the ordered window to move.
    pub(crate) window: Condvar,
}

impl Control {
    pub(crate) fn new() -> Self {
        Control {
            mode: AtomicU8::new(RUNNING),
            over: Mutex::new(false),
            wake: Condvar::new(),
            window: Condvar::new(),
        }
    }

    pub(crate) fn cancelled(&self) -> Option<CancelMode> {
        match self.mode.load(Ordering::Acquire) {
            RUNNING => None,
            GRACEFUL => Some(CancelMode::Graceful),
            _ => Some(CancelMode::Now),
        }
    }

    /// Asks the run to stop, unless its sink's loop has already ended.
    fn cancel(&self, mode: u8) {
        let over = self.over.lock();
        if !*over {
            self.mode.fetch_max(mode, Ordering::AcqRel);
            self.wake.notify_all();
            self.window.notify_all();
        }
    }

    /// Wakes every sleeper, to re-check whether the run is stopping. Taking
    /// the lock first means that a sleeper that checked before the change
    /// is already waiting, and gets the notification.
    pub(crate) fn wake_all(&self) {
        let _over = self.over.lock();
        self.wake.notify_all();
        self.window.notify_all();
    }

    /// Sleeps on `cv` until `done()` or `deadline` (`None`: no deadline).
    /// Returns whether `done()` held. `done` is checked under the lock, so
    /// whoever makes it true must call [`wake_all`](Self::wake_all) (or
    /// notify `cv` under the lock) after.
    pub(crate) fn sleep_until(
        &self,
        cv: &Condvar,
        deadline: Option<Instant>,
        mut done: impl FnMut(bool) -> bool,
    ) -> bool {
        let mut over = self.over.lock();
        loop {
            if done(*over) {
                return true;
            }
            match deadline {
                None => cv.wait(&mut over),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    cv.wait_for(&mut over, deadline - now);
                }
            }
        }
    }
}

// ANCHOR: cancel_handle
/// Stops a [`Pipeline`](crate::Pipeline) run from another thread (or a
/// Ctrl-C handler). Get it with
/// [`Pipeline::cancel_handle`](crate::Pipeline::cancel_handle) before the
/// run starts; it is cheap to clone, and can be kept after the run.
///
/// - [`cancel_graceful`](Self::cancel_graceful): take no more items from
///   the source, let the items already taken go through, return the report.
/// - [`cancel_now`](Self::cancel_now): close every queue with
///   [`close_now`](crate::ClosableQueue::close_now), as a failure does; the
///   items in flight are dropped and counted as never reached.
///
/// Either way every thread is joined, the run returns `Ok` (unless a stage
/// failed too) and [`PipelineReport::cancelled`](crate::PipelineReport::cancelled)
/// says how it was cancelled. A stage function or a source iterator already
/// running is not interrupted: the run returns once it has returned. Items
/// that were never taken from the source are not counted anywhere (the
/// source may be endless). Cancelling before the run starts makes it take
/// no items; cancelling after it ended does nothing. `cancel_now` after
/// `cancel_graceful` still stops the run at once.
///
/// ```
/// use queuelab::Pipeline;
/// use queuelab::pipeline::CancelMode;
///
/// let pipeline = Pipeline::new(0..).stage("id", 2, |n: u64| n); // endless
/// let cancel = pipeline.cancel_handle();
/// let report = pipeline
///     .run_with_sink(|n| {
///         if n == 100 {
///             cancel.cancel_graceful();
///         }
///     })
///     .unwrap();
/// assert_eq!(report.cancelled, Some(CancelMode::Graceful));
/// assert_eq!(report.items_out, report.items_in); // everything taken got out
/// ```
#[derive(Debug, Clone)]
pub struct CancelHandle {
    pub(crate) control: Arc<Control>,
}
// ANCHOR_END: cancel_handle

impl CancelHandle {
    /// Stops taking items from the source; the items already taken finish.
    ///
    /// ```
    /// use queuelab::Pipeline;
    ///
    /// let pipeline = Pipeline::new(0..10).stage("id", 1, |n: u8| n);
    /// pipeline.cancel_handle().cancel_graceful(); // before the run: it takes nothing
    /// let (out, report) = pipeline.run_collect().unwrap();
    /// assert!(out.is_empty());
    /// assert_eq!(report.items_in, 0);
    /// ```
    pub fn cancel_graceful(&self) {
        self.control.cancel(GRACEFUL);
    }

    /// Closes every queue at once; the items in flight are dropped.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// use queuelab::pipeline::CancelMode;
    ///
    /// let pipeline = Pipeline::new(0..).stage("id", 2, |n: u64| n);
    /// let cancel = pipeline.cancel_handle();
    /// let report = pipeline
    ///     .run_with_sink(|n| {
    ///         if n == 10 {
    ///             cancel.cancel_now();
    ///         }
    ///     })
    ///     .unwrap();
    /// assert_eq!(report.cancelled, Some(CancelMode::Now));
    /// let id = &report.stages[0];
    /// assert_eq!(id.processed + id.failed + id.never_reached, report.items_in);
    /// ```
    pub fn cancel_now(&self) {
        self.control.cancel(NOW);
    }

    /// How the run was asked to stop, if it was.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// use queuelab::pipeline::CancelMode;
    ///
    /// let pipeline = Pipeline::new([1]);
    /// let cancel = pipeline.cancel_handle();
    /// assert_eq!(cancel.cancelled(), None);
    /// cancel.cancel_graceful();
    /// assert_eq!(cancel.cancelled(), Some(CancelMode::Graceful));
    /// ```
    pub fn cancelled(&self) -> Option<CancelMode> {
        self.control.cancelled()
    }
}
