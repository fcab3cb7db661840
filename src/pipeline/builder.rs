//! The [`Pipeline`] builder: a source, stages, and a run.

use std::fmt;
use std::sync::Arc;
use std::thread::{self, Scope};
use std::time::{Duration, Instant};

use crate::ClosableQueue;
use crate::queue::ZERO_CAPACITY;

use super::cancel::{CancelHandle, Control};
use super::policy::FailurePolicy;
use super::progress::Progress;
use super::report::{BoxError, PipelineError, PipelineReport};
use super::run::{
    self, AbortOnUnwind, DescribeFn, Packet, ProgressFn, RunConfig, RunState, StageConfig, StageFn,
};

/// The capacity of every queue of a pipeline unless told otherwise.
const DEFAULT_CAPACITY: usize = 64;

/// A chain of stages that turns items of type `In` into items of type `Out`.
///
/// `launch` is called with the queue the last stage writes to. Each stage
/// makes its own input queue, starts its workers between the two queues, and
/// hands its input queue to the stage before it; the empty chain
/// ([`NoStages`]) hands back the queue it was given, and that one is where
/// the source puts items.
trait Chain<'a, In, Out>: Send + Sync {
    fn launch<'scope, 'env>(
        &'scope self,
        scope: &'scope Scope<'scope, 'env>,
        run: &'scope RunState<'a>,
        output: Arc<ClosableQueue<Packet<Out>>>,
    ) -> Arc<ClosableQueue<Packet<In>>>;
}

/// The chain of a pipeline before its first stage.
struct NoStages;

impl<'a, T: Send> Chain<'a, T, T> for NoStages {
    fn launch<'scope, 'env>(
        &'scope self,
        _scope: &'scope Scope<'scope, 'env>,
        _run: &'scope RunState<'a>,
        output: Arc<ClosableQueue<Packet<T>>>,
    ) -> Arc<ClosableQueue<Packet<T>>> {
        output
    }
}

/// The chain `before`, followed by one more stage (number `index`) that
/// turns `T` into `U`.
struct Stage<'a, In, T, U> {
    before: Box<dyn Chain<'a, In, T> + 'a>,
    index: usize,
    func: StageFn<'a, T, U>,
}

impl<'a, In, T, U> Chain<'a, In, U> for Stage<'a, In, T, U>
where
    In: Send + 'a,
    T: Send + 'a,
    U: Send + 'a,
{
    // ANCHOR: launch
    fn launch<'scope, 'env>(
        &'scope self,
        scope: &'scope Scope<'scope, 'env>,
        run: &'scope RunState<'a>,
        output: Arc<ClosableQueue<Packet<U>>>,
    ) -> Arc<ClosableQueue<Packet<In>>> {
        let j = self.index;
        let input = Arc::new(run::new_queue(run.queue_capacity(j)));
        run.register(j, &input);
        let stage = &run.stages[j];
        let func = &self.func;
        for k in 0..stage.workers {
            let (input, output) = (Arc::clone(&input), Arc::clone(&output));
            spawn(scope, format!("{}#{k}", stage.name), move || {
                run::stage_worker(run, j, &input, &output, func)
            });
        }
        self.before.launch(scope, run, input)
    }
    // ANCHOR_END: launch
}

/// A pipeline of stages connected by [`ClosableQueue`]s, each stage run by
/// its own pool of worker threads: the download → resize → upload pipeline
/// of Effective Python, Item 55, as a reusable builder.
///
/// `Pipeline::new(source)` takes any iterator of items; each
/// [`stage`](Self::stage) (or [`try_stage`](Self::try_stage)) adds a named
/// step with a number of workers and a function, which may change the item
/// type; [`run_collect`](Self::run_collect) or
/// [`run_with_sink`](Self::run_with_sink) runs it and returns a
/// [`PipelineReport`]. See the [module docs](crate::pipeline) for how it
/// shuts down, fails and measures.
///
/// The type parameters are the lifetime of what the source and the stage
/// functions borrow (`'a`: they may borrow local variables, because every
/// thread is a scoped thread that ends before the run returns), the source's
/// item type `In`, and the item type `T` that comes out of the last stage.
///
/// ```
/// use queuelab::Pipeline;
///
/// let words = ["queue", "pipeline", "worker"];
/// let (mut lengths, report) = Pipeline::new(words)
///     .stage("upper", 2, |w: &str| w.to_uppercase())
///     .stage("length", 3, |w: String| w.len())
///     .run_collect()
///     .unwrap();
/// lengths.sort(); // with several workers, results come in completion order
/// assert_eq!(lengths, [5, 6, 8]);
/// assert_eq!(report.items_out, 3);
/// ```
pub struct Pipeline<'a, In, T> {
    source: Box<dyn Iterator<Item = In> + Send + 'a>,
    describe: Option<Box<DescribeFn<'a, In>>>,
    chain: Box<dyn Chain<'a, In, T> + 'a>,
    stages: Vec<StageSpec>,
    capacity: Option<usize>,
    output_capacity: Option<Option<usize>>,
    on_failure: FailurePolicy,
    max_failures: Option<u64>,
    window: Option<usize>,
    control: Arc<Control>,
    progress: Option<(Duration, ProgressFn<'a>)>,
}

