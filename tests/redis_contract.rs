#![cfg(all(feature = "redis", not(loom)))]
//! The shared cases of `closable_api/cases.rs`, run on
//! `queuelab::redis::RedisQueue` against a real `redis-server`, wherever the
//! contract is the same as in one process.
//!
//! The cases call the in-process signatures (`put` returns
//! `Result<(), Closed<T>>`, `get` returns `Option<T>`...). [`ClosableQueue`]
//! below has them: it wraps a `RedisQueue` and turns a broker failure into a
//! panic that names it, and a wait longer than a minute into a panic that
//! says it hung. Each queue has a stream of its own, on one server
//! for the whole test binary (started by the first case that needs it, and
//! stopped when the binary exits). The cases whose contract differs on a
//! broker sit inside `in_process_cases!`, which this driver defines to leave
//! them out; `cases.rs` says why next to each group.
//!
//! The blocking cases start the thread that must block with
//! `common::spawn_until_blocked`, which waits until the kernel says the
//! thread sleeps. A thread waiting in a `RedisQueue` sleeps in a socket read
//! or between polls, but it also sleeps while any reply is on its way; so
//! here that helper may return before the thread has reached its wait. The
//! cases' assertions hold whatever the timing; only the blocking path is not
//! sure to be the one that ran.

mod common;
#[path = "../examples/common/redis_server.rs"]
mod redis_server;

