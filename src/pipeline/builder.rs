//! The [`Pipeline`] builder: a source, stages, and a run.

use std::fmt;
use std::sync::Arc;
use std::thread::{self, Scope};
use std::time::Instant;

use crate::ClosableQueue;
use crate::queue::ZERO_CAPACITY;

use super::report::{BoxError, PipelineError, PipelineReport};
use super::run::{self, AbortOnUnwind, RunState};

/// The capacity of every queue of a pipeline unless told otherwise.
const DEFAULT_CAPACITY: usize = 64;

/// A stage function with its error boxed.
type StageFn<'a, T, U> = Box<dyn Fn(T) -> Result<U, BoxError> + Send + Sync + 'a>;

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
        output: Arc<ClosableQueue<Out>>,
    ) -> Arc<ClosableQueue<In>>;
}

/// The chain of a pipeline before its first stage.
struct NoStages;

impl<'a, T: Send> Chain<'a, T, T> for NoStages {
    fn launch<'scope, 'env>(
        &'scope self,
        _scope: &'scope Scope<'scope, 'env>,
        _run: &'scope RunState<'a>,
        output: Arc<ClosableQueue<T>>,
    ) -> Arc<ClosableQueue<T>> {
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
        output: Arc<ClosableQueue<U>>,
    ) -> Arc<ClosableQueue<In>> {
        let j = self.index;
        let input = Arc::new(run::new_queue(run.queue_capacity(j)));
        run.register(j, &input);
        let stage = &run.stages[j];
        let func = &*self.func;
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
    chain: Box<dyn Chain<'a, In, T> + 'a>,
    stages: Vec<StageSpec>,
    capacity: Option<usize>,
    output_capacity: Option<Option<usize>>,
}

/// What the builder knows about a stage besides its function.
#[derive(Debug)]
struct StageSpec {
    name: String,
    workers: usize,
    /// The capacity of its input queue, if set for this stage alone.
    capacity: Option<Option<usize>>,
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
            chain: Box::new(NoStages),
            stages: Vec::new(),
            capacity: Some(DEFAULT_CAPACITY),
            output_capacity: None,
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
        self.push_stage(name.into(), workers, Box::new(move |item| Ok(func(item))))
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
            Box::new(move |item| func(item).map_err(Into::into)),
        )
    }

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
        });
        Pipeline {
            source: self.source,
            chain: Box::new(Stage {
                before: self.chain,
                index,
                func,
            }),
            stages: self.stages,
            capacity: self.capacity,
            output_capacity: self.output_capacity,
        }
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
    /// workers it is completion order.
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
    /// joining the threads already started).
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
    /// if the operating system cannot start a thread.
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
            chain,
            stages,
            capacity,
            output_capacity,
        } = self;
        let run = RunState::new(
            stages
                .into_iter()
                .map(|s| (s.name, s.workers, s.capacity.unwrap_or(capacity))),
            output_capacity.unwrap_or(capacity),
        );
        // ANCHOR: run_with_sink
        let start = Instant::now();
        let mut items_out = 0;
        thread::scope(|scope| {
            let _guard = AbortOnUnwind(&run);
            let last = run.stages.len();
            let output = Arc::new(run::new_queue(run.queue_capacity(last)));
            run.register(last, &output);
            let first = chain.launch(scope, &run, Arc::clone(&output));
            let run = &run;
            spawn(scope, "source".to_string(), move || {
                run::feed(run, &mut *source, &first)
            });
            while let Some(item) = output.get() {
                sink(item);
                items_out += 1;
            }
        });
        // ANCHOR_END: run_with_sink
        run.finish(items_out, start.elapsed())
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
            .finish_non_exhaustive()
    }
}