/// What the builder knows about a stage besides its function.
#[derive(Debug)]
struct StageSpec {
    name: String,
    workers: usize,
    /// The capacity of its input queue, if set for this stage alone.
    capacity: Option<Option<usize>>,
    /// Its failure policy, if set for this stage alone.
    on_failure: Option<FailurePolicy>,
    /// Whether its function borrows the item (so that it can retry).
    borrows: bool,
}

fn check_capacity(capacity: Option<usize>) {
    assert!(capacity != Some(0), "{ZERO_CAPACITY}");
}

impl<'a, T: Send + 'a> Pipeline<'a, T, T> {
    /// A pipeline with no stages yet, fed by `source`.
    ///
    /// The source is iterated in a thread of its own, so its iterator must
    /// be `Send`. It is pulled lazily: the source thread takes the next item
    /// only once the previous one is in the first queue (so with a bounded
    /// queue it waits for room), and after a failure it takes no more.
    ///
    /// ```
    /// use queuelab::Pipeline;
    ///
    /// // No stages: items go straight from the source to the output.
    /// let (out, _) = Pipeline::new(vec!['a', 'b']).run_collect().unwrap();
    /// assert_eq!(out, ['a', 'b']);
    /// ```
    pub fn new<S>(source: S) -> Self
    where
        S: IntoIterator<Item = T>,
        S::IntoIter: Send + 'a,
    {
        Pipeline {
            source: Box::new(source.into_iter()),
            describe: None,
            chain: Box::new(NoStages),
            stages: Vec::new(),
            capacity: Some(DEFAULT_CAPACITY),
            output_capacity: None,
            on_failure: FailurePolicy::fail_fast(),
            max_failures: None,
            window: None,
            control: Arc::new(Control::new()),
            progress: None,
        }
    }
}

impl<'a, In: Send + 'a, T: Send + 'a> Pipeline<'a, In, T> {
    /// Adds a stage named `name`, run by `workers` threads, that turns each
    /// item into `func(item)`.
    ///
    /// `func` is shared by the stage's workers, so it must be `Fn + Sync`
    /// (use a `Mutex` or atomics inside it for shared state). If it panics,
    /// the run stops and returns a [`PipelineError`] naming this stage.
    ///
    /// # Panics
    ///
    /// If `workers` is 0: a stage without workers would never finish.
    ///
    /// ```
    /// use queuelab::Pipeline;
    ///
    /// let (out, _) = Pipeline::new(1..=3)
    ///     .stage("square", 1, |n: u64| n * n)
    ///     .stage("label", 1, |n: u64| format!("#{n}"))
    ///     .run_collect()
    ///     .unwrap();
    /// assert_eq!(out, ["#1", "#4", "#9"]); // one worker per stage keeps the order
    /// ```
    pub fn stage<U, F>(
        self,
        name: impl Into<String>,
        workers: usize,
        func: F,
    ) -> Pipeline<'a, In, U>
    where
        U: Send + 'a,
        F: Fn(T) -> U + Send + Sync + 'a,
    {
        self.push_stage(
            name.into(),
            workers,
            StageFn::Owned(Box::new(move |item| Ok(func(item)))),
        )
    }