use std::fmt::Display;
use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use queuelab::redis::{self, GetError, PutError, RedisQueue};
use queuelab::{
    Closed, GetTimeoutError, PutTimeoutError, Queue, TaskDoneError, TryGetError, TryPutError,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The cases where the bound is the point: `RedisQueue` has a bound, so
/// they run.
macro_rules! bounded_cases {
    ($($case:item)*) => { $($case)* };
}

/// The cases whose contract holds only in one process: left out here.
macro_rules! in_process_cases {
    ($($case:item)*) => {};
}

/// `RedisQueue`, through the adapter below.
#[path = "closable_api"]
mod redis_queue {
    use super::ClosableQueue;
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    mod cases;
}

/// The server every queue of this binary lives on.
struct Server {
    child: Mutex<Child>,
    port: u16,
    dir: PathBuf,
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// The URL of the binary's server, started on first use. A static is never
/// dropped, so the server is stopped by an `atexit` handler: the test
/// harness ends with `exit` whether the cases passed or failed.
fn server_url() -> String {
    let server = SERVER.get_or_init(|| {
        let (child, port, dir) = redis_server::start("redis-server", "queuelab-contract", false)
            .expect("cannot start redis-server: install it (apt-get install redis-server)");
        // SAFETY: `stop_server` is a plain function that touches only the
        // static, which lives until the process ends.
        let registered = unsafe { libc::atexit(stop_server) };
        assert_eq!(registered, 0, "atexit refused the handler");
        Server {
            child: Mutex::new(child),
            port,
            dir,
        }
    });
    format!("redis://127.0.0.1:{}/", server.port)
}

/// Kills the binary's server, waits for it and removes its directory.
extern "C" fn stop_server() {
    if let Some(server) = SERVER.get() {
        let mut child = server.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&server.dir);
    }
}

/// Panics with the broker's failure: the shared cases have no room for it.
fn failed(call: &str, failure: impl Display) -> ! {
    panic!("RedisQueue::{call} failed: {failure}")
}

/// The longest the adapter lets a put, get or join wait, whatever time
/// limit the case gave (its `LONG` is an hour): a queue that never wakes
/// its waiter fails the case instead of hanging the run. (An iterator's
/// wait has no such limit.)
const HUNG: Duration = Duration::from_secs(60);

/// Panics for a wait that reached [`HUNG`].
fn hung(call: &str) -> ! {
    panic!("RedisQueue::{call} hung: it waited {HUNG:?}")
}

/// A `RedisQueue` with the in-process `ClosableQueue`'s signatures, on a
/// stream of its own.
pub struct ClosableQueue<T>(RedisQueue<T>);

impl<T> ClosableQueue<T> {
    fn open(capacity: Option<usize>) -> Self {
        static QUEUES: AtomicUsize = AtomicUsize::new(0);
        let name = format!("case{}", QUEUES.fetch_add(1, Ordering::Relaxed));
        let mut builder = RedisQueue::builder(&server_url(), &name);
        if let Some(capacity) = capacity {
            builder = builder.bounded(capacity);
        }
        ClosableQueue(builder.open().unwrap_or_else(|f| failed("open", f)))
    }

    pub fn unbounded() -> Self {
        Self::open(None)
    }

    /// Panics for 0, as `RedisQueueBuilder::bounded` does.
    pub fn bounded(capacity: usize) -> Self {
        Self::open(Some(capacity))
    }
}

impl<T: Serialize + DeserializeOwned> ClosableQueue<T> {
    pub fn put(&self, item: T) -> Result<(), Closed<T>> {
        match self.0.put_timeout(item, HUNG) {
            Ok(()) => Ok(()),
            Err(PutError::Closed(item)) => Err(Closed(item)),
            Err(PutError::Timeout(_)) => hung("put"),
            Err(other) => failed("put", other),
        }
    }

    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        match self.0.try_put(item) {
            Ok(()) => Ok(()),
            Err(PutError::Full(item)) => Err(TryPutError::Full(item)),
            Err(PutError::Closed(item)) => Err(TryPutError::Closed(item)),
            Err(other) => failed("try_put", other),
        }
    }

    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutTimeoutError<T>> {
        match self.0.put_timeout(item, timeout.min(HUNG)) {
            Ok(()) => Ok(()),
            Err(PutError::Timeout(_)) if timeout > HUNG => hung("put_timeout"),
            Err(PutError::Timeout(item)) => Err(PutTimeoutError::Timeout(item)),
            Err(PutError::Closed(item)) => Err(PutTimeoutError::Closed(item)),
            Err(other) => failed("put_timeout", other),
        }
    }

    pub fn get(&self) -> Option<T> {
        match self.0.get_timeout(HUNG) {
            Ok(item) => Some(item),
            Err(GetError::Closed) => None,
            Err(GetError::Timeout) => hung("get"),
            Err(other) => failed("get", other),
        }
    }

    pub fn try_get(&self) -> Result<T, TryGetError> {
        match self.0.try_get() {
            Ok(item) => Ok(item),
            Err(GetError::Empty) => Err(TryGetError::Empty),
            Err(GetError::Closed) => Err(TryGetError::Closed),
            Err(other) => failed("try_get", other),
        }
    }

    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetTimeoutError> {
        match self.0.get_timeout(timeout.min(HUNG)) {
            Ok(item) => Ok(item),
            Err(GetError::Timeout) if timeout > HUNG => hung("get_timeout"),
            Err(GetError::Timeout) => Err(GetTimeoutError::Timeout),
            Err(GetError::Closed) => Err(GetTimeoutError::Closed),
            Err(other) => failed("get_timeout", other),
        }
    }

    pub fn close(&self) -> bool {
        self.0.close().unwrap_or_else(|f| failed("close", f))
    }

    pub fn close_now(&self) -> Vec<T> {
        self.0
            .close_now()
            .unwrap_or_else(|f| failed("close_now", f))
    }

    pub fn is_closed(&self) -> bool {
        self.0
            .is_closed()
            .unwrap_or_else(|f| failed("is_closed", f))
    }

    pub fn len(&self) -> usize {
        self.0.len().unwrap_or_else(|f| failed("len", f))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty().unwrap_or_else(|f| failed("is_empty", f))
    }

    pub fn capacity(&self) -> Option<usize> {
        self.0.capacity()
    }

    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        match self.0.task_done() {
            Ok(()) => Ok(()),
            Err(redis::TaskDoneError::NothingTaken) => Err(TaskDoneError),
            Err(other) => failed("task_done", other),
        }
    }

    pub fn join(&self) {
        match self.0.join_timeout(HUNG) {
            Ok(true) => {}
            Ok(false) => hung("join"),
            Err(f) => failed("join", f),
        }
    }

    pub fn unfinished_tasks(&self) -> usize {
        self.0
            .unfinished_tasks()
            .unwrap_or_else(|f| failed("unfinished_tasks", f))
    }

    pub fn iter(&self) -> Iter<'_, T> {
        Iter(self.0.iter())
    }
}

/// `RedisQueue`'s iterator, yielding items instead of `Result`s.
pub struct Iter<'a, T>(redis::Iter<'a, T>);

impl<T: Serialize + DeserializeOwned> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.0
            .next()
            .map(|item| item.unwrap_or_else(|f| failed("iter", f)))
    }
}

impl<'a, T: Serialize + DeserializeOwned> IntoIterator for &'a ClosableQueue<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// `RedisQueue`'s own implementation of the trait.
impl<T: Serialize + DeserializeOwned> Queue<T> for ClosableQueue<T> {
    fn push(&self, item: T) -> Result<(), T> {
        self.0.push(item)
    }

    fn pop(&self) -> Option<T> {
        self.0.pop()
    }

    fn try_pop(&self) -> Option<T> {
        self.0.try_pop()
    }

    fn len(&self) -> usize {
        Queue::len(&self.0)
    }
}
