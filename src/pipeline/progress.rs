//! Live progress: what the hook set with
//! [`Pipeline::on_progress`](crate::Pipeline::on_progress) is shown.

use std::time::Duration;

/// A snapshot of a running pipeline, handed to the progress hook (see
/// [`Pipeline::on_progress`](crate::Pipeline::on_progress)).
///
/// The figures are read from counters that the workers update after each
/// item, without a lock, so they are a little behind and not taken at one
/// instant: a stage may show an item done that the next stage's queue does
/// not show yet.
///
/// ```
/// use std::time::Duration;
/// use queuelab::Pipeline;
///
/// let mut last = None;
/// Pipeline::new(0..50)
///     .stage("double", 2, |n: u32| n * 2)
///     .on_progress(Duration::from_millis(5), |p| last = Some(p.clone()))
///     .run_collect()
///     .unwrap();
/// let last = last.unwrap(); // the hook is called once more when the run ends
/// assert_eq!((last.items_in, last.items_out), (50, 50));
/// assert_eq!(last.stages[0].done, 50);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Time since the run started.
    pub elapsed: Duration,
    /// Items taken from the source so far.
    pub items_in: u64,
    /// Items handed to the sink so far.
    pub items_out: u64,
    /// One entry per stage, in pipeline order.
    pub stages: Vec<StageProgress>,
}

/// One stage in a [`Progress`] snapshot.
///
/// ```
/// use std::time::Duration;
/// use queuelab::Pipeline;
///
/// let mut seen = Vec::new();
/// Pipeline::new(0..5)
///     .stage("id", 1, |n: u8| n)
///     .on_progress(Duration::from_secs(1), |p| seen.push(p.stages[0].clone()))
///     .run_collect()
///     .unwrap();
/// let id = seen.last().unwrap();
/// assert_eq!((id.name.as_str(), id.done, id.failed), ("id", 5, 0));
/// assert_eq!(id.queue_capacity, Some(64));
/// assert!((0.0..=1.0).contains(&id.busy));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StageProgress {
    /// The stage's name.
    pub name: String,
    /// Items its function has returned `Ok` for.
    pub done: u64,
    /// Items it failed on (for good: after the last attempt).
    pub failed: u64,
    /// Items in its input queue right now (a racy snapshot).
    pub queue_len: usize,
    /// The capacity of its input queue; `None` when unbounded.
    pub queue_capacity: Option<usize>,
    /// The share of the run so far that its workers spent inside the stage
    /// function, from 0.0 to 1.0 (as
    /// [`StageReport::utilization`](crate::StageReport::utilization)).
    pub busy: f64,
}
