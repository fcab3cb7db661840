//! What a [`Pipeline`](crate::Pipeline) run tells you afterwards: the
//! report, and the error of a run that failed.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use super::cancel::CancelMode;

/// An error returned by a stage function, boxed so that stages with
/// different error types fit in one pipeline.
///
/// ```
/// use queuelab::pipeline::BoxError;
///
/// let from_str: BoxError = "disk full".into();
/// let from_io: BoxError = std::io::Error::other("timed out").into();
/// assert_eq!(from_str.to_string(), "disk full");
/// assert_eq!(from_io.to_string(), "timed out");
/// ```
pub type BoxError = Box<dyn Error + Send + Sync>;

/// The figures of one [`Pipeline`](crate::Pipeline) run.
///
/// For every stage, `processed + failed + never_reached == items_in`: each
/// item taken from the source was either handled by the stage, made it fail,
/// or was dropped before it got there (after another failure). Times are
/// summed over the stage's workers, so with 4 workers they can add up to 4
/// times the wall-clock time.
///
/// `Display` prints it as a table, followed by the failed items and how the
/// run was cancelled, if it was. With the cargo feature `serde`, it (and
/// every type in it) implements `serde::Serialize`, so that
/// `serde_json::to_string(&report)` gives it to scripts as JSON (durations
/// as `{"secs": .., "nanos": ..}`).
///
///
/// ```
/// use queuelab::Pipeline;
///
/// let (out, report) = Pipeline::new(1..=100)
///     .stage("double", 2, |n: u32| n * 2)
///     .stage("show", 1, |n: u32| n.to_string())
///     .run_collect()
///     .unwrap();
/// assert_eq!(out.len(), 100);
/// assert_eq!((report.items_in, report.items_out), (100, 100));
/// assert_eq!(report.stages[1].name, "show");
/// assert_eq!(report.stages[1].processed, 100);
/// println!("{report}");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct PipelineReport {
    /// Items taken from the source.
    pub items_in: u64,
    /// Items handed to the sink (or collected).
    pub items_out: u64,
    /// Items that went through every stage but were dropped before the sink
    /// took them, because the run was stopped by a failure. 0 on success.
    pub undelivered: u64,
    /// How many of the items dropped because of a failure panicked in their
    /// `Drop`: the items lost on the way (counted in `never_reached` and
    /// `undelivered`) and, for
    /// [`run_collect`](crate::Pipeline::run_collect), the items it had
    /// collected. Each such panic is caught, so the run still stops cleanly
    /// and returns its error; the panic hook still prints its message. 0 on
    /// success.
    pub drop_panics: u64,
    /// The most items seen at once in the queue between the last stage and
    /// the sink (see [`StageReport::peak_queue_len`]).
    pub output_peak_len: usize,
    /// The capacity of that queue; `None` when unbounded.
    pub output_capacity: Option<usize>,
    /// Wall-clock time from the start of the run until every thread was
    /// joined.
    pub elapsed: Duration,
    /// One entry per stage, in pipeline order.
    pub stages: Vec<StageReport>,
    /// The name of the stage with the highest busy share
    /// ([`StageReport::utilization`]): the one to give more workers first.
    /// `None` when there are no stages (or none was ever busy).
    pub bottleneck: Option<String>,
    /// Every item a stage failed on for good (after its last attempt), in
    /// the order the failures happened: the skipped ones and the one that
    /// stopped the run. `failures.len()` is the sum of the stages'
    /// [`failed`](StageReport::failed).
    pub failures: Vec<ItemFailure>,
    /// Whether the run was stopped by a
    /// [`CancelHandle`](crate::pipeline::CancelHandle), and how.
    pub cancelled: Option<CancelMode>,
}