    /// Adds a stage whose function can fail: when `func` returns `Err` (or
    /// panics), the run stops and returns a [`PipelineError`] naming this
    /// stage and carrying the error.
    ///
    /// Any error type that converts into `Box<dyn Error + Send + Sync>` will
    /// do: every `std::error::Error + Send + Sync + 'static` type, `String`
    /// and `&str`.
    ///
    /// # Panics
    ///
    /// If `workers` is 0.
    ///
    /// ```
    /// use queuelab::Pipeline;
    ///
    /// let parsed = Pipeline::new(["1", "2", "3"])
    ///     .try_stage("parse", 2, |s: &str| s.parse::<i32>())
    ///     .run_collect();
    /// let (mut numbers, _) = parsed.unwrap();
    /// numbers.sort();
    /// assert_eq!(numbers, [1, 2, 3]);
    ///
    /// let err = Pipeline::new(["1", "two"])
    ///     .try_stage("parse", 2, |s: &str| s.parse::<i32>())
    ///     .run_collect()
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "stage \"parse\" failed: invalid digit found in string");
    /// ```
    pub fn try_stage<U, E, F>(
        self,
        name: impl Into<String>,
        workers: usize,
        func: F,
    ) -> Pipeline<'a, In, U>
    where
        U: Send + 'a,
        E: Into<BoxError>,
        F: Fn(T) -> Result<U, E> + Send + Sync + 'a,
    {
        self.push_stage(
            name.into(),
            workers,
            StageFn::Owned(Box::new(move |item| func(item).map_err(Into::into))),
        )
    }

    // ANCHOR: try_stage_ref
    /// Adds a stage whose function can fail and *borrows* each item, like
    /// [`try_stage`](Self::try_stage) otherwise. Because the worker still
    /// holds the item after a failed call, it can call the function again:
    /// this is the kind of stage that a [`FailurePolicy::retry`] policy
    /// needs. The item is dropped after the last call.
    ///
    /// # Panics
    ///
    /// If `workers` is 0.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// use queuelab::Pipeline;
    /// use queuelab::pipeline::FailurePolicy;
    ///
    /// let calls = AtomicU32::new(0);
    /// let (out, report) = Pipeline::new(["a.png".to_string()])
    ///     .try_stage_ref("download", 1, |url: &String| {
    ///         // The server times out once, then answers.
    ///         match calls.fetch_add(1, Ordering::Relaxed) {
    ///             0 => Err("timed out"),
    ///             _ => Ok(format!("bytes of {url}")),
    ///         }
    ///     })
    ///     .stage_on_failure(FailurePolicy::retry(3, Duration::from_millis(1)))
    ///     .run_collect()
    ///     .unwrap();
    /// assert_eq!(out, ["bytes of a.png"]);
    /// assert_eq!((report.stages[0].processed, report.stages[0].failed), (1, 0));
    /// ```
    pub fn try_stage_ref<U, E, F>(
        self,
        name: impl Into<String>,
        workers: usize,
        func: F,
    ) -> Pipeline<'a, In, U>
    where
        U: Send + 'a,
        E: Into<BoxError>,
        F: Fn(&T) -> Result<U, E> + Send + Sync + 'a,
    {
        self.push_stage(
            name.into(),
            workers,
            StageFn::Borrowed(Box::new(move |item| func(item).map_err(Into::into))),
        )
    }
    // ANCHOR_END: try_stage_ref

    fn push_stage<U: Send + 'a>(
        mut self,
        name: String,
        workers: usize,
        func: StageFn<'a, T, U>,
    ) -> Pipeline<'a, In, U> {
        assert!(
            workers > 0,
            "stage \"{name}\" needs at least one worker: with none it would never finish"
        );
        let index = self.stages.len();
        self.stages.push(StageSpec {
            name,
            workers,
            capacity: None,
            on_failure: None,
            borrows: matches!(func, StageFn::Borrowed(_)),
        });
        Pipeline {
            source: self.source,
            describe: self.describe,
            chain: Box::new(Stage {
                before: self.chain,
                index,
                func,
            }),
            stages: self.stages,
            capacity: self.capacity,
            output_capacity: self.output_capacity,
            on_failure: self.on_failure,
            max_failures: self.max_failures,
            window: self.window,
            control: self.control,
            progress: self.progress,
        }
    }

    /// Sets the failure policy of every stage that has none of its own (see
    /// [`stage_on_failure`](Self::stage_on_failure)), added before or after
    /// this call. The default is [`FailurePolicy::fail_fast`].
    ///
    /// A retry policy here applies to every stage, so every stage must then
    /// borrow its items ([`try_stage_ref`](Self::try_stage_ref)), or have a
    /// policy of its own.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// use queuelab::pipeline::FailurePolicy;
    ///
    /// let (out, report) = Pipeline::new(0..10)
    ///     .on_failure(FailurePolicy::skip())
    ///     .try_stage("odd only", 2, |n: u32| if n % 2 == 1 { Ok(n) } else { Err("even") })
    ///     .run_collect()
    ///     .unwrap();
    /// assert_eq!(out.len(), 5);
    /// assert_eq!(report.stages[0].failed, 5);
    /// assert_eq!(report.failures.len(), 5);
    /// ```
    pub fn on_failure(mut self, policy: FailurePolicy) -> Self {
        self.on_failure = policy;
        self
    }

    /// Sets the failure policy of the stage added last, over the one set
    /// with [`on_failure`](Self::on_failure).
    ///
    /// # Panics
    ///
    /// If no stage has been added yet. When the run starts, if the stage has
    /// a retry policy but takes its items by value (it was not added with
    /// [`try_stage_ref`](Self::try_stage_ref)): there would be no item left
    /// to retry with.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// use queuelab::pipeline::FailurePolicy;
    ///
    /// let err = Pipeline::new(["1", "x", "3"])
    ///     .on_failure(FailurePolicy::skip())
    ///     .try_stage("parse", 1, |s: &str| s.parse::<i64>())
    ///     .try_stage("check", 1, |n: i64| if n > 2 { Err("too big") } else { Ok(n) })
    ///     .stage_on_failure(FailurePolicy::fail_fast())
    ///     .run_collect()
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "stage \"check\" failed: too big");
    /// assert_eq!(err.report().failures.len(), 2); // "x" skipped, then 3 stopped the run
    /// ```
    pub fn stage_on_failure(mut self, policy: FailurePolicy) -> Self {
        let last = self
            .stages
            .last_mut()
            .expect("stage_on_failure sets the policy of the last stage: add a stage first");
        last.on_failure = Some(policy);
        self
    }

    /// Caps the failures that skip policies may skip, over the whole run:
    /// the first `max` are skipped, and the next one stops the run as
    /// fail-fast does (the error names the stage it happened in). Without a
    /// cap, skipping never stops the run.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// use queuelab::pipeline::FailurePolicy;
    ///
    /// let err = Pipeline::new(0..100)
    ///     .on_failure(FailurePolicy::skip())
    ///     .max_failures(3)
    ///     .try_stage("flaky", 1, |n: u32| if n % 10 == 0 { Err(format!("{n} failed")) } else { Ok(n) })
    ///     .run_collect()
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "stage \"flaky\" failed: 30 failed");
    /// assert_eq!(err.report().stages[0].failed, 4);
    /// ```
    pub fn max_failures(mut self, max: u64) -> Self {
        self.max_failures = Some(max);
        self
    }

    /// Names each item by `describe(&item)` in
    /// [`PipelineReport::failures`] (a file name, a URL), instead of its
    /// position in the source. It is called in the source thread on every
    /// item as it is taken, and the description travels with the item; a
    /// panic in it fails the run as the source does.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// use queuelab::pipeline::FailurePolicy;
    ///
    /// let (_, report) = Pipeline::new(vec![4, 0, 2])
    ///     .describe(|n: &i32| format!("divisor {n}"))
    ///     .on_failure(FailurePolicy::skip())
    ///     .try_stage("divide", 1, |n: i32| 12i32.checked_div(n).ok_or("division by zero"))
    ///     .run_collect()
    ///     .unwrap();
    /// assert_eq!(report.failures[0].item, "divisor 0");
    /// ```
    pub fn describe(mut self, describe: impl Fn(&In) -> String + Send + Sync + 'a) -> Self {
        self.describe = Some(Box::new(describe));
        self
    }

    // ANCHOR: ordered
    /// Makes the results come out in source order, whatever the number of
    /// workers, with a window of `window` positions.
    ///
    /// The source takes item `i` only once the sink has delivered every
    /// item before position `i - window`, so at most `window` items are in
    /// the pipeline at once, and a result that overtook others waits in a
    /// buffer of `window` slots. When one item is slow, the others can get
    /// at most `window` positions ahead of it; then the source waits, and
    /// the workers run dry, until the slow one is delivered. A larger window
    /// lets fast items flow past a slow one for longer, at the cost of
    /// memory; a window smaller than the number of workers leaves workers
    /// idle.
    ///
    /// It cannot deadlock: the only thread that waits for the window is the
    /// source, and the item the sink waits for was let in (its position is
    /// inside the window by definition), so it goes through the stages and
    /// the sink moves on.
    ///
    /// A skipped item leaves a hole: the sink passes over its position, and
    /// the items around it keep their order.
    ///
    /// # Panics
    ///
    /// If `window` is 0: no item could ever be let in.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// use queuelab::pipeline::FailurePolicy;
    ///
    /// let (out, _) = Pipeline::new(0..100u64)
    ///     .ordered(16)
    ///     .on_failure(FailurePolicy::skip())
    ///     .try_stage("no sevens", 4, |n: u64| if n % 7 == 0 { Err("seven") } else { Ok(n) })
    ///     .stage("square", 4, |n: u64| n * n)
    ///     .run_collect()
    ///     .unwrap();
    /// let expected: Vec<u64> = (0..100).filter(|n| n % 7 != 0).map(|n| n * n).collect();
    /// assert_eq!(out, expected);
    /// ```
    pub fn ordered(mut self, window: usize) -> Self {
        assert!(window > 0, "an ordered window needs at least one position");
        self.window = Some(window);
        self
    }
    // ANCHOR_END: ordered

    /// A handle that stops the run from another thread: see
    /// [`CancelHandle`]. Ask for it before the run starts; the run then
    /// starts one more thread, which does the stopping.
    ///
    /// ```
    /// use queuelab::Pipeline;
    /// use queuelab::pipeline::CancelMode;
    ///
    /// let pipeline = Pipeline::new(0..).stage("id", 1, |n: u64| n);
    /// let cancel = pipeline.cancel_handle();
    /// let stopper = std::thread::spawn(move || cancel.cancel_now());
    /// let report = pipeline.run_with_sink(drop).unwrap();
    /// stopper.join().unwrap();
    /// assert_eq!(report.cancelled, Some(CancelMode::Now));
    /// ```
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            control: Arc::clone(&self.control),
        }
    }

    /// Calls `hook` every `interval` while the run goes on, and once more
    /// when the sink's loop has ended, with a [`Progress`] snapshot: per
    /// stage, items done and failed, the fill of its input queue, and its
    /// busy share so far. It runs in a thread of its own, so it must be
    /// `Send`; it may borrow local variables. Keep it short: the next
    /// snapshot waits for it.
    ///
    /// With a hook, the workers add to the stage's counters after every
    /// item (a few relaxed atomic additions, no lock) instead of once when
    /// they end.
    ///
    /// # Panics
    ///
    /// If `interval` is zero. The run panics if `hook` panics (after
    /// stopping and joining every thread, as for a panicking sink).
    ///
    /// ```
    /// use std::time::Duration;
    /// use queuelab::Pipeline;
    ///
    /// let mut lines = Vec::new();
    /// Pipeline::new(0..20)
    ///     .stage("id", 2, |n: u32| n)
    ///     .on_progress(Duration::from_millis(50), |p| {
    ///         let s = &p.stages[0];
    ///         lines.push(format!("{}: {} done, queue {}/{:?}", s.name, s.done, s.queue_len, s.queue_capacity));
    ///     })
    ///     .run_collect()
    ///     .unwrap();
    /// assert_eq!(lines.last().unwrap(), "id: 20 done, queue 0/Some(64)");
    /// ```
    pub fn on_progress(
        mut self,
        interval: Duration,
        hook: impl FnMut(&Progress) + Send + 'a,
    ) -> Self {
        assert!(!interval.is_zero(), "a progress interval must not be zero");
        self.progress = Some((interval, Box::new(hook)));
        self
    }

    /// Sets the capacity of every queue in the pipeline that has no capacity
    /// of its own (see [`input_capacity`](Self::input_capacity) and
    /// [`output_capacity`](Self::output_capacity)); `None` for unbounded.
    /// It applies to stages added before and after this call. The default
    /// is `Some(64)`: bounded, so that a slow stage makes the stages before
    /// it wait instead of letting items pile up in memory. A bounded queue
    /// allocates all its slots when the run starts (it is step 6's ring), so
    /// ask for the bound you mean, not a huge one in place of `None`.
    ///
    /// # Panics
    ///
    /// If `capacity` is `Some(0)` (see [`ClosableQueue::bounded`]); when
    /// the run starts, if a capacity is too large for the ring's positions.
    ///
    /// ```
    /// use queuelab::Pipeline;
    ///
    /// let (_, report) = Pipeline::new(0..100)
    ///     .capacity(Some(1))
    ///     .stage("a", 2, |n: u32| n)
    ///     .stage("b", 2, |n: u32| n)
    ///     .run_collect()
    ///     .unwrap();
    /// assert!(report.stages.iter().all(|s| s.capacity == Some(1) && s.peak_queue_len <= 1));
    /// ```
    pub fn capacity(mut self, capacity: Option<usize>) -> Self {
        check_capacity(capacity);
        self.capacity = capacity;
        self
    }

    /// Sets the capacity of the input queue of the stage added last: the
    /// queue between it and the stage (or source) before it. `None` for
    /// unbounded.
    ///
    /// # Panics
    ///
    /// If no stage has been added yet, or if `capacity` is `Some(0)`.
    ///
    /// ```
    /// use queuelab::Pipeline;
    ///
    /// let (_, report) = Pipeline::new(0..10)
    ///     .stage("fast", 1, |n: u8| n)
    ///     .stage("slow", 1, |n: u8| n)
    ///     .input_capacity(None) // let items pile up in front of "slow"
    ///     .run_collect()
    ///     .unwrap();
    /// assert_eq!(report.stages[0].capacity, Some(64));
    /// assert_eq!(report.stages[1].capacity, None);
    /// ```
    pub fn input_capacity(mut self, capacity: Option<usize>) -> Self {
        check_capacity(capacity);
        let last = self
            .stages
            .last_mut()
            .expect("input_capacity sets the input queue of the last stage: add a stage first");
        last.capacity = Some(capacity);
        self
    }

    /// Sets the capacity of the queue between the last stage and the sink.
    /// `None` for unbounded.
    ///
    /// # Panics
    ///
    /// If `capacity` is `Some(0)`.
    ///
    /// ```
    /// use queuelab::Pipeline;
    ///
    /// let (_, report) = Pipeline::new(0..10)
    ///     .stage("id", 1, |n: u8| n)
    ///     .output_capacity(Some(2))
    ///     .run_collect()
    ///     .unwrap();
    /// assert_eq!(report.output_capacity, Some(2));
    /// ```
    pub fn output_capacity(mut self, capacity: Option<usize>) -> Self {
        check_capacity(capacity);
        self.output_capacity = Some(capacity);
        self
    }

    /// Runs the pipeline and collects every output item into a `Vec`, in
    /// the order they came out of the last stage.
    ///
    /// With one worker per stage that is the source order; with more
    /// workers it is completion order, unless the pipeline is
    /// [`ordered`](Self::ordered).
    ///
    /// # Errors
    ///
    /// A [`PipelineError`] when a stage function returned `Err` or panicked
    /// (or the source iterator panicked). The items collected so far are
    /// dropped; the error's report counts them as `items_out`, and a panic
    /// in their `Drop` is caught and counted in
    /// [`drop_panics`](PipelineReport::drop_panics).
    ///
    /// # Panics
    ///
    /// If the operating system cannot start a thread (after stopping and
    /// joining the threads already started). If a stage that takes its items
    /// by value has a retry policy (see [`FailurePolicy::retry`]). If the
    /// progress hook panics.
    ///
    /// ```
    /// use queuelab::Pipeline;
    ///
    /// let (out, report) = Pipeline::new(0..5).stage("x10", 2, |n: i32| n * 10).run_collect().unwrap();
    /// assert_eq!(out.iter().sum::<i32>(), 100);
    /// assert_eq!(report.stages[0].processed, 5);
    /// ```
    pub fn run_collect(self) -> Result<(Vec<T>, PipelineReport), PipelineError> {
        let mut items = Vec::new();
        match self.run_with_sink(|item| items.push(item)) {
            Ok(report) => Ok((items, report)),
            Err(mut err) => {
                for item in items {
                    if run::drop_panicked(item) {
                        err.report.drop_panics += 1;
                    }
                }
                Err(err)
            }
        }
    }

    /// Runs the pipeline and calls `sink` on every output item, in the
    /// calling thread, as items come out of the last stage. The sink need not
    /// be `Send`, and may borrow local variables (a progress bar, a file).
    ///
    /// # Errors
    ///
    /// A [`PipelineError`] when a stage function returned `Err` or panicked
    /// (or the source iterator panicked).
    ///
    /// # Panics
    ///
    /// If `sink` panics: the run is stopped as for a failing stage, every
    /// thread is joined, and then the panic carries on in the caller. Also
    /// if the operating system cannot start a thread, if a stage that takes
    /// its items by value has a retry policy (see [`FailurePolicy::retry`]),
    /// or if the progress hook panics.
    ///
    /// ```
    /// use queuelab::Pipeline;
    ///
    /// let mut longest = String::new();
    /// let report = Pipeline::new(["tea", "coffee", "water"])
    ///     .stage("shout", 2, |s: &str| s.to_uppercase())
    ///     .run_with_sink(|s| {
    ///         if s.len() > longest.len() {
    ///             longest = s;
    ///         }
    ///     })
    ///     .unwrap();
    /// assert_eq!(longest, "COFFEE");
    /// assert_eq!(report.items_out, 3);
    /// ```
    pub fn run_with_sink(self, mut sink: impl FnMut(T)) -> Result<PipelineReport, PipelineError> {
        let Pipeline {
            mut source,
            describe,
            chain,
            stages,
            capacity,
            output_capacity,
            on_failure,
            max_failures,
            window,
            control,
            progress,
        } = self;
        for s in &stages {
            let policy = s.on_failure.unwrap_or(on_failure);
            assert!(
                s.borrows || policy.attempts() == 1,
                "stage \"{}\" has a retry policy but takes its items by value: \
                 add it with try_stage_ref so that the item is still there to retry",
                s.name
            );
        }
        let monitored = progress.is_some() || Arc::strong_count(&control) > 1;
        let stages = stages.into_iter().map(|s| StageConfig {
            policy: s.on_failure.unwrap_or(on_failure),
            name: s.name,
            workers: s.workers,
            capacity: s.capacity.unwrap_or(capacity),
        });
        let run = RunState::new(
            stages,
            RunConfig {
                output_capacity: output_capacity.unwrap_or(capacity),
                max_failures,
                window,
                live: progress.is_some(),
                control,
            },
        );
        // ANCHOR: run_with_sink
        let start = Instant::now();
        thread::scope(|scope| {
            let _guard = AbortOnUnwind(&run);
            let last = run.stages.len();
            let output = Arc::new(run::new_queue(run.queue_capacity(last)));
            run.register(last, &output);
            let first = chain.launch(scope, &run, Arc::clone(&output));
            let run = &run;
            if monitored {
                spawn(scope, "monitor".to_string(), move || {
                    run::monitor(run, progress)
                });
            }
            spawn(scope, "source".to_string(), move || {
                run::feed(run, &mut *source, describe.as_deref(), &first)
            });
            run::deliver(run, last, &output, &mut sink);
        });
        // ANCHOR_END: run_with_sink
        run.finish(start.elapsed())
    }
}

/// Starts a named scoped thread. The name shows up in panic messages.
fn spawn<'scope>(
    scope: &'scope Scope<'scope, '_>,
    name: String,
    body: impl FnOnce() + Send + 'scope,
) {
    thread::Builder::new()
        .name(name)
        .spawn_scoped(scope, body)
        .expect("failed to start a pipeline thread");
}

impl<In, T> fmt::Debug for Pipeline<'_, In, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("stages", &self.stages)
            .field("capacity", &self.capacity)
            .field("output_capacity", &self.output_capacity)
            .field("on_failure", &self.on_failure)
            .field("max_failures", &self.max_failures)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}
