//! The moving parts of one pipeline run: the state its threads share, the
//! stage worker's loop, the source thread, the sink's loop (which puts items
//! back in order when asked), the monitor thread, and the shutdown on
//! failure.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::sync::Mutex;
use crate::{ClosableQueue, Closed};

use super::cancel::{CancelMode, Control};
use super::policy::FailurePolicy;
use super::progress::{Progress, StageProgress};
use super::report::{
    BoxError, ItemFailure, PipelineError, PipelineReport, StageFailure, StageReport, busy_share,
};

// ANCHOR: packet
/// An item on its way through the pipeline, with its position in the source
/// (to put the output back in order, and to name the item if it fails) and
/// its description, if the pipeline has a `describe` function.
pub(crate) struct Packet<T> {
    index: u64,
    desc: Option<Box<str>>,
    /// `None` is a hole: the item at this position was skipped by a stage.
    /// Holes are only sent in ordered runs, so that the sink can move past
    /// the position.
    item: Option<T>,
}
// ANCHOR_END: packet

/// A stage function that takes the item by value, with its error boxed.
type OwnedFn<'a, T, U> = dyn Fn(T) -> Result<U, BoxError> + Send + Sync + 'a;

/// A stage function that borrows the item, with its error boxed.
type BorrowedFn<'a, T, U> = dyn Fn(&T) -> Result<U, BoxError> + Send + Sync + 'a;

/// A stage function. Only a function that borrows the item can be called
/// on it again, so only those stages can retry.
pub(crate) enum StageFn<'a, T, U> {
    Owned(Box<OwnedFn<'a, T, U>>),
    Borrowed(Box<BorrowedFn<'a, T, U>>),
}

/// The `describe` function of a pipeline.
pub(crate) type DescribeFn<'a, T> = dyn Fn(&T) -> String + Send + Sync + 'a;

/// The progress hook of a pipeline.
pub(crate) type ProgressFn<'a> = Box<dyn FnMut(&Progress) + Send + 'a>;

/// A queue of the run, as [`RunState::abort`] and the progress hook see it,
/// whatever its item type.
trait Registered<'a>: Send + Sync {
    /// Closes it at once and hands back the items that were inside.
    fn close_now(&self) -> Box<dyn HandedBack + 'a>;
    fn len(&self) -> usize;
}

impl<'a, T: Send + 'a> Registered<'a> for ClosableQueue<Packet<T>> {
    fn close_now(&self) -> Box<dyn HandedBack + 'a> {
        Box::new(ClosableQueue::close_now(self))
    }

    fn len(&self) -> usize {
        ClosableQueue::len(self)
    }
}