/// One item that a stage failed on, in [`PipelineReport::failures`].
///
/// ```
/// use queuelab::Pipeline;
/// use queuelab::pipeline::FailurePolicy;
///
/// let (_, report) = Pipeline::new(["a.png", "b.png", "c.png"])
///     .describe(|name: &&str| name.to_string())
///     .on_failure(FailurePolicy::skip())
///     .try_stage("open", 2, |name: &str| {
///         if name == "b.png" { Err("truncated file") } else { Ok(name.len()) }
///     })
///     .run_collect()
///     .unwrap();
/// let f = &report.failures[0];
/// assert_eq!((f.stage.as_str(), f.item.as_str(), f.index), ("open", "b.png", 1));
/// assert_eq!((f.error.as_str(), f.panicked, f.attempts), ("truncated file", false, 1));
/// assert_eq!(f.to_string(), "stage \"open\" failed on b.png: truncated file");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ItemFailure {
    /// The name of the stage that failed on it.
    pub stage: String,
    /// That stage's position (0 for the first).
    pub stage_index: usize,
    /// The item's position in the source (0 for the first item).
    pub index: u64,
    /// The item, as described by the function given to
    /// [`Pipeline::describe`](crate::Pipeline::describe), or else
    /// `item #<index>`.
    pub item: String,
    /// How many times the stage function was called on it.
    pub attempts: u32,
    /// The message of the last error, or the panic message.
    pub error: String,
    /// Whether the last attempt panicked rather than returned `Err`.
    pub panicked: bool,
}

impl fmt::Display for ItemFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.panicked { "panicked" } else { "failed" };
        write!(f, "stage \"{}\" {how} on {}", self.stage, self.item)?;
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        write!(f, ": {}", self.error)
    }
}

/// The figures of one stage in a [`PipelineReport`].
///
/// ```
/// use queuelab::Pipeline;
///
/// let (_, report) = Pipeline::new(0..10).stage("inc", 3, |n: i32| n + 1).run_collect().unwrap();
/// let inc = &report.stages[0];
/// assert_eq!((inc.workers, inc.processed, inc.failed, inc.never_reached), (3, 10, 0, 0));
/// assert!(inc.peak_queue_len <= 10);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct StageReport {
    /// The name given to the stage.
    pub name: String,
    /// How many worker threads ran it.
    pub workers: usize,
    /// The capacity of its input queue; `None` when unbounded.
    pub capacity: Option<usize>,
    /// Items the stage function returned `Ok` for (or a value, for an
    /// infallible stage).
    pub processed: u64,
    /// Items for which the stage function returned `Err` or panicked (after
    /// the last attempt, with a retry policy), whether they were skipped or
    /// stopped the run.
    pub failed: u64,
    /// Items that never got to this stage's function: skipped by a stage
    /// before it, or dropped because the run was stopped (by a failure, or
    /// by [`cancel_now`](crate::pipeline::CancelHandle::cancel_now)).
    pub never_reached: u64,
    /// Time spent inside the stage function, summed over workers.
    pub busy: Duration,
    /// Time spent waiting for input (in `get`), summed over workers. Includes
    /// the wait for the first item and for the input to be closed.
    pub waiting: Duration,
    /// Time spent waiting for room in a full output queue (in `put`),
    /// summed over workers: the stage after this one was the bottleneck.
    pub blocked: Duration,
    /// The most items seen at once in this stage's input queue. Sampled with
    /// `len()` by whoever puts into the queue, right after each put, so it is
    /// a snapshot: it never exceeds the capacity, but a short peak between
    /// two samples can be missed.
    pub peak_queue_len: usize,
}

impl PipelineReport {
    /// Items delivered per second of wall-clock time.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// let (_, report) = Pipeline::new(0..1000).stage("id", 1, |n: u32| n).run_collect().unwrap();
    /// assert!(report.throughput() > 0.0);
    /// ```
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.items_out as f64 / secs
        } else {
            0.0
        }
    }
}

impl StageReport {
    /// The share of the run its workers spent inside the stage function:
    /// `busy / (workers * elapsed)`, from 0.0 to 1.0. A stage near 1.0 is
    /// the bottleneck; give it more workers.
    ///
    /// ```
    /// use queuelab::Pipeline;
    ///
    /// let (_, report) = Pipeline::new(0..3).stage("id", 1, |n: u8| n).run_collect().unwrap();
    /// let share = report.stages[0].utilization(report.elapsed);
    /// assert!((0.0..=1.0).contains(&share));
    /// ```
    pub fn utilization(&self, elapsed: Duration) -> f64 {
        busy_share(self.busy, self.workers, elapsed)
    }
}

