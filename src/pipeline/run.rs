//! The moving parts of one pipeline run: the state its threads share, the
//! stage worker's loop, the source thread, and the shutdown on failure.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::sync::Mutex;
use crate::{ClosableQueue, Closed};

use super::report::{BoxError, PipelineError, PipelineReport, StageFailure, StageReport};

/// Closes one queue at once and hands back the items that were inside.
type Closer<'a> = Box<dyn Fn() -> Box<dyn HandedBack + 'a> + Send + Sync + 'a>;

/// The items that `close_now` handed back, whatever their type.
trait HandedBack {
    /// Counts each item as lost at queue `j` and drops it, as
    /// [`RunState::lose`] does.
    fn lose_all(self: Box<Self>, run: &RunState<'_>, j: usize);
}

impl<T> HandedBack for Vec<T> {
    fn lose_all(self: Box<Self>, run: &RunState<'_>, j: usize) {
        for item in *self {
            run.lose(j, item);
        }
    }
}

/// What one stage's workers share.
pub(crate) struct StageState {
    pub(crate) name: String,
    pub(crate) workers: usize,
    pub(crate) capacity: Option<usize>,
    workers_left: AtomicUsize,
    processed: AtomicU64,
    failed: AtomicU64,
    busy_ns: AtomicU64,
    waiting_ns: AtomicU64,
    blocked_ns: AtomicU64,
}

/// The counters of one queue. Queue `j` is the input of stage `j`; the last
/// one (index = number of stages) feeds the sink.
#[derive(Default)]
struct QueueState {
    /// Items dropped on their way into or out of this queue after a failure:
    /// they never reached the stage (or sink) behind it.
    lost: AtomicU64,
    peak: AtomicUsize,
}

/// Everything the threads of one run share.
pub(crate) struct RunState<'a> {
    pub(crate) stages: Vec<StageState>,
    queues: Vec<QueueState>,
    output_capacity: Option<usize>,
    items_in: AtomicU64,
    aborted: AtomicBool,
    /// Drops of lost items that panicked (and were caught).
    drop_panics: AtomicU64,
    /// The first failure: stage index (`None` = source) and what happened.
    failure: Mutex<Option<(Option<usize>, StageFailure)>>,
    /// One closer per queue, to empty them all when the run is aborted.
    closers: Mutex<Vec<(usize, Closer<'a>)>>,
}

pub(crate) fn new_queue<T>(capacity: Option<usize>) -> ClosableQueue<T> {
    match capacity {
        Some(cap) => ClosableQueue::bounded(cap),
        None => ClosableQueue::unbounded(),
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

// ANCHOR: drop_panicked
/// Drops `item`, catching a panic in its `Drop`; says whether it panicked.
pub(crate) fn drop_panicked<T>(item: T) -> bool {
    panic::catch_unwind(AssertUnwindSafe(|| drop(item))).is_err()
}
// ANCHOR_END: drop_panicked

/// The message of a panic, or a placeholder when the payload is not a string.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(a panic whose payload is not a string)"
    }
}

impl<'a> RunState<'a> {
    /// `stages`: (name, workers, capacity of its input queue).
    pub(crate) fn new(
        stages: impl IntoIterator<Item = (String, usize, Option<usize>)>,
        output_capacity: Option<usize>,
    ) -> Self {
        let stages: Vec<StageState> = stages
            .into_iter()
            .map(|(name, workers, capacity)| StageState {
                name,
                workers,
                capacity,
                workers_left: AtomicUsize::new(workers),
                processed: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                busy_ns: AtomicU64::new(0),
                waiting_ns: AtomicU64::new(0),
                blocked_ns: AtomicU64::new(0),
            })
            .collect();
        let queues = (0..=stages.len()).map(|_| QueueState::default()).collect();
        RunState {
            stages,
            queues,
            output_capacity,
            items_in: AtomicU64::new(0),
            aborted: AtomicBool::new(false),
            drop_panics: AtomicU64::new(0),
            failure: Mutex::new(None),
            closers: Mutex::new(Vec::new()),
        }
    }

    /// The capacity of queue `j`.
    pub(crate) fn queue_capacity(&self, j: usize) -> Option<usize> {
        match self.stages.get(j) {
            Some(stage) => stage.capacity,
            None => self.output_capacity,
        }
    }

