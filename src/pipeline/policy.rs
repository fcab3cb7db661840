//! What a stage does when its function fails on an item.

use std::time::Duration;

// ANCHOR: policy
/// What a stage does when its function returns `Err` or panics on an item.
///
/// Set it for the whole pipeline with
/// [`Pipeline::on_failure`](crate::Pipeline::on_failure), and for one stage
/// with [`Pipeline::stage_on_failure`](crate::Pipeline::stage_on_failure).
///
/// - [`fail_fast`](Self::fail_fast) (the default) stops the whole run and
///   returns a [`PipelineError`](crate::PipelineError).
/// - [`skip`](Self::skip) records the item in
///   [`PipelineReport::failures`](crate::PipelineReport::failures), drops it
///   and goes on; the run returns `Ok` unless the cap set with
///   [`Pipeline::max_failures`](crate::Pipeline::max_failures) is passed.
/// - [`retry`](Self::retry) calls the function again, up to `attempts`
///   times in all, pausing between attempts; after the last attempt it fails
///   fast, or skips with [`then_skip`](Self::then_skip).
///
/// **Retry needs the item again**, so it is only for stages whose function
/// *borrows* the item: those added with
/// [`try_stage_ref`](crate::Pipeline::try_stage_ref). A function that takes
/// the item by value has consumed it by the time it fails; instead of
/// cloning every item just in case, such stages refuse a retry policy (the
/// run panics when it starts, naming the stage). The worker keeps the item
/// between attempts and drops it after the last one.
///
/// ```
/// use std::time::Duration;
/// use queuelab::pipeline::FailurePolicy;
///
/// let flaky = FailurePolicy::retry(3, Duration::from_millis(10)).then_skip();
/// assert_eq!(flaky.attempts(), 3);
/// assert!(flaky.skips());
/// assert!(!FailurePolicy::fail_fast().skips());
/// assert_eq!(FailurePolicy::default(), FailurePolicy::fail_fast());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailurePolicy {
    attempts: u32,
    backoff: Duration,
    skip: bool,
}
// ANCHOR_END: policy

impl Default for FailurePolicy {
    /// Fail-fast.
    fn default() -> Self {
        FailurePolicy::fail_fast()
    }
}

impl FailurePolicy {
    /// Stop the whole run at the first failure: every queue is closed with
    /// `close_now` and the run returns a
    /// [`PipelineError`](crate::PipelineError). The default.
    ///
    /// ```
    /// use queuelab::pipeline::FailurePolicy;
    /// assert_eq!(FailurePolicy::fail_fast().attempts(), 1);
    /// ```
    pub fn fail_fast() -> Self {
        FailurePolicy {
            attempts: 1,
            backoff: Duration::ZERO,
            skip: false,
        }
    }

    /// Record the failed item, drop it, and go on with the next one.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// use queuelab::pipeline::FailurePolicy;
    ///
    /// let (out, report) = Pipeline::new(["1", "x", "3"])
    ///     .on_failure(FailurePolicy::skip())
    ///     .try_stage("parse", 1, |s: &str| s.parse::<u8>())
    ///     .run_collect()
    ///     .unwrap();
    /// assert_eq!(out, [1, 3]);
    /// assert_eq!(report.failures[0].item, "item #1");
    /// ```
    pub fn skip() -> Self {
        FailurePolicy {
            skip: true,
            ..FailurePolicy::fail_fast()
        }
    }

    /// Try up to `attempts` times in all, then fail fast (or skip, with
    /// [`then_skip`](Self::then_skip)). Before attempt `k + 1` the worker
    /// pauses for `backoff * 2^(k - 1)`: `backoff`, then twice that, and so
    /// on. The pause sleeps (it is no busy wait) and ends at once when the
    /// run is cancelled or stopped by a failure elsewhere; the item then
    /// counts as failed after the attempts it had, and is recorded and
    /// dropped, but does not fail the run, whatever the policy says should
    /// happen after the last attempt.
    ///
    /// Only for stages added with
    /// [`try_stage_ref`](crate::Pipeline::try_stage_ref) (see above).
    ///
    /// # Panics
    ///
    /// If `attempts` is 0: every item gets at least one attempt.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// use queuelab::Pipeline;
    /// use queuelab::pipeline::FailurePolicy;
    ///
    /// let calls = AtomicU32::new(0);
    /// let (out, report) = Pipeline::new([7])
    ///     .try_stage_ref("flaky", 1, |n: &u32| {
    ///         // Fails twice, then works.
    ///         if calls.fetch_add(1, Ordering::Relaxed) < 2 { Err("timed out") } else { Ok(*n) }
    ///     })
    ///     .stage_on_failure(FailurePolicy::retry(3, Duration::from_millis(1)))
    ///     .run_collect()
    ///     .unwrap();
    /// assert_eq!(out, [7]);
    /// assert_eq!(report.stages[0].failed, 0);
    /// ```
    pub fn retry(attempts: u32, backoff: Duration) -> Self {
        assert!(attempts > 0, "a retry policy needs at least one attempt");
        FailurePolicy {
            attempts,
            backoff,
            skip: false,
        }
    }

    /// The same policy, but skipping the item once it has failed (after its
    /// last attempt, for a retry policy).
    ///
    /// ```
    /// use std::time::Duration;
    /// use queuelab::pipeline::FailurePolicy;
    ///
    /// let p = FailurePolicy::retry(2, Duration::ZERO).then_skip();
    /// assert_eq!((p.attempts(), p.skips()), (2, true));
    /// ```
    pub fn then_skip(self) -> Self {
        FailurePolicy { skip: true, ..self }
    }

    /// How many times the function is called at most for one item.
    ///
    /// ```
    /// use queuelab::pipeline::FailurePolicy;
    /// assert_eq!(FailurePolicy::skip().attempts(), 1);
    /// ```
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether an item that failed (for good) is skipped rather than
    /// stopping the run.
    ///
    /// ```
    /// use queuelab::pipeline::FailurePolicy;
    /// assert!(FailurePolicy::skip().skips());
    /// ```
    pub fn skips(&self) -> bool {
        self.skip
    }

    /// The pause before attempt `attempt + 1`, after `attempt` failed ones.
    pub(crate) fn pause_after(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.backoff.saturating_mul(1 << doublings)
    }
}