/// `busy / (workers * elapsed)`, from 0.0 to 1.0.
pub(crate) fn busy_share(busy: Duration, workers: usize, elapsed: Duration) -> f64 {
    let total = elapsed.as_secs_f64() * workers as f64;
    if total > 0.0 {
        (busy.as_secs_f64() / total).min(1.0)
    } else {
        0.0
    }
}

/// A short human form: `1.23 s`, `45.6 ms`, `789 us`.
fn short(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 1.0 {
        format!("{secs:.2} s")
    } else if secs >= 1e-3 {
        format!("{:.1} ms", secs * 1e3)
    } else {
        format!("{:.0} us", secs * 1e6)
    }
}

fn capacity(cap: Option<usize>) -> String {
    cap.map_or_else(|| "none".to_string(), |c| c.to_string())
}

impl fmt::Display for PipelineReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .stages
            .iter()
            .map(|s| s.name.len())
            .chain(["stage".len(), "(output)".len()])
            .max()
            .unwrap_or(5);
        writeln!(
            f,
            "{:<width$} {:>7} {:>8} {:>9} {:>6} {:>13} {:>9} {:>9} {:>9} {:>6} {:>10}",
            "stage",
            "workers",
            "capacity",
            "processed",
            "failed",
            "never reached",
            "busy",
            "waiting",
            "blocked",
            "busy %",
            "peak queue",
        )?;
        for s in &self.stages {
            writeln!(
                f,
                "{:<width$} {:>7} {:>8} {:>9} {:>6} {:>13} {:>9} {:>9} {:>9} {:>6.1} {:>10}",
                s.name,
                s.workers,
                capacity(s.capacity),
                s.processed,
                s.failed,
                s.never_reached,
                short(s.busy),
                short(s.waiting),
                short(s.blocked),
                100.0 * s.utilization(self.elapsed),
                s.peak_queue_len,
            )?;
        }
        writeln!(
            f,
            "{:<width$} {:>7} {:>8} {:>9} {:>6} {:>13} {:>9} {:>9} {:>9} {:>6} {:>10}",
            "(output)",
            "",
            capacity(self.output_capacity),
            self.items_out,
            "",
            self.undelivered,
            "",
            "",
            "",
            "",
            self.output_peak_len,
        )?;
        write!(
            f,
            "{} items in, {} out in {} ({:.0} items/s)",
            self.items_in,
            self.items_out,
            short(self.elapsed),
            self.throughput()
        )?;
        if let Some(stage) = &self.bottleneck {
            write!(
                f,
                "\nbottleneck: {stage} (its workers were busy the largest share of the run)"
            )?;
        }
        if !self.failures.is_empty() {
            let n = self.failures.len();
            write!(f, "\n{n} failed item{}:", if n == 1 { "" } else { "s" })?;
            for failure in &self.failures {
                write!(f, "\n  {failure}")?;
            }
        }
        match self.cancelled {
            Some(CancelMode::Graceful) => write!(f, "\ncancelled: no more items were taken")?,
            Some(CancelMode::Now) => {
                write!(f, "\ncancelled now: the items in flight were dropped")?
            }
            None => {}
        }
        if self.drop_panics > 0 {
            write!(
                f,
                "\n{} dropped items panicked in Drop (caught)",
                self.drop_panics
            )?;
        }
        Ok(())
    }
}

/// Why a stage gave up on an item.
///
/// ```
/// use queuelab::{Pipeline, StageFailure};
///
/// let err = Pipeline::new(["1", "x"])
///     .try_stage("parse", 1, |s: &str| s.parse::<u8>())
///     .run_collect()
///     .unwrap_err();
/// match err.failure() {
///     StageFailure::Error(e) => assert!(e.is::<std::num::ParseIntError>()),
///     StageFailure::Panic(_) => unreachable!(),
/// }
/// ```
#[derive(Debug)]
pub enum StageFailure {
    /// The stage function returned this error.
    Error(BoxError),
    /// The stage function panicked with this message (or a placeholder when
    /// the panic payload was not a string).
    Panic(String),
}