    /// Makes queue `j` known to [`abort`](Self::abort). If the run was
    /// aborted already, the queue is closed at once.
    pub(crate) fn register<T: Send + 'a>(&self, j: usize, queue: &Arc<ClosableQueue<T>>) {
        let queue = Arc::clone(queue);
        let closer: Closer<'a> = Box::new(move || Box::new(queue.close_now()));
        let handed_back = {
            let mut closers = self.closers.lock();
            let handed_back = self.is_aborted().then(&closer);
            closers.push((j, closer));
            handed_back
        };
        if let Some(items) = handed_back {
            items.lose_all(self, j);
        }
    }

    fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }

    // ANCHOR: abort
    /// Stops the run: closes every queue with `close_now`, which wakes every
    /// thread blocked in a `put` or `get`. Only once every queue is closed,
    /// and the lock let go, are the items handed back counted as lost at
    /// their queue and dropped: a `Drop` that panics can then neither leave
    /// a queue open nor run under the lock. Only the first call does it.
    pub(crate) fn abort(&self) {
        if self.aborted.swap(true, Ordering::AcqRel) {
            return;
        }
        let handed_back: Vec<_> = {
            let closers = self.closers.lock();
            closers.iter().map(|(j, close)| (*j, close())).collect()
        };
        for (j, items) in handed_back {
            items.lose_all(self, j);
        }
    }
    // ANCHOR_END: abort

    /// Records a failure (the first one wins) and aborts the run.
    fn fail(&self, stage: Option<usize>, failure: StageFailure) {
        {
            let mut first = self.failure.lock();
            if first.is_none() {
                *first = Some((stage, failure));
            }
        }
        self.abort();
    }

    /// Samples the length of queue `j` right after a successful put.
    fn put_into(&self, j: usize, len: usize) {
        self.queues[j].peak.fetch_max(len, Ordering::Relaxed);
    }

    // ANCHOR: lose
    /// Counts `item` as lost at queue `j`, then drops it. A panic in its
    /// `Drop` is caught and counted: it must not stop a shutdown half-way,
    /// and in a thread that is already unwinding it would abort the process.
    fn lose<T>(&self, j: usize, item: T) {
        self.queues[j].lost.fetch_add(1, Ordering::Relaxed);
        if drop_panicked(item) {
            self.drop_panics.fetch_add(1, Ordering::Relaxed);
        }
    }
    // ANCHOR_END: lose

    /// The report, and the error if a stage failed. Call once every thread
    /// has been joined.
    pub(crate) fn finish(
        self,
        items_out: u64,
        elapsed: Duration,
    ) -> Result<PipelineReport, PipelineError> {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        // ANCHOR: never_reached
        let mut never_reached = 0;
        let mut stages = Vec::with_capacity(self.stages.len());
        for (j, s) in self.stages.iter().enumerate() {
            // An item never reaches stage j if it was lost at queue j or at
            // any queue before it, or failed in an earlier stage.
            never_reached += load(&self.queues[j].lost);
            let failed = load(&s.failed);
            stages.push(StageReport {
                name: s.name.clone(),
                workers: s.workers,
                capacity: s.capacity,
                processed: load(&s.processed),
                failed,
                never_reached,
                busy: Duration::from_nanos(load(&s.busy_ns)),
                waiting: Duration::from_nanos(load(&s.waiting_ns)),
                blocked: Duration::from_nanos(load(&s.blocked_ns)),
                peak_queue_len: self.queues[j].peak.load(Ordering::Relaxed),
            });
            never_reached += failed;
        }
        // ANCHOR_END: never_reached
        let out = &self.queues[self.stages.len()];
        let report = PipelineReport {
            items_in: load(&self.items_in),
            items_out,
            undelivered: load(&out.lost),
            drop_panics: load(&self.drop_panics),
            output_peak_len: out.peak.load(Ordering::Relaxed),
            output_capacity: self.output_capacity,
            elapsed,
            stages,
        };
        match self.failure.into_inner() {
            None => Ok(report),
            Some((stage_index, failure)) => Err(PipelineError {
                stage_index,
                stage_name: match stage_index {
                    Some(j) => report.stages[j].name.clone(),
                    None => "source".to_string(),
                },
                failure,
                report: Box::new(report),
            }),
        }
    }
}

