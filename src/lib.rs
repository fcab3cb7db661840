//! # queuelab
//!
//! Thread-safe FIFO queues built one step at a time, the way Effective
//! Python (2nd edition), Item 55, "Use `Queue` to Coordinate Work Between
//! Threads", builds them in Python, each step fixing what the one before
//! got wrong:
//!
//! | step | type | what it adds | Python original |
//! |---|---|---|---|
//! | 1 | [`PollingQueue`] | a `Mutex<VecDeque<T>>`; `try_get` fails when empty, so consumers poll | `MyQueue` |
//! | 2 | [`BlockingQueue`] | a `Condvar`: `get` sleeps until an item arrives | `queue.Queue()` |
//! | 3 | [`BoundedQueue`] | a capacity: `put` sleeps while full (backpressure) | `queue.Queue(maxsize)` |
//! | 4 | [`queue::closable::ClosableQueue`] | `close`, iteration that ends, `task_done`/`join` | `ClosableQueue` |
//! | 5 | [`queue::fast::ClosableQueue`] | the same API as step 4, faster under contention: waits with `Backoff` before it sleeps | none: CPython's `queue.Queue` sleeps at once |
//! | 6 | [`queue::ring::ClosableQueue`] | bounded only: a ring of stamped slots, no lock on the fast path | none |
//! | 7 | [`queue::list::ClosableQueue`] | unbounded only: a list of blocks, no lock on the fast path; each block freed by its last reader | none: `collections.deque` is a list of blocks too, guarded by the GIL |
//!
//! The crate root's [`ClosableQueue`] is the one to use: it picks its
//! flavor when it is made. [`ClosableQueue::bounded`] runs on step 6, the
//! ring; [`ClosableQueue::unbounded`] on step 5, until step 7 meets its
//! speed target on every load it is measured on ([`queue::flavor`] says
//! more).
//!
//! All queues are FIFO, `Send + Sync` when `T: Send`, shared with `Arc` or
//! scoped threads, and `UnwindSafe`: no user code ever runs while a queue's
//! lock is held. No method loses an item: an item a queue cannot accept comes
//! back inside the error. The [`Queue`] trait lets code be written once for
//! every step.
//!
//! With the cargo feature `redis`, `queuelab::redis::RedisQueue` (a module that
//! exists only with the feature) keeps the closable queue's contract on a
//! Redis Stream, shared between processes and machines; its module docs say
//! where the contract changes (serialized items, at-least-once delivery, a
//! `Result` from every call).
//!
//! ## From Python's `queue` to queuelab
//!
//! | Python (`queue.Queue`) | queuelab ([`ClosableQueue`]) |
//! |---|---|
//! | `Queue()` | [`ClosableQueue::unbounded()`] |
//! | `Queue(maxsize=n)`, `n > 0` | [`ClosableQueue::bounded(n)`](ClosableQueue::bounded) (`0` panics: see its docs) |
//! | `put(item)` | [`put(item)`](ClosableQueue::put) → `Result<(), Closed<T>>` |
//! | `put_nowait(item)` / `put(item, block=False)` | [`try_put(item)`](ClosableQueue::try_put) → `Err(Full(item))` instead of `queue.Full` |
//! | `put(item, timeout=t)` | [`put_timeout(item, t)`](ClosableQueue::put_timeout) |
//! | `get()` | [`get()`](ClosableQueue::get) → `None` once closed and drained |
//! | `get_nowait()` / `get(block=False)` | [`try_get()`](ClosableQueue::try_get) → `Err(Empty)` instead of `queue.Empty` |
//! | `get(timeout=t)` | [`get_timeout(t)`](ClosableQueue::get_timeout) |
//! | `qsize()` | [`len()`](ClosableQueue::len) (a snapshot, racy as in Python) |
//! | `empty()` | [`is_empty()`](ClosableQueue::is_empty) (a snapshot) |
//! | `full()` | `q.len() == q.capacity().unwrap()` (a snapshot; rarely what you want: use `try_put`) |
//! | `task_done()` | [`task_done()`](ClosableQueue::task_done) → `Err(TaskDoneError)` instead of `ValueError`; also refused before the `get` and for an item from `for item in &q` (the loop marks it) |
//! | `join()` | [`join()`](ClosableQueue::join) |
//! | `shutdown()` (3.13) | [`close()`](ClosableQueue::close) |
//! | `shutdown(immediate=True)` | [`close_now()`](ClosableQueue::close_now) (returns the items instead of discarding them) |
//! | Item 55's `ClosableQueue.close()` + `__iter__` | [`close()`](ClosableQueue::close) + `for item in &queue` |
//! | `try: ... finally: q.close()` | `let _closer = q.`[`close_on_drop()`](ClosableQueue::close_on_drop) |
//!
//! Steps 1-3 keep the names of the step they come from: [`PollingQueue`] is
//! `MyQueue` (`put`, `try_get` for `get` raising `IndexError`);
//! [`BlockingQueue`] and [`BoundedQueue`] are `queue.Queue` without
//! `task_done`/`join`.
//!
//! ```
//! use std::thread;
//! use queuelab::ClosableQueue;
//!
//! let jobs = ClosableQueue::bounded(16);
//! let results = ClosableQueue::unbounded();
//! thread::scope(|s| {
//!     for _ in 0..3 {
//!         s.spawn(|| {
//!             for n in &jobs {
//!                 results.put(n * n).unwrap();
//!             }
//!         });
//!     }
//!     // Closes `jobs` when this block ends, also by a panic or an early
//!     // return: the workers' loops always end, so `scope` always returns.
//!     let _closer = jobs.close_on_drop();
//!     for n in 0..100u64 {
//!         jobs.put(n).unwrap();
//!     }
//!     jobs.join();
//! });
//! results.close();
//! assert_eq!(results.iter().sum::<u64>(), (0..100).map(|n| n * n).sum());
//! ```
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![warn(missing_debug_implementations)]

pub mod error;
pub mod pipeline;
pub mod queue;
#[cfg(all(feature = "redis", not(loom)))]
pub mod redis;
mod sync;

#[cfg(doctest)]
mod book_doctests;

/// The README's Rust snippets, doctested.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use error::{
    Closed, GetTimeoutError, PutTimeoutError, TaskDoneError, TryGetError, TryPutError,
};
pub use queue::Queue;
pub use queue::blocking::BlockingQueue;
pub use queue::bounded::BoundedQueue;
pub use queue::flavor::{ClosableQueue, CloseOnDrop, Iter};
pub use queue::polling::PollingQueue;
// pipeline re-exports (issue 4) go below this line.
pub use pipeline::{
    Pipeline, PipelineError, PipelineReport, PollCounts, PollStrategy, PollingWorker, StageFailure,
    StageReport, StopError, StoppableWorker,
};
