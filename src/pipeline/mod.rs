//! Workers and pipelines: the download → resize → upload pipeline of
//! Effective Python, Item 55, three ways.
//!
//! - [`PollingWorker`] is Item 55's first `Worker`: it polls a
//!   [`PollingQueue`](crate::PollingQueue) and counts its polls. It only
//!   stops when told to ([`PollingWorker::stop`]).
//! - [`StoppableWorker`] is Item 55's `StoppableWorker`: `for item in
//!   &input` over a [`ClosableQueue`](crate::ClosableQueue), ending by itself
//!   when the input is closed and drained.
//!   [`StoppableWorker::stop_all`] stops a pool of them without hanging on
//!   one that panicked, and hands back in a [`StopError`] what it left.
//! - [`Pipeline`] wires a source, any number of stages and a sink with
//!   closable queues, starts a pool of workers per stage, shuts it all down
//!   and reports what happened: Item 55's `start_threads`/`stop_threads`,
//!   made reusable.
//!
//! ```
//! use queuelab::Pipeline;
//!
//! let (thumbs, report) = Pipeline::new(1..=20)
//!     .stage("download", 3, |id: u32| vec![id as u8; 100]) // "bytes"
//!     .stage("resize", 4, |bytes: Vec<u8>| bytes.len() / 10)
//!     .stage("upload", 5, |size: usize| size)
//!     .run_collect()
//!     .unwrap();
//! assert_eq!(thumbs, vec![10; 20]);
//! println!("{report}");
//! ```
//!
//! # How a pipeline runs
//!
//! Every stage reads from its own [`ClosableQueue`](crate::ClosableQueue)
//! (its *input queue*) and writes into the next stage's input queue; the last
//! stage writes into an output queue that the sink reads. The source is
//! iterated in a thread of its own, each stage runs in `workers` threads,
//! and the sink runs in the thread that called `run_*`. All of them are
//! scoped threads ([`std::thread::scope`]): every one has been joined when
//! `run_*` returns, and the source and stage functions may borrow local
//! variables.
//!
//! **Shutdown travels down the pipeline.** When the source is exhausted,
//! its thread closes the first queue. Each stage's workers drain their input
//! and end; the *last* worker of a stage to end closes the stage's output
//! queue, so the next stage drains and ends in turn, and finally the sink's
//! loop ends. No sentinels, no `join` per queue.
//!
//! **Queues are bounded** (capacity 64 unless set with
//! [`Pipeline::capacity`], [`Pipeline::input_capacity`] or
//! [`Pipeline::output_capacity`]; `None` is unbounded). A slow stage fills
//! its input queue and the stages before it wait in `put`: backpressure
//! instead of memory growing without end.
//!
//! **Order.** Queues are FIFO, so with one worker per stage items come out
//! in source order. With more workers they come out in completion order,
//! unless the pipeline is [`ordered`](Pipeline::ordered): then a reorder
//! buffer of a bounded window puts them back in source order.
//!
//! # When a stage fails
//!
//! What a stage does when its function returns `Err` or panics (the panic
//! is caught with [`std::panic::catch_unwind`]; the panic hook still prints
//! its message) is its [`FailurePolicy`]: skip the item, retry it, or (the
//! default) fail fast. Every item a stage fails on for good is listed in
//! [`PipelineReport::failures`]. Fail-fast stops the whole run:
//!
//! 1. the failure is recorded (if several stages fail at once, the first
//!    one recorded is the one the error names);
//! 2. every queue is closed with
//!    [`close_now`](crate::ClosableQueue::close_now), which wakes every
//!    thread blocked in `put` or `get`, also on full queues;
//! 3. the items that `close_now` hands back, the results that can no longer
//!    be put, and the items a worker took after the abort, are dropped and
//!    counted as *never reached* for the stages they did not get to. They
//!    are dropped only after every queue is closed, never under a lock, and
//!    each under `catch_unwind`: an item whose `Drop` panics is still
//!    counted where it was lost, the panic is counted in
//!    [`PipelineReport::drop_panics`], and the shutdown carries on (a panic
//!    that escaped there could leave threads blocked, or abort the process
//!    in a thread that is already unwinding);
//! 4. no more items are taken from the source;
//! 5. every thread is joined, and `run_*` returns a [`PipelineError`] that
//!    names the stage and carries the [`PipelineReport`].
//!
//! Functions already running when the run is stopped finish their current
//! item (a thread cannot be interrupted), so a stage that takes a long time
//! per item delays the return by that long. For every stage,
//! `processed + failed + never_reached == items_in`.
//!
//! A panic in the sink stops the run the same way, then carries on in the
//! caller once every thread is joined. A panic in the source iterator, or
//! in [`describe`](Pipeline::describe), is reported as a failure of a stage
//! named `"source"` (the item `describe` was looking at is dropped after
//! the panic, not during it).
//!
//! One panic cannot be caught: a stage function that takes its item by
//! value owns it, so when the function panics, the item is dropped while
//! the panic unwinds through it, and if that `Drop` panics too, Rust aborts
//! the process. Items whose `Drop` may panic belong in
//! [`try_stage_ref`](Pipeline::try_stage_ref) stages, which only borrow the
//! item: it is dropped after the function has returned, and a panic in its
//! `Drop` is caught and counted in [`PipelineReport::drop_panics`].
//!
//! # Stopping on request, and watching
//!
//! A [`CancelHandle`] (from [`Pipeline::cancel_handle`]) stops a run from
//! another thread: gracefully (no more items from the source; the others
//! finish) or at once (as an abort, without a failure). A progress hook
//! ([`Pipeline::on_progress`]) is called with a [`Progress`] snapshot while
//! the run goes on. Both are served by one more thread of the run, the
//! monitor, started only when one of them is asked for.
//!
//! With the cargo feature `serde`, [`PipelineReport`] and the types in it
//! implement `serde::Serialize`.
//!
//! # What the report measures
//!
//! Per stage, summed over its workers: items processed and failed, time
//! inside the stage function (*busy*), time in `get` waiting for input
//! (*waiting*), time in `put` waiting for room in a full output queue
//! (*blocked*), and the peak length of its input queue; and the stage with
//! the highest busy share, the [`bottleneck`](PipelineReport::bottleneck). The peak is sampled
//! with `len()` by the producer right after each successful put, so it is a
//! snapshot that can miss a short peak; it never exceeds the capacity. Each
//! measurement costs an [`Instant::now`](std::time::Instant::now) per `get`,
//! function call and `put`, plus one extra lock for the `len()` sample.

mod builder;
mod cancel;
mod policy;
mod progress;
mod report;
mod run;
mod worker;

pub use builder::Pipeline;
pub use cancel::{CancelHandle, CancelMode};
pub use policy::FailurePolicy;
pub use progress::{Progress, StageProgress};
pub use report::{BoxError, ItemFailure, PipelineError, PipelineReport, StageFailure, StageReport};
pub use worker::{PollCounts, PollStrategy, PollingWorker, StopError, StoppableWorker};