/// Aborts the run if the thread that owns it unwinds: a panic in the sink,
/// or a bug in this module. Without it, the other threads could stay blocked
/// on queues that nobody closes, and `thread::scope` would wait for ever.
pub(crate) struct AbortOnUnwind<'r, 'a>(pub(crate) &'r RunState<'a>);

impl Drop for AbortOnUnwind<'_, '_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.abort();
        }
    }
}

// ANCHOR: worker_exit
/// Runs when a stage worker ends, however it ends: the last worker of the
/// stage closes the stage's output, which is how shutdown travels down the
/// pipeline.
struct WorkerExit<'r, 'a, U> {
    run: &'r RunState<'a>,
    stage: usize,
    output: &'r ClosableQueue<U>,
}

impl<U> Drop for WorkerExit<'_, '_, U> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.run.abort();
        }
        let left = &self.run.stages[self.stage].workers_left;
        if left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.output.close();
        }
    }
}
// ANCHOR_END: worker_exit

// ANCHOR: stage_worker
/// One worker of stage `j`: takes items from queue `j`, runs the stage
/// function on each, puts the results on queue `j + 1`.
pub(crate) fn stage_worker<T, U>(
    run: &RunState<'_>,
    j: usize,
    input: &ClosableQueue<T>,
    output: &ClosableQueue<U>,
    func: &(dyn Fn(T) -> Result<U, BoxError> + Send + Sync + '_),
) {
    let _exit = WorkerExit {
        run,
        stage: j,
        output,
    };
    let (mut processed, mut failed) = (0, 0);
    let (mut busy, mut waiting, mut blocked) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    loop {
        let start = Instant::now();
        let next = input.get();
        waiting += start.elapsed();
        let Some(item) = next else { break }; // closed and drained: done
        if run.is_aborted() {
            run.lose(j, item); // taken, but the stage function never saw it
            break;
        }
        let start = Instant::now();
        let result = panic::catch_unwind(AssertUnwindSafe(|| func(item)));
        busy += start.elapsed();
        let failure = match result {
            Ok(Ok(out)) => {
                processed += 1;
                let start = Instant::now();
                let put = output.put(out);
                blocked += start.elapsed();
                match put {
                    Ok(()) => {
                        run.put_into(j + 1, output.len());
                        continue;
                    }
                    Err(Closed(out)) => {
                        // Only an abort closes a queue that still has
                        // producers: the result is dropped, and counted.
                        run.lose(j + 1, out);
                        break;
                    }
                }
            }
            Ok(Err(error)) => StageFailure::Error(error),
            Err(payload) => StageFailure::Panic(panic_message(&*payload).to_string()),
        };
        failed += 1;
        run.fail(Some(j), failure);
        break;
    }
    let stage = &run.stages[j];
    stage.processed.fetch_add(processed, Ordering::Relaxed);
    stage.failed.fetch_add(failed, Ordering::Relaxed);
    stage.busy_ns.fetch_add(nanos(busy), Ordering::Relaxed);
    stage
        .waiting_ns
        .fetch_add(nanos(waiting), Ordering::Relaxed);
    stage
        .blocked_ns
        .fetch_add(nanos(blocked), Ordering::Relaxed);
}
// ANCHOR_END: stage_worker

// ANCHOR: feed
/// The source thread: pulls items from the source into queue 0, then closes
/// it. A panic inside the source iterator fails the run as stage "source".
pub(crate) fn feed<T>(
    run: &RunState<'_>,
    source: &mut (dyn Iterator<Item = T> + Send + '_),
    first: &ClosableQueue<T>,
) {
    let _guard = AbortOnUnwind(run);
    // However this thread ends, the first stage's loop must end too.
    let _closer = first.close_on_drop();
    while !run.is_aborted() {
        let item = match panic::catch_unwind(AssertUnwindSafe(|| source.next())) {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(payload) => {
                run.fail(
                    None,
                    StageFailure::Panic(panic_message(&*payload).to_string()),
                );
                break;
            }
        };
        run.items_in.fetch_add(1, Ordering::Relaxed);
        if let Err(Closed(item)) = first.put(item) {
            run.lose(0, item);
            break;
        }
        run.put_into(0, first.len());
    }
}
// ANCHOR_END: feed