/// The items that `close_now` handed back, whatever their type.
trait HandedBack {
    /// Counts each item as lost at queue `j` and drops it, as
    /// [`RunState::lose`] does.
    fn lose_all(self: Box<Self>, run: &RunState<'_>, j: usize);
}

impl<T> HandedBack for Vec<Packet<T>> {
    fn lose_all(self: Box<Self>, run: &RunState<'_>, j: usize) {
        for packet in *self {
            run.lose(j, packet);
        }
    }
}

/// How a stage is set up, as the builder hands it to the run.
pub(crate) struct StageConfig {
    pub(crate) name: String,
    pub(crate) workers: usize,
    pub(crate) capacity: Option<usize>,
    pub(crate) policy: FailurePolicy,
}

/// How the whole run is set up, besides its stages.
pub(crate) struct RunConfig {
    pub(crate) output_capacity: Option<usize>,
    pub(crate) max_failures: Option<u64>,
    pub(crate) window: Option<usize>,
    pub(crate) live: bool,
    pub(crate) control: Arc<Control>,
}

/// What one stage's workers share.
pub(crate) struct StageState {
    pub(crate) name: String,
    pub(crate) workers: usize,
    pub(crate) capacity: Option<usize>,
    policy: FailurePolicy,
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
    start: Instant,
    items_in: AtomicU64,
    items_out: AtomicU64,
    aborted: AtomicBool,
    /// Drops of lost items that panicked (and were caught).
    drop_panics: AtomicU64,
    /// The first failure: stage index (`None` = source) and what happened.
    failure: Mutex<Option<(Option<usize>, StageFailure)>>,
    /// Every item failed for good, in the order the failures happened.
    failures: Mutex<Vec<ItemFailure>>,
    /// Failures skipped so far, and how many may be.
    skipped: AtomicU64,
    max_failures: Option<u64>,
    /// The ordered window's size, and the position the sink waits for next.
    window: Option<usize>,
    next_out: AtomicU64,
    /// Whether a progress hook reads the counters while the run goes on.
    live: bool,
    control: Arc<Control>,
    /// Every queue, to close them all when the run is aborted and to read
    /// their lengths for the progress hook.
    queues_made: Mutex<Vec<(usize, Arc<dyn Registered<'a> + 'a>)>>,
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
    pub(crate) fn new(stages: impl IntoIterator<Item = StageConfig>, config: RunConfig) -> Self {
        let stages: Vec<StageState> = stages
            .into_iter()
            .map(|s| StageState {
                name: s.name,
                workers: s.workers,
                capacity: s.capacity,
                policy: s.policy,
                workers_left: AtomicUsize::new(s.workers),
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
            output_capacity: config.output_capacity,
            start: Instant::now(),
            items_in: AtomicU64::new(0),
            items_out: AtomicU64::new(0),
            aborted: AtomicBool::new(false),
            drop_panics: AtomicU64::new(0),
            failure: Mutex::new(None),
            failures: Mutex::new(Vec::new()),
            skipped: AtomicU64::new(0),
            max_failures: config.max_failures,
            window: config.window,
            next_out: AtomicU64::new(0),
            live: config.live,
            control: config.control,
            queues_made: Mutex::new(Vec::new()),
        }
    }

    /// The capacity of queue `j`.
    pub(crate) fn queue_capacity(&self, j: usize) -> Option<usize> {
        match self.stages.get(j) {
            Some(stage) => stage.capacity,
            None => self.output_capacity,
        }
    }

    /// Makes queue `j` known to [`abort`](Self::abort) and to the progress
    /// hook. If the run was aborted already, the queue is closed at once.
    pub(crate) fn register<T: Send + 'a>(&self, j: usize, queue: &Arc<ClosableQueue<Packet<T>>>) {
        let queue: Arc<dyn Registered<'a> + 'a> = Arc::clone(queue) as _;
        let handed_back = {
            let mut queues = self.queues_made.lock();
            let handed_back = self.is_aborted().then(|| queue.close_now());
            queues.push((j, queue));
            handed_back
        };
        if let Some(items) = handed_back {
            items.lose_all(self, j);
        }
    }

    fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }

    /// Whether the run is stopping: aborted, or cancelled in either mode.
    /// The source takes no more items, and retries stop.
    fn is_stopping(&self) -> bool {
        self.is_aborted() || self.control.cancelled().is_some()
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
            let queues = self.queues_made.lock();
            queues.iter().map(|(j, q)| (*j, q.close_now())).collect()
        };
        // Wake the workers pausing between retries, and the source waiting
        // for the ordered window.
        self.control.wake_all();
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

    /// Adds an item that stage `j` failed on to the report's list. The
    /// messages are formatted before the lock is taken.
    fn record_failure(
        &self,
        j: usize,
        index: u64,
        desc: Option<&str>,
        attempts: u32,
        failure: &StageFailure,
    ) {
        let (error, panicked) = match failure {
            StageFailure::Error(e) => (e.to_string(), false),
            StageFailure::Panic(msg) => (msg.clone(), true),
        };
        let failure = ItemFailure {
            stage: self.stages[j].name.clone(),
            stage_index: j,
            index,
            item: desc.map_or_else(|| format!("item #{index}"), str::to_string),
            attempts,
            error,
            panicked,
        };
        self.failures.lock().push(failure);
    }