impl fmt::Display for StageFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StageFailure::Error(e) => write!(f, "failed: {e}"),
            StageFailure::Panic(msg) => write!(f, "panicked: {msg}"),
        }
    }
}

/// A [`Pipeline`](crate::Pipeline) run that stopped because a stage failed.
///
/// It names the stage, says how it failed, and carries the
/// [`PipelineReport`] of the run up to the failure. By then every thread has
/// been joined. Its message includes the stage's own error message; reach
/// the error itself with [`failure`](Self::failure).
///
/// ```
/// use queuelab::Pipeline;
///
/// let err = Pipeline::new(1..=5)
///     .stage("check", 1, |n: u32| {
///         assert!(n != 3, "three is not allowed");
///         n
///     })
///     .run_collect()
///     .unwrap_err();
/// assert_eq!(err.stage_name(), "check");
/// assert_eq!(err.to_string(), "stage \"check\" panicked: three is not allowed");
/// let check = &err.report().stages[0];
/// assert_eq!(check.failed, 1);
/// assert_eq!(check.processed + check.failed + check.never_reached, err.report().items_in);
/// ```
#[derive(Debug)]
pub struct PipelineError {
    pub(crate) stage_index: Option<usize>,
    pub(crate) stage_name: String,
    pub(crate) failure: StageFailure,
    pub(crate) report: Box<PipelineReport>,
}

impl PipelineError {
    /// The name of the stage that failed first; `"source"` when the source
    /// iterator panicked.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// let err = Pipeline::new([0])
    ///     .try_stage("div", 1, |n: i32| 10i32.checked_div(n).ok_or("division by zero"))
    ///     .run_collect()
    ///     .unwrap_err();
    /// assert_eq!(err.stage_name(), "div");
    /// ```
    pub fn stage_name(&self) -> &str {
        &self.stage_name
    }

    /// The position of that stage (0 for the first); `None` for the source.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// let err = Pipeline::new([1])
    ///     .stage("ok", 1, |n: i32| n)
    ///     .try_stage("bad", 1, |_: i32| Err::<i32, _>("no"))
    ///     .run_collect()
    ///     .unwrap_err();
    /// assert_eq!(err.stage_index(), Some(1));
    /// ```
    pub fn stage_index(&self) -> Option<usize> {
        self.stage_index
    }

    /// How the stage failed: the error it returned, or its panic message.
    ///
    /// ```
    /// use queuelab::{Pipeline, StageFailure};
    /// let err = Pipeline::new([1])
    ///     .stage("boom", 1, |_: i32| -> i32 { panic!("kaboom") })
    ///     .run_collect()
    ///     .unwrap_err();
    /// assert!(matches!(err.failure(), StageFailure::Panic(m) if m == "kaboom"));
    /// ```
    pub fn failure(&self) -> &StageFailure {
        &self.failure
    }

    /// The report of the run up to the failure.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// let err = Pipeline::new(0..10)
    ///     .try_stage("first", 1, |n: u32| if n == 0 { Err("zero") } else { Ok(n) })
    ///     .run_collect()
    ///     .unwrap_err();
    /// assert_eq!(err.report().stages[0].failed, 1);
    /// ```
    pub fn report(&self) -> &PipelineReport {
        &self.report
    }

    /// Takes the report out of the error.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// let err = Pipeline::new([1, 2])
    ///     .try_stage("no", 1, |_: i32| Err::<i32, _>("never"))
    ///     .run_collect()
    ///     .unwrap_err();
    /// let report = err.into_report();
    /// assert_eq!(report.items_out, 0);
    /// ```
    pub fn into_report(self) -> PipelineReport {
        *self.report
    }
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stage \"{}\" {}", self.stage_name, self.failure)
    }
}

// The stage's error is part of the message above, so `source` is left at
// `None`: an error reporter that walks the chain would print it twice.
// `failure()` gives access to the error itself.
impl Error for PipelineError {}
