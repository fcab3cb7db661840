//! The moving parts of one pipeline run: the state its threads share, the
//! stage worker's loop, the source thread, and the shutdown on failure.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::ClosableQueue;
use crate::sync::Mutex;

use super::report::{BoxError, PipelineError, PipelineReport, StageFailure, StageReport};

/// Closes one queue at once and says how many items it handed back.
type Closer<'a> = Box<dyn Fn() -> u64 + Send + Sync + 'a>;

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
        let closer: Closer<'a> = Box::new(move || queue.close_now().len() as u64);
        let mut closers = self.closers.lock();
        if self.aborted.load(Ordering::Acquire) {
            self.queues[j].lost.fetch_add(closer(), Ordering::Relaxed);
        }
        closers.push((j, closer));
    }

    fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }

    // ANCHOR: abort
    /// Stops the run: closes every queue with `close_now`, which wakes every
    /// thread blocked in a `put` or `get`. The items handed back are counted
    /// as lost at their queue, then dropped. Only the first call does it.
    pub(crate) fn abort(&self) {
        if self.aborted.swap(true, Ordering::AcqRel) {
            return;
        }
        let closers = self.closers.lock();
        for (j, close) in closers.iter() {
            self.queues[*j].lost.fetch_add(close(), Ordering::Relaxed);
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

    fn lost_at(&self, j: usize) {
        self.queues[j].lost.fetch_add(1, Ordering::Relaxed);
    }

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
            run.lost_at(j); // taken, but the stage function never saw it
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
                    Err(_closed) => {
                        // Only an abort closes a queue that still has
                        // producers: the result is dropped, and counted.
                        run.lost_at(j + 1);
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
        if first.put(item).is_err() {
            run.lost_at(0);
            break;
        }
        run.put_into(0, first.len());
    }
    first.close();
}
// ANCHOR_END: feed