    /// Whether one more failure may be skipped under the cap of
    /// `max_failures`; counts it if so.
    fn may_skip(&self) -> bool {
        match self.max_failures {
            None => true,
            Some(cap) => self.skipped.fetch_add(1, Ordering::Relaxed) < cap,
        }
    }

    /// Samples the length of queue `j` right after a successful put.
    fn put_into(&self, j: usize, len: usize) {
        self.queues[j].peak.fetch_max(len, Ordering::Relaxed);
    }

    // ANCHOR: lose
    /// Counts the item in `packet` as lost at queue `j`, then drops it. A
    /// panic in its `Drop` is caught and counted: it must not stop a
    /// shutdown half-way, and in a thread that is already unwinding it would
    /// abort the process. A hole is no item: it is not counted.
    fn lose<T>(&self, j: usize, packet: Packet<T>) {
        if let Some(item) = packet.item {
            self.queues[j].lost.fetch_add(1, Ordering::Relaxed);
            self.discard(item);
        }
    }
    // ANCHOR_END: lose

    /// Drops `item`, catching and counting a panic in its `Drop`.
    fn discard<T>(&self, item: T) {
        if drop_panicked(item) {
            self.drop_panics.fetch_add(1, Ordering::Relaxed);
        }
    }

    // ANCHOR: pause
    /// Sleeps for `pause` before a retry; returns `false` at once (and
    /// without sleeping on) when the run is stopping: cancelled or aborted.
    fn pause(&self, pause: Duration) -> bool {
        let deadline = Instant::now().checked_add(pause);
        let control = &self.control;
        !control.sleep_until(&control.wake, deadline, |_| self.is_stopping())
    }
    // ANCHOR_END: pause

    // ANCHOR: admit
    /// Called by the source before it takes item `index`: whether it may.
    /// Never once the run is stopping. In an ordered run, it first waits
    /// until `index` is inside the window: less than `window` positions
    /// ahead of the one the sink waits for.
    fn admit(&self, index: u64) -> bool {
        let Some(window) = self.window else {
            return !self.is_stopping();
        };
        let control = &self.control;
        control.sleep_until(&control.window, None, |_| {
            self.is_stopping() || index < self.next_out.load(Ordering::Acquire) + window as u64
        });
        !self.is_stopping()
    }
    // ANCHOR_END: admit

    /// The sink has delivered (or passed over) every position before `next`:
    /// the window moves, and the source may take more items.
    fn advance_window(&self, next: u64) {
        self.next_out.store(next, Ordering::Release);
        let _lock = self.control.over.lock();
        self.control.window.notify_all();
    }

    /// A snapshot for the progress hook.
    fn progress(&self) -> Progress {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let elapsed = self.start.elapsed();
        let mut lens = vec![0; self.queues.len()];
        for (j, q) in self.queues_made.lock().iter() {
            lens[*j] = q.len();
        }
        let stages = self
            .stages
            .iter()
            .zip(lens)
            .map(|(s, queue_len)| StageProgress {
                name: s.name.clone(),
                done: load(&s.processed),
                failed: load(&s.failed),
                queue_len,
                queue_capacity: s.capacity,
                busy: busy_share(Duration::from_nanos(load(&s.busy_ns)), s.workers, elapsed),
            })
            .collect();
        Progress {
            elapsed,
            items_in: load(&self.items_in),
            items_out: load(&self.items_out),
            stages,
        }
    }

    /// The report, and the error if a stage failed. Call once every thread
    /// has been joined.
    pub(crate) fn finish(self, elapsed: Duration) -> Result<PipelineReport, PipelineError> {
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
        // ANCHOR: bottleneck
        let bottleneck = stages
            .iter()
            .filter(|s| !s.busy.is_zero())
            .max_by(|a, b| a.utilization(elapsed).total_cmp(&b.utilization(elapsed)))
            .map(|s| s.name.clone());
        // ANCHOR_END: bottleneck
        let out = &self.queues[self.stages.len()];
        let report = PipelineReport {
            items_in: load(&self.items_in),
            items_out: load(&self.items_out),
            undelivered: load(&out.lost),
            drop_panics: load(&self.drop_panics),
            output_peak_len: out.peak.load(Ordering::Relaxed),
            output_capacity: self.output_capacity,
            elapsed,
            stages,
            bottleneck,
            failures: self.failures.into_inner(),
            cancelled: self.control.cancelled(),
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
/// in the progress hook, or a bug in this module. Without it, the other
/// threads could stay blocked on queues that nobody closes, and
/// `thread::scope` would wait for ever.
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

/// What one worker counts. It adds its counts to the stage's counters when
/// it ends, or after every item when a progress hook is watching.
#[derive(Default)]
struct Tally {
    processed: u64,
    failed: u64,
    busy: Duration,
    waiting: Duration,
    blocked: Duration,
}

impl Tally {
    fn flush(&mut self, stage: &StageState) {
        let tally = std::mem::take(self);
        stage
            .processed
            .fetch_add(tally.processed, Ordering::Relaxed);
        stage.failed.fetch_add(tally.failed, Ordering::Relaxed);
        stage
            .busy_ns
            .fetch_add(nanos(tally.busy), Ordering::Relaxed);
        stage
            .waiting_ns
            .fetch_add(nanos(tally.waiting), Ordering::Relaxed);
        stage
            .blocked_ns
            .fetch_add(nanos(tally.blocked), Ordering::Relaxed);
    }
}

/// Calls a stage function, catching a panic, and adds the time it took to
/// `busy`.
fn call<U>(
    busy: &mut Duration,
    f: impl FnOnce() -> Result<U, BoxError>,
) -> Result<U, StageFailure> {
    let start = Instant::now();
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    *busy += start.elapsed();
    match result {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(error)) => Err(StageFailure::Error(error)),
        Err(payload) => Err(StageFailure::Panic(panic_message(&*payload).to_string())),
    }
}

/// How a stage function ended on one item.
struct Outcome<U> {
    result: Result<U, StageFailure>,
    attempts: u32,
    /// Whether the retries were cut short because the run is stopping.
    interrupted: bool,
}

// ANCHOR: attempt
/// Runs stage `j`'s function on `item`: once if it takes the item by value,
/// as many times as its policy allows if it borrows it, pausing between
/// attempts. Adds the time spent inside the function to `busy`.
fn attempt<T, U>(
    run: &RunState<'_>,
    j: usize,
    func: &StageFn<'_, T, U>,
    item: T,
    busy: &mut Duration,
) -> Outcome<U> {
    let func = match func {
        StageFn::Owned(func) => {
            return Outcome {
                result: call(busy, || func(item)),
                attempts: 1,
                interrupted: false,
            };
        }
        StageFn::Borrowed(func) => func,
    };
    let policy = run.stages[j].policy;
    let (mut attempts, mut interrupted) = (1, false);
    let result = loop {
        match call(busy, || func(&item)) {
            Err(failure) if attempts < policy.attempts() => {
                if !run.pause(policy.pause_after(attempts)) {
                    interrupted = true;
                    break Err(failure);
                }
                attempts += 1;
            }
            result => break result,
        }
    };
    run.discard(item);
    Outcome {
        result,
        attempts,
        interrupted,
    }
}
// ANCHOR_END: attempt

/// Puts `packet` into queue `j + 1`, timing the wait; `false` if the queue
/// was closed by an abort (the packet is then lost there).
fn forward<U>(
    run: &RunState<'_>,
    j: usize,
    output: &ClosableQueue<Packet<U>>,
    packet: Packet<U>,
    blocked: &mut Duration,
) -> bool {
    let start = Instant::now();
    let put = output.put(packet);
    *blocked += start.elapsed();
    match put {
        Ok(()) => {
            run.put_into(j + 1, output.len());
            true
        }
        Err(Closed(packet)) => {
            // Only an abort closes a queue that still has producers: the
            // result is dropped, and counted.
            run.lose(j + 1, packet);
            false
        }
    }
}

// ANCHOR: stage_worker
/// One worker of stage `j`: takes items from queue `j`, runs the stage
/// function on each, puts the results on queue `j + 1`.
pub(crate) fn stage_worker<T, U>(
    run: &RunState<'_>,
    j: usize,
    input: &ClosableQueue<Packet<T>>,
    output: &ClosableQueue<Packet<U>>,
    func: &StageFn<'_, T, U>,
) {
    let _exit = WorkerExit {
        run,
        stage: j,
        output,
    };
    let stage = &run.stages[j];
    let mut tally = Tally::default();
    loop {
        let start = Instant::now();
        let next = input.get();
        tally.waiting += start.elapsed();
        let Some(packet) = next else { break }; // closed and drained: done
        if run.is_aborted() {
            run.lose(j, packet); // taken, but the stage function never saw it
            break;
        }
        let Packet { index, desc, item } = packet;
        let Some(item) = item else {
            // A hole: pass it on, for the sink to move past.
            let hole = Packet {
                index,
                desc,
                item: None,
            };
            if forward(run, j, output, hole, &mut tally.blocked) {
                continue;
            }
            break;
        };
        let outcome = attempt(run, j, func, item, &mut tally.busy);
        let out = match outcome.result {
            Ok(out) => {
                tally.processed += 1;
                Some(out)
            }
            Err(failure) => {
                tally.failed += 1;
                run.record_failure(j, index, desc.as_deref(), outcome.attempts, &failure);
                let skip = outcome.interrupted || (stage.policy.skips() && run.may_skip());
                if !skip {
                    run.fail(Some(j), failure);
                    break;
                }
                None
            }
        };
        if run.live {
            tally.flush(stage);
        }
        if out.is_none() && run.window.is_none() {
            continue; // skipped, and nobody waits for its position
        }
        let packet = Packet {
            index,
            desc,
            item: out,
        };
        if !forward(run, j, output, packet, &mut tally.blocked) {
            break;
        }
    }
    tally.flush(stage);
}
// ANCHOR_END: stage_worker

// ANCHOR: feed
/// The source thread: pulls items from the source into queue 0, each with
/// its position (and description), then closes it. A panic inside the
/// source iterator (or `describe`) fails the run as stage "source". The
/// item lives outside the `catch_unwind` around `describe`, so a panic
/// there does not drop it while unwinding (a panicking `Drop` then would
/// abort the process); it is dropped afterwards, with `discard`.
pub(crate) fn feed<T>(
    run: &RunState<'_>,
    source: &mut (dyn Iterator<Item = T> + Send + '_),
    describe: Option<&DescribeFn<'_, T>>,
    first: &ClosableQueue<Packet<T>>,
) {
    let _guard = AbortOnUnwind(run);
    // However this thread ends, the first stage's loop must end too.
    let _closer = first.close_on_drop();
    let mut index = 0;
    while run.admit(index) {
        let fail = |payload: Box<dyn Any + Send>| {
            run.fail(
                None,
                StageFailure::Panic(panic_message(&*payload).to_string()),
            );
        };
        let item = match panic::catch_unwind(AssertUnwindSafe(|| source.next())) {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(payload) => {
                fail(payload);
                break;
            }
        };
        let desc = match describe.map(|describe| {
            panic::catch_unwind(AssertUnwindSafe(|| describe(&item).into_boxed_str()))
        }) {
            None => None,
            Some(Ok(desc)) => Some(desc),
            Some(Err(payload)) => {
                fail(payload);
                run.discard(item);
                break;
            }
        };
        run.items_in.fetch_add(1, Ordering::Relaxed);
        let packet = Packet {
            index,
            desc,
            item: Some(item),
        };
        if let Err(Closed(packet)) = first.put(packet) {
            run.lose(0, packet);
            break;
        }
        run.put_into(0, first.len());
        index += 1;
    }
}
// ANCHOR_END: feed

// ANCHOR: deliver
/// The sink's loop, in the thread that called `run_*`: takes the results
/// from the output queue `out` and hands them to `sink`. In an ordered run,
/// a result that comes early waits in a buffer of `window` slots until every
/// position before it has been delivered or passed over (a hole).
pub(crate) fn deliver<T>(
    run: &RunState<'_>,
    out: usize,
    output: &ClosableQueue<Packet<T>>,
    sink: &mut dyn FnMut(T),
) {
    let _over = Over(run);
    let mut send = |packet: Packet<T>| {
        if let Some(item) = packet.item {
            sink(item);
            run.items_out.fetch_add(1, Ordering::Relaxed);
        }
    };
    let Some(window) = run.window else {
        while let Some(packet) = output.get() {
            send(packet);
        }
        return;
    };
    // Every position in flight is in [next, next + window): the source takes
    // no item beyond it. So each has a slot of its own, `index % window`.
    let mut buffer = Reorder {
        run,
        out,
        slots: (0..window).map(|_| None).collect(),
    };
    let mut next = 0u64;
    let slot = |index: u64| (index % window as u64) as usize;
    while let Some(packet) = output.get() {
        let k = slot(packet.index);
        debug_assert!(
            buffer.slots[k].is_none(),
            "two positions in flight share a slot"
        );
        buffer.slots[k] = Some(packet);
        let before = next;
        while let Some(packet) = buffer.slots[slot(next)].take() {
            send(packet);
            next += 1;
        }
        if next != before {
            run.advance_window(next);
        }
    }
}

/// The sink's reorder buffer. Only after an abort, or while a panic in the
/// sink unwinds, can results be left in it: they are lost at the output
/// queue, each dropped under `catch_unwind` (a panicking `Drop` while the
/// sink's thread unwinds would abort the process).
struct Reorder<'r, 'a, T> {
    run: &'r RunState<'a>,
    out: usize,
    slots: Vec<Option<Packet<T>>>,
}

impl<T> Drop for Reorder<'_, '_, T> {
    fn drop(&mut self) {
        for packet in self.slots.drain(..).flatten() {
            self.run.lose(self.out, packet);
        }
    }
}
// ANCHOR_END: deliver

/// Marks the end of the sink's loop, however it ends, for the monitor.
struct Over<'r, 'a>(&'r RunState<'a>);

impl Drop for Over<'_, '_> {
    fn drop(&mut self) {
        let control = &self.0.control;
        *control.over.lock() = true;
        control.wake_all();
    }
}

// ANCHOR: monitor
/// The monitor thread, started when there is a cancel handle or a progress
/// hook: it sleeps until the run is cancelled "now" (and then aborts it, as
/// a failure does), the next progress tick (and then calls the hook), or the
/// end of the sink's loop (and then calls the hook a last time, and ends).
pub(crate) fn monitor(run: &RunState<'_>, mut progress: Option<(Duration, ProgressFn<'_>)>) {
    let _guard = AbortOnUnwind(run);
    let control = &run.control;
    let mut tick = progress
        .as_ref()
        .and_then(|(every, _)| Instant::now().checked_add(*every));
    loop {
        control.sleep_until(&control.wake, tick, |over| {
            over || (control.cancelled() == Some(CancelMode::Now) && !run.is_aborted())
        });
        if control.cancelled() == Some(CancelMode::Now) {
            run.abort();
        }
        let over = *control.over.lock();
        if let Some((every, hook)) = &mut progress {
            if over || tick.is_some_and(|t| Instant::now() >= t) {
                hook(&run.progress());
                tick = Instant::now().checked_add(*every);
            }
        }
        if over {
            return;
        }
    }
}
// ANCHOR_END: monitor
