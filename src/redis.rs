//! The queue's contract on Redis Streams, shared between processes and
//! machines (feature `redis`).
//!
//! [`RedisQueue<T>`] has the methods of the crate root's
//! [`ClosableQueue`](crate::ClosableQueue), with the same names and the
//! same meaning wherever a broker allows it:
//!
//! | this crate | Redis Streams |
//! |---|---|
//! | [`put`](RedisQueue::put) | `XADD` (in a script that first checks the closed flag and the capacity) |
//! | [`get`](RedisQueue::get) | `XREADGROUP` in a consumer group, `BLOCK` in short slices |
//! | [`task_done`](RedisQueue::task_done) | `XACK`, then `XDEL` |
//! | [`unfinished_tasks`](RedisQueue::unfinished_tasks) | `XLEN`: entries not yet delivered plus those delivered and not acked (`XPENDING`) |
//! | a crashed worker's items | `XAUTOCLAIM` after a visibility timeout |
//!
//! # What changes when the queue lives in a broker
//!
//! - **Items are serialized.** They must be `Serialize + DeserializeOwned`,
//!   and cross the wire as JSON (serde_json): an entry reads as text in
//!   `redis-cli XRANGE`, and a worker in another language (Python's
//!   `json`) can read it. A compact binary format would save bytes and
//!   time per item, which this crate has not measured; JSON was chosen for
//!   what a reader can see.
//! - **Delivery is at-least-once.** An item handed out by `get` stays in
//!   the stream, pending for the consumer that took it, until
//!   `task_done` acks it. When it has been pending longer than the
//!   *visibility timeout* ([`RedisQueueBuilder::visibility_timeout`],
//!   30 s unless set), any `get` may claim it (`XAUTOCLAIM`) and hand it
//!   out again: that is how the item of a worker that crashed is not lost.
//!   It is also how a worker that is merely slow sees its item processed
//!   twice. So a stage must be idempotent (writing a thumbnail to the same
//!   file twice is harmless, appending to a log twice is not), or must
//!   detect duplicates itself, e.g. by a key in the item.
//! - **Every call can fail.** The connection can be lost, so each method
//!   returns a `Result`; an item that was being put comes back inside
//!   [`PutError::Failed`], never lost. When the connection breaks *after*
//!   the server ran the put but before the reply arrived, the item is in
//!   the stream *and* handed back: putting it again puts it twice
//!   (at-least-once again).
//! - **`task_done` acks the oldest item this handle handed out and has not
//!   acked**, not "one item of the queue": each handle remembers the entry
//!   ids its gets returned, in order. The in-process queue only counts; a
//!   broker must name the entry it acks. Threads sharing one handle share
//!   that list, as they share the count in the in-process queue; so one
//!   thread's `task_done` may ack the item another thread is still working
//!   on, and if the process dies then, that item is acked and never
//!   finished. A worker that must survive a crash opens a handle of its
//!   own.
//! - **Closing is a key** (`SET ... NX`) that every process sees; a `get`
//!   blocked in `XREADGROUP` notices it within one slice (50 ms).
//! - **"Closed and drained"** means: closed, nothing left undelivered,
//!   and no item held by *another* consumer (which might still come back
//!   after the visibility timeout). So after `close`, a worker's `get`
//!   keeps waiting while other workers hold items, and claims them if
//!   their worker dies; only items its own handle holds do not keep it
//!   waiting.
//! - **Capacity** counts the items not yet delivered, across every
//!   process: a put waits while the stream holds `capacity` of them.
//!   `XADD ... MAXLEN` would trim the oldest entries, which loses items,
//!   so it is not used. Redis has no condition variable: a put that waits
//!   for room, and [`join`](RedisQueue::join), look again every 10 ms.
//! - **A corrupt entry** (not written by this type, or not a `T`) is
//!   reported by `get` as [`Failure::Corrupt`] with its id, and left
//!   pending: nothing is deleted. The visibility timeout hands it out again
//!   later, so it is reported again, until someone removes it (`XACK`,
//!   `XDEL`) or fixes the reader; until then `join` waits.
//!
//! # Keys
//!
//! A queue named `jobs` uses the keys `queuelab:{jobs}:stream` (the
//! stream, with the consumer group `queuelab`), `queuelab:{jobs}:closed`
//! and `queuelab:{jobs}:capacity`. The braces (a hash tag) would keep the
//! three in one slot of a Redis Cluster, as a script that touches all of
//! them requires there; this type connects to one server, not to a
//! cluster.
//!
//! ```no_run
//! use queuelab::redis::RedisQueue;
//!
//! // A process that puts:
//! let q = RedisQueue::<String>::builder("redis://127.0.0.1/", "jobs").bounded(100).open()?;
//! q.put("a.jpg".to_string())?;
//! q.close()?;
//!
//! // A worker, in this process or another one on another machine:
//! let q = RedisQueue::<String>::builder("redis://127.0.0.1/", "jobs").bounded(100).open()?;
//! for job in &q {
//!     let job = job?;
//!     println!("{job}"); // acked when the loop asks for the next one
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::thread;
use std::time::{Duration, Instant};

use ::redis::{Client, Connection, RedisError, Script, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::queue::Queue;
use crate::sync::Mutex;

/// How long one `XREADGROUP ... BLOCK` waits: a blocked `get` notices a
/// close within this time.
const SLICE: Duration = Duration::from_millis(50);
/// How often a put that waits for room, and `join`, look again.
const POLL: Duration = Duration::from_millis(10);
/// The consumer group every handle of a queue reads in.
const GROUP: &str = "queuelab";
/// The field of a stream entry that holds the item, as JSON.
const FIELD: &str = "item";
/// The cursor of `XAUTOCLAIM` that starts at the beginning of the pending
/// list, and that it returns at the end of it.
const START: &str = "0-0";

// ANCHOR: put_script
/// Puts an item unless the queue is closed or full, atomically.
/// KEYS: stream, closed. ARGV: group, capacity (0: none), item.
const PUT: &str = r"
if redis.call('EXISTS', KEYS[2]) == 1 then return 'closed' end
local cap = tonumber(ARGV[2])
if cap > 0 then
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1])[1]
  if redis.call('XLEN', KEYS[1]) - pending >= cap then return 'full' end
end
redis.call('XADD', KEYS[1], '*', 'item', ARGV[3])
return 'ok'
";
// ANCHOR_END: put_script

// ANCHOR: take_script
/// One try at taking an entry, without waiting: first an entry pending
/// longer than the visibility timeout (any consumer's), looked for in the
/// next few entries of the pending list from the handle's cursor on, then
/// a new one. Returns `{cursor, taken}`: the cursor where the next try
/// goes on ('0-0': the list was looked at to its end), and the entry
/// `{id, {field, value...}}`, or 'closed' when closed, nothing is
/// undelivered and no other consumer holds an entry, or 'empty'.
/// KEYS: stream, closed. ARGV: group, consumer, min idle ms, cursor.
const TAKE: &str = r"
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', 1)
local cursor = claimed[1]
if #claimed[2] > 0 then return {cursor, claimed[2][1]} end
local new = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', KEYS[1], '>')
if new then return {cursor, new[1][2][1]} end
if redis.call('EXISTS', KEYS[2]) == 1 then
  local own = 0
  local holders = redis.call('XPENDING', KEYS[1], ARGV[1])[4]
  if holders then
    for _, h in ipairs(holders) do
      if h[1] == ARGV[2] then own = tonumber(h[2]) end
    end
  end
  if redis.call('XLEN', KEYS[1]) - own == 0 then return {cursor, 'closed'} end
end
return {cursor, 'empty'}
";
// ANCHOR_END: take_script

/// Removes a consumer from the group if it holds no entry, in one step: a
/// dropped handle's consumer. Returns 1 if it was removed. A group that is
/// gone (a server restarted without persistence) is left alone.
/// KEYS: stream. ARGV: group, consumer.
const FORGET: &str = r"
local held = redis.pcall('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if held.err or #held > 0 then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
";

/// Closes, and takes every entry not yet delivered into this consumer's
/// pending list. KEYS: stream, closed. ARGV: group, consumer.
const CLOSE_NOW: &str = r"
redis.call('SET', KEYS[2], '1')
local new = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'STREAMS', KEYS[1], '>')
if new then return new[1][2] end
return {}
";

/// Acks and deletes entries. KEYS: stream. ARGV: group, ids...
const ACK: &str = r"
for i = 2, #ARGV do
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
  redis.call('XDEL', KEYS[1], ARGV[i])
end
return #ARGV - 1
";

/// Creates the group and the stream if missing, stores the capacity if
/// none is stored, and returns the stored one ('none' for unbounded).
/// KEYS: stream, capacity. ARGV: group, capacity.
const OPEN: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
else
  local found = false
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    if g[2] == ARGV[1] then found = true end
  end
  if not found then redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0') end
end
redis.call('SET', KEYS[2], ARGV[2], 'NX')
return redis.call('GET', KEYS[2])
";

/// How many entries are not yet delivered. KEYS: stream. ARGV: group.
const LEN: &str = r"
return redis.call('XLEN', KEYS[1]) - redis.call('XPENDING', KEYS[1], ARGV[1])[1]
";

/// What went wrong on the way to or inside the broker.
///
/// ```
/// use queuelab::redis::Failure;
/// let f = Failure::Corrupt { id: "1-0".into(), reason: "not JSON".into() };
/// assert_eq!(f.to_string(), "stream entry 1-0 is corrupt: not JSON");
/// ```
#[derive(Debug)]
pub enum Failure {
    /// The connection failed, or the server refused a command.
    Redis(RedisError),
    /// The item could not be serialized to JSON (for example a map whose
    /// keys are not strings).
    Encode(serde_json::Error),
    /// The stream held an entry that is not an item of this queue. It was
    /// left pending, not deleted.
    Corrupt {
        /// The entry's id, for `XRANGE`, `XPENDING`, `XACK`, `XDEL`.
        id: String,
        /// Why it could not be read.
        reason: String,
    },
    /// The queue exists with another capacity than the one asked for.
    CapacityMismatch {
        /// The capacity stored in Redis (`None`: unbounded).
        stored: Option<usize>,
        /// The capacity this handle asked for.
        asked: Option<usize>,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Redis(e) => write!(f, "redis: {e}"),
            Failure::Encode(e) => write!(f, "the item could not be encoded as JSON: {e}"),
            Failure::Corrupt { id, reason } => write!(f, "stream entry {id} is corrupt: {reason}"),
            Failure::CapacityMismatch { stored, asked } => write!(
                f,
                "the queue exists with capacity {stored:?}, this handle asked for {asked:?}"
            ),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::Redis(e) => Some(e),
            Failure::Encode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<RedisError> for Failure {
    fn from(e: RedisError) -> Self {
        Failure::Redis(e)
    }
}

/// Why a put did not put its item; the item is handed back in every case.
/// [`put`](RedisQueue::put) returns only `Closed` and `Failed`,
/// [`try_put`](RedisQueue::try_put) also `Full`,
/// [`put_timeout`](RedisQueue::put_timeout) also `Timeout`.
///
/// ```
/// use queuelab::redis::PutError;
/// let err = PutError::Full("x");
/// assert_eq!(err.to_string(), "queue is full");
/// assert_eq!(err.into_inner(), "x");
/// ```
pub enum PutError<T> {
    /// The queue was closed (by any process), before or during the wait.
    Closed(T),
    /// The queue was at capacity.
    Full(T),
    /// The queue stayed full for the whole time limit.
    Timeout(T),
    /// The broker could not be reached or refused, or the item could not be
    /// serialized. The item may have reached the stream if the connection
    /// broke after the server ran the put.
    Failed(T, Failure),
}

impl<T> PutError<T> {
    /// The item that was not put.
    ///
    /// ```
    /// # use queuelab::redis::PutError;
    /// assert_eq!(PutError::Closed(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Closed(item)
            | PutError::Full(item)
            | PutError::Timeout(item)
            | PutError::Failed(item, _) => item,
        }
    }
}

// `Debug` by hand, as for the crate's other errors: no `T: Debug` needed.
impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Closed(_) => f.write_str("Closed(..)"),
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::Timeout(_) => f.write_str("Timeout(..)"),
            PutError::Failed(_, failure) => write!(f, "Failed(.., {failure:?})"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Closed(_) => f.write_str("queue is closed"),
            PutError::Full(_) => f.write_str("queue is full"),
            PutError::Timeout(_) => f.write_str("timed out waiting for room in the queue"),
            PutError::Failed(_, failure) => write!(f, "put failed: {failure}"),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

/// Why a get returned no item. [`get`](RedisQueue::get) returns only
/// `Failed` (closed and drained is `Ok(None)`),
/// [`try_get`](RedisQueue::try_get) also `Empty` and `Closed`,
/// [`get_timeout`](RedisQueue::get_timeout) also `Timeout` and `Closed`.
///
/// ```
/// use queuelab::redis::GetError;
/// assert_eq!(GetError::Empty.to_string(), "queue is empty");
/// ```
#[derive(Debug)]
pub enum GetError {
    /// Nothing to take right now; more may come.
    Empty,
    /// Nothing arrived within the time limit.
    Timeout,
    /// Closed and drained: nothing will come.
    Closed,
    /// The broker failed, or the entry taken was corrupt (then it stays
    /// pending: see [`Failure::Corrupt`]).
    Failed(Failure),
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("queue is empty"),
            GetError::Timeout => f.write_str("timed out waiting for an item"),
            GetError::Closed => f.write_str("queue is closed and drained"),
            GetError::Failed(failure) => write!(f, "get failed: {failure}"),
        }
    }
}

impl std::error::Error for GetError {}

/// Why [`task_done`](RedisQueue::task_done) marked nothing.
///
/// ```
/// use queuelab::redis::TaskDoneError;
/// assert!(TaskDoneError::NothingTaken.to_string().contains("no item"));
/// ```
#[derive(Debug)]
pub enum TaskDoneError {
    /// Every item this handle took with a get was marked done already.
    NothingTaken,
    /// The ack did not reach the broker. The item is still this handle's
    /// oldest unacked one: calling `task_done` again retries it.
    Failed(Failure),
}

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskDoneError::NothingTaken => f.write_str(
                "task_done() called with no item left to mark: every item this handle took \
                 with get() was marked done already",
            ),
            TaskDoneError::Failed(failure) => write!(f, "task_done failed: {failure}"),
        }
    }
}

impl std::error::Error for TaskDoneError {}

/// How to open a [`RedisQueue`]: made by [`RedisQueue::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// use queuelab::redis::RedisQueue;
/// let q = RedisQueue::<u64>::builder("redis://127.0.0.1/", "numbers")
///     .bounded(8)
///     .visibility_timeout(Duration::from_secs(5))
///     .open()?;
/// # Ok::<(), queuelab::redis::Failure>(())
/// ```
pub struct RedisQueueBuilder<T> {
    url: String,
    name: String,
    capacity: Option<usize>,
    visibility_timeout: Duration,
    _items: PhantomData<fn(T) -> T>,
}

impl<T> fmt::Debug for RedisQueueBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisQueueBuilder")
            .field("url", &self.url)
            .field("name", &self.name)
            .field("capacity", &self.capacity)
            .field("visibility_timeout", &self.visibility_timeout)
            .finish()
    }
}

impl<T> RedisQueueBuilder<T> {
    /// Holds at most `capacity` undelivered items, across every process.
    /// Every handle of one queue must ask for the same capacity: the first
    /// one stores it, and [`open`](Self::open) fails with
    /// [`Failure::CapacityMismatch`] for a handle that asks for another.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0, for the reason
    /// [`ClosableQueue::bounded`](crate::ClosableQueue::bounded) gives.
    ///
    /// ```should_panic
    /// queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").bounded(0);
    /// ```
    pub fn bounded(mut self, capacity: usize) -> Self {
        assert!(capacity > 0, "{}", crate::queue::ZERO_CAPACITY);
        self.capacity = Some(capacity);
        self
    }

    /// How long an item may stay delivered and unacked before another
    /// `get` may claim it and hand it out again (30 s unless set). Longer
    /// than the slowest item's processing, or items are processed twice.
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1/", "q")
    ///     .visibility_timeout(Duration::from_secs(60));
    /// ```
    pub fn visibility_timeout(mut self, timeout: Duration) -> Self {
        self.visibility_timeout = timeout;
        self
    }

    /// Connects, creates the stream and its consumer group if they do not
    /// exist, and returns a handle that is one consumer of the group.
    ///
    /// # Errors
    ///
    /// [`Failure::Redis`] when the server cannot be reached or refuses;
    /// [`Failure::CapacityMismatch`] when the queue exists with another
    /// capacity.
    ///
    /// ```no_run
    /// let q = queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").open()?;
    /// # Ok::<(), queuelab::redis::Failure>(())
    /// ```
    pub fn open(self) -> Result<RedisQueue<T>, Failure> {
        let client = Client::open(self.url.as_str())?;
        let mut conn = client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        let keys = Keys::new(&self.name);
        let asked = capacity_arg(self.capacity);
        let stored = create(&mut conn, &keys, &asked)?;
        if stored != asked {
            return Err(Failure::CapacityMismatch {
                stored: stored.parse().ok(),
                asked: self.capacity,
            });
        }
        let client_id: i64 = ::redis::cmd("CLIENT").arg("ID").query(&mut conn)?;
        Ok(RedisQueue {
            consumer: format!("pid{}-client{client_id}", std::process::id()),
            client,
            idle: Mutex::new(vec![conn]),
            taken: Mutex::new(VecDeque::new()),
            cursor: Mutex::new(START.to_string()),
            keys,
            name: self.name,
            capacity: self.capacity,
            visibility_timeout: self.visibility_timeout,
            _items: PhantomData,
        })
    }
}

/// How long connecting may take before it is a failure.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A capacity as the `OPEN` script stores it: the number, or 'none'.
fn capacity_arg(capacity: Option<usize>) -> String {
    capacity.map_or("none".to_string(), |c| c.to_string())
}

/// Creates the stream and its group if missing (the `OPEN` script), stores
/// `capacity` (see [`capacity_arg`]) if no capacity is stored, and returns
/// the stored one.
fn create(conn: &mut Connection, keys: &Keys, capacity: &str) -> ::redis::RedisResult<String> {
    Script::new(OPEN)
        .key(&keys.stream)
        .key(&keys.capacity)
        .arg(GROUP)
        .arg(capacity)
        .invoke(conn)
}

/// The names of a queue's keys.
#[derive(Debug)]
struct Keys {
    stream: String,
    closed: String,
    capacity: String,
}

impl Keys {
    fn new(name: &str) -> Self {
        Keys {
            stream: format!("queuelab:{{{name}}}:stream"),
            closed: format!("queuelab:{{{name}}}:closed"),
            capacity: format!("queuelab:{{{name}}}:capacity"),
        }
    }
}

/// One handle on a FIFO queue that lives in Redis: a consumer of the
/// queue's consumer group. Threads may share it by reference or `Arc`, or
/// open one each: only a handle of its own keeps a worker's `task_done`
/// from acking another worker's item (see [the module](self) for that and
/// the other ways the contract changes in a broker).
///
/// Items come out in the order they were put, except an item claimed
/// after the visibility timeout: it comes out when it is claimed. Items a
/// handle took and did not mark done when it is dropped (or its process
/// dies) stay pending, and are claimed by other handles' gets after the
/// visibility timeout. A dropped handle removes its consumer from the
/// group (`XGROUP DELCONSUMER`) when it holds no entry, and leaves it
/// otherwise, so that its entries stay pending and can be claimed.
///
/// A server restarted without persistence has forgotten the queue: its
/// stream, group, closed flag and capacity. The first command of a handle
/// that then fails with `NOGROUP` makes the stream and group again (and
/// stores the capacity again) as [`open`](RedisQueueBuilder::open) does,
/// and runs once more. (A group made again over a stream that was kept
/// hands the stream's entries out again from the first: at-least-once.)
/// The queue goes on empty and open: items put before
/// the restart and not yet done are gone with the server, a close made
/// before it is forgotten, and `join` waits only for items put after it.
/// A `task_done` for an item taken before the restart acks nothing and
/// returns `Ok`. A server with an append-only file keeps the queue.
///
/// ```no_run
/// use queuelab::redis::RedisQueue;
/// let q = RedisQueue::<u32>::builder("redis://127.0.0.1/", "numbers").open()?;
/// q.put(1)?;
/// assert_eq!(q.get()?, Some(1));
/// q.task_done()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RedisQueue<T> {
    client: Client,
    /// Connections not in use: a call takes one (or connects), and puts it
    /// back only if the call succeeded, so a broken one is dropped.
    idle: Mutex<Vec<Connection>>,
    /// The ids of the entries this handle's gets returned and no
    /// `task_done` has acked yet, oldest first.
    taken: Mutex<VecDeque<String>>,
    /// Where this handle's next look for an entry to claim starts in the
    /// pending list: see [`get_until`](Self::get_until).
    cursor: Mutex<String>,
    consumer: String,
    keys: Keys,
    name: String,
    capacity: Option<usize>,
    visibility_timeout: Duration,
    _items: PhantomData<fn(T) -> T>,
}

impl<T> fmt::Debug for RedisQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisQueue")
            .field("name", &self.name)
            .field("consumer", &self.consumer)
            .field("capacity", &self.capacity)
            .field("visibility_timeout", &self.visibility_timeout)
            .finish_non_exhaustive()
    }
}

/// What one try at taking an entry found.
enum Taken {
    Entry(String, Vec<Value>),
    Empty,
    Closed,
}

impl<T> RedisQueue<T> {
    /// Starts opening the queue `name` on the server at `url` (as
    /// `redis://host:port/db`): unbounded, visibility timeout 30 s.
    ///
    /// ```
    /// let b = queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1:6379/", "jobs");
    /// ```
    pub fn builder(url: &str, name: &str) -> RedisQueueBuilder<T> {
        RedisQueueBuilder {
            url: url.to_string(),
            name: name.to_string(),
            capacity: None,
            visibility_timeout: Duration::from_secs(30),
            _items: PhantomData,
        }
    }

    /// Runs `f` on a connection of the pool (or a new one), and puts the
    /// connection back only if `f` succeeded. The pool's lock is held only
    /// to take or return a connection.
    ///
    /// When `f` fails with `NOGROUP` (the server lost the stream or its
    /// group: it was restarted without persistence), makes them again as
    /// [`open`](RedisQueueBuilder::open) does, and runs `f` once more.
    fn with_conn<R>(
        &self,
        f: impl Fn(&mut Connection) -> ::redis::RedisResult<R>,
    ) -> Result<R, Failure> {
        let taken = self.idle.lock().pop();
        let mut conn = match taken {
            Some(conn) => conn,
            None => self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?,
        };
        let result = match f(&mut conn) {
            Err(e) if e.code() == Some("NOGROUP") => {
                create(&mut conn, &self.keys, &capacity_arg(self.capacity))?;
                f(&mut conn)?
            }
            other => other?,
        };
        self.idle.lock().push(conn);
        Ok(result)
    }

    /// Closes the queue for every process: from now on every put hands its
    /// item back; a get blocked in any process notices within 50 ms. Items
    /// inside stay gettable. `Ok(true)` only for the call that closed it.
    ///
    /// ```no_run
    /// let q = queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").open()?;
    /// assert!(q.close()?);
    /// assert!(!q.close()?);
    /// # Ok::<(), queuelab::redis::Failure>(())
    /// ```
    pub fn close(&self) -> Result<bool, Failure> {
        let set: Value = self.with_conn(|c| {
            ::redis::cmd("SET")
                .arg(&self.keys.closed)
                .arg("1")
                .arg("NX")
                .query(c)
        })?;
        Ok(set == Value::Okay)
    }

    /// Whether any process closed the queue.
    ///
    /// ```no_run
    /// let q = queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").open()?;
    /// assert!(!q.is_closed()?);
    /// # Ok::<(), queuelab::redis::Failure>(())
    /// ```
    pub fn is_closed(&self) -> Result<bool, Failure> {
        self.with_conn(|c| ::redis::cmd("EXISTS").arg(&self.keys.closed).query(c))
    }

    /// How many items are waiting to be delivered: a snapshot, as for
    /// the in-process queue, and a round trip to the server.
    ///
    /// ```no_run
    /// let q = queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").open()?;
    /// q.put(1)?;
    /// assert_eq!(q.len()?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> Result<usize, Failure> {
        self.with_conn(|c| Script::new(LEN).key(&self.keys.stream).arg(GROUP).invoke(c))
    }

    /// `len() == 0`, with the same caveat.
    ///
    /// ```no_run
    /// let q = queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").open()?;
    /// assert!(q.is_empty()?);
    /// # Ok::<(), queuelab::redis::Failure>(())
    /// ```
    pub fn is_empty(&self) -> Result<bool, Failure> {
        Ok(self.len()? == 0)
    }

    /// The most undelivered items the queue holds; `None` when unbounded.
    /// Stored in Redis by the first handle that opened the queue.
    ///
    /// ```no_run
    /// let q = queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1/", "q")
    ///     .bounded(3)
    ///     .open()?;
    /// assert_eq!(q.capacity(), Some(3));
    /// # Ok::<(), queuelab::redis::Failure>(())
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    /// How many items were put and not yet acked, by any process: those
    /// undelivered plus those delivered and not acked (`XLEN`, since acked
    /// entries are deleted). A snapshot.
    ///
    /// ```no_run
    /// let q = queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").open()?;
    /// q.put(1)?;
    /// q.get()?;
    /// assert_eq!(q.unfinished_tasks()?, 1); // taken, not yet done
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unfinished_tasks(&self) -> Result<usize, Failure> {
        self.with_conn(|c| ::redis::cmd("XLEN").arg(&self.keys.stream).query(c))
    }

    /// Marks the oldest item this handle took with a get, and has not
    /// marked yet, as done: `XACK` and `XDEL`. When every item of the queue
    /// is done, every `join`, in any process, returns.
    ///
    /// If the entry was claimed meanwhile by another consumer (this handle
    /// was slower than the visibility timeout), it is acked all the same:
    /// the item was processed, here.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError::NothingTaken`], changing nothing, when this handle
    /// has no unacked item; [`TaskDoneError::Failed`] when the broker
    /// failed, and then the id stays first in line for the next call.
    ///
    /// ```no_run
    /// use queuelab::redis::{RedisQueue, TaskDoneError};
    /// let q = RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").open()?;
    /// assert!(matches!(q.task_done(), Err(TaskDoneError::NothingTaken)));
    /// # Ok::<(), queuelab::redis::Failure>(())
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let Some(id) = self.taken.lock().pop_front() else {
            return Err(TaskDoneError::NothingTaken);
        };
        let acked = self.with_conn(|c| {
            Script::new(ACK)
                .key(&self.keys.stream)
                .arg(GROUP)
                .arg(&id)
                .invoke::<i64>(c)
        });
        match acked {
            Ok(_) => Ok(()),
            Err(failure) => {
                self.taken.lock().push_front(id);
                Err(TaskDoneError::Failed(failure))
            }
        }
    }

    /// Waits until every item ever put, by any process, has been acked (or
    /// handed back by [`close_now`](Self::close_now)): until the stream is
    /// empty. It looks every 10 ms. Closing does not release it.
    ///
    /// ```no_run
    /// let q = queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").open()?;
    /// q.join()?; // nothing was put: returns at once
    /// # Ok::<(), queuelab::redis::Failure>(())
    /// ```
    pub fn join(&self) -> Result<(), Failure> {
        self.join_until(None).map(drop)
    }

    /// Like [`join`](Self::join), but gives up when the items are not all
    /// done within `timeout`: `Ok(true)` when they are, `Ok(false)` when
    /// time ran out. Zero looks once. The in-process queue has no such
    /// method; a broker needs it, because an item can stay unfinished for
    /// ever there (a corrupt entry, a worker that died after the last
    /// live one stopped getting).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let q = queuelab::redis::RedisQueue::builder("redis://127.0.0.1/", "q").open()?;
    /// q.put(1)?;
    /// assert!(!q.join_timeout(Duration::ZERO)?); // item 1 is not done
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Result<bool, Failure> {
        self.join_until(Instant::now().checked_add(timeout))
    }

    /// The joins: `deadline` `None` waits for ever (also a time limit too
    /// large for an `Instant`).
    fn join_until(&self, deadline: Option<Instant>) -> Result<bool, Failure> {
        while self.unfinished_tasks()? > 0 {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
            thread::sleep(POLL);
        }
        Ok(true)
    }
}

impl<T: Serialize + DeserializeOwned> RedisQueue<T> {
    /// Adds `item` at the back, waiting while the queue holds `capacity`
    /// undelivered items. Once the queue is closed, before or during the
    /// wait, the item comes back in [`PutError::Closed`]; a broker failure
    /// hands it back in [`PutError::Failed`].
    ///
    /// ```no_run
    /// use queuelab::redis::{PutError, RedisQueue};
    /// let q = RedisQueue::builder("redis://127.0.0.1/", "q").open()?;
    /// q.put(1)?;
    /// q.close()?;
    /// assert!(matches!(q.put(2), Err(PutError::Closed(2))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_until(item, None)
    }

    /// Adds `item` if there is room right now and the queue is open;
    /// otherwise hands it back in [`PutError::Full`] or
    /// [`PutError::Closed`] (or [`PutError::Failed`]).
    ///
    /// ```no_run
    /// use queuelab::redis::{PutError, RedisQueue};
    /// let q = RedisQueue::builder("redis://127.0.0.1/", "q").bounded(1).open()?;
    /// q.try_put('a')?;
    /// assert!(matches!(q.try_put('b'), Err(PutError::Full('b'))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_until(item, Some(Instant::now()))
            .map_err(|e| match e {
                PutError::Timeout(item) => PutError::Full(item),
                other => other,
            })
    }

    /// Like [`put`](Self::put), but gives up with [`PutError::Timeout`]
    /// when no room was made within `timeout`. Zero looks once.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use queuelab::redis::{PutError, RedisQueue};
    /// let q = RedisQueue::builder("redis://127.0.0.1/", "q").bounded(1).open()?;
    /// q.put(1)?;
    /// let late = q.put_timeout(2, Duration::from_millis(1));
    /// assert!(matches!(late, Err(PutError::Timeout(2))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.put_until(item, Instant::now().checked_add(timeout))
    }

    /// The puts: `deadline` `None` waits for ever (also a time limit too
    /// large for an `Instant`).
    fn put_until(&self, item: T, deadline: Option<Instant>) -> Result<(), PutError<T>> {
        let json = match serde_json::to_string(&item) {
            Ok(json) => json,
            Err(e) => return Err(PutError::Failed(item, Failure::Encode(e))),
        };
        let capacity = self.capacity.unwrap_or(0);
        loop {
            let outcome = self.with_conn(|c| {
                Script::new(PUT)
                    .key(&self.keys.stream)
                    .key(&self.keys.closed)
                    .arg(GROUP)
                    .arg(capacity)
                    .arg(&json)
                    .invoke::<String>(c)
            });
            match outcome {
                Ok(reply) if reply == "ok" => return Ok(()),
                Ok(reply) if reply == "closed" => return Err(PutError::Closed(item)),
                Ok(_full) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(PutError::Timeout(item));
                    }
                    thread::sleep(POLL);
                }
                Err(failure) => return Err(PutError::Failed(item, failure)),
            }
        }
    }

    /// Takes the item at the front, waiting until there is one: first an
    /// item whose consumer has held it unacked longer than the visibility
    /// timeout, then a new one. `Ok(None)` only when the queue is closed and
    /// drained (see [the module](self) for what "drained" means here).
    ///
    /// # Errors
    ///
    /// [`Failure::Redis`] when the broker fails; [`Failure::Corrupt`] when
    /// the entry taken is not an item (it stays pending; the next get
    /// takes the next entry). If the connection broke after the server
    /// delivered an entry, the entry stays pending for this handle and is
    /// handed out again after the visibility timeout.
    ///
    /// ```no_run
    /// let q = queuelab::redis::RedisQueue::builder("redis://127.0.0.1/", "q").open()?;
    /// q.put('a')?;
    /// q.close()?;
    /// assert_eq!(q.get()?, Some('a'));
    /// assert_eq!(q.get()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self) -> Result<Option<T>, Failure> {
        match self.get_until(None) {
            Ok(item) => Ok(Some(item)),
            Err(GetError::Closed) => Ok(None),
            Err(GetError::Failed(failure)) => Err(failure),
            Err(GetError::Empty | GetError::Timeout) => unreachable!("get waits for ever"),
        }
    }

    /// Takes the item at the front without waiting: [`GetError::Empty`] if
    /// there is none yet, [`GetError::Closed`] if none will come.
    ///
    /// ```no_run
    /// use queuelab::redis::{GetError, RedisQueue};
    /// let q = RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").open()?;
    /// assert!(matches!(q.try_get(), Err(GetError::Empty)));
    /// # Ok::<(), queuelab::redis::Failure>(())
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.get_until(Some(Instant::now())).map_err(|e| match e {
            GetError::Timeout => GetError::Empty,
            other => other,
        })
    }

    /// Like [`get`](Self::get), but gives up with [`GetError::Timeout`]
    /// when nothing arrived within `timeout`; [`GetError::Closed`] when
    /// closed and drained. Zero looks once.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use queuelab::redis::{GetError, RedisQueue};
    /// let q = RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").open()?;
    /// let none = q.get_timeout(Duration::from_millis(1));
    /// assert!(matches!(none, Err(GetError::Timeout)));
    /// # Ok::<(), queuelab::redis::Failure>(())
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.get_until(Instant::now().checked_add(timeout))
    }

    /// The gets: `deadline` `None` waits for ever (also a time limit too
    /// large for an `Instant`). Each round tries once without waiting (a
    /// script), then blocks in `XREADGROUP` for at most one slice, so that
    /// a close or an item to claim is noticed.
    ///
    /// Each try looks at a few entries of the pending list for one to
    /// claim (`XAUTOCLAIM ... COUNT 1` looks at up to ten), starting at
    /// this handle's cursor, and keeps the cursor it returns for the next
    /// try, of this get or the next one; at the end of the list the cursor
    /// is `0-0` again. So a get costs a few entries of the list, not a walk
    /// over all of it, and what the cursor guarantees is this: an entry
    /// pending longer than the visibility timeout is claimed within one
    /// pass of the cursor over the list. A get that finds nothing does not
    /// block until the pass is over, so a waiting get finishes its pass in
    /// back-to-back tries. Threads sharing the handle share the cursor; an
    /// entry one of them skips is looked at in the next pass.
    fn get_until(&self, deadline: Option<Instant>) -> Result<T, GetError> {
        let min_idle = self.visibility_timeout.as_millis().min(i64::MAX as u128) as u64;
        loop {
            let cursor = self.cursor.lock().clone();
            let taken = self.with_conn(|c| {
                let reply: Value = Script::new(TAKE)
                    .key(&self.keys.stream)
                    .key(&self.keys.closed)
                    .arg(GROUP)
                    .arg(&self.consumer)
                    .arg(min_idle)
                    .arg(&cursor)
                    .invoke(c)?;
                Ok(parse_taken(reply))
            });
            let (next, taken) = taken.map_err(GetError::Failed)?;
            let passing = next != START;
            *self.cursor.lock() = next;
            match taken {
                Taken::Entry(id, fields) => return self.decode(id, fields),
                Taken::Closed => return Err(GetError::Closed),
                Taken::Empty => {}
            }
            let wait = match deadline {
                None => SLICE,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(GetError::Timeout);
                    }
                    left.min(SLICE)
                }
            };
            if passing {
                continue; // the rest of the pending list first
            }
            let read = self.with_conn(|c| {
                let reply: Value = ::redis::cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg(GROUP)
                    .arg(&self.consumer)
                    .arg("COUNT")
                    .arg(1)
                    .arg("BLOCK")
                    .arg(wait.as_millis().clamp(1, SLICE.as_millis()) as u64)
                    .arg("STREAMS")
                    .arg(&self.keys.stream)
                    .arg(">")
                    .query(c)?;
                Ok(parse_read(reply))
            });
            if let Taken::Entry(id, fields) = read.map_err(GetError::Failed)? {
                return self.decode(id, fields);
            }
        }
    }

    /// Reads the item out of an entry this handle now holds, and remembers
    /// its id for `task_done`; a corrupt entry is reported and not
    /// remembered, so it stays pending.
    fn decode(&self, id: String, fields: Vec<Value>) -> Result<T, GetError> {
        match decode_fields(&fields) {
            Ok(item) => {
                self.taken.lock().push_back(id);
                Ok(item)
            }
            Err(reason) => Err(GetError::Failed(Failure::Corrupt { id, reason })),
        }
    }

    /// Closes the queue (as [`close`](Self::close)) and hands back every
    /// item not yet delivered to any consumer, oldest first; they are
    /// deleted from the stream, so they no longer count as unfinished
    /// tasks. Items that consumers hold are theirs to finish.
    ///
    /// # Errors
    ///
    /// [`Failure::Redis`] when the broker fails. [`Failure::Corrupt`] when
    /// one of the entries is not an item: then none of them is deleted;
    /// they stay pending for this handle and are handed out again by gets
    /// after the visibility timeout, so nothing is lost.
    ///
    /// ```no_run
    /// let q = queuelab::redis::RedisQueue::builder("redis://127.0.0.1/", "q").open()?;
    /// q.put(1)?;
    /// q.put(2)?;
    /// assert_eq!(q.close_now()?, vec![1, 2]);
    /// assert_eq!(q.get()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close_now(&self) -> Result<Vec<T>, Failure> {
        let entries: Vec<Value> = self.with_conn(|c| {
            Script::new(CLOSE_NOW)
                .key(&self.keys.stream)
                .key(&self.keys.closed)
                .arg(GROUP)
                .arg(&self.consumer)
                .invoke(c)
        })?;
        let mut ids = Vec::with_capacity(entries.len());
        let mut items = Vec::with_capacity(entries.len());
        for entry in entries {
            let Taken::Entry(id, fields) = parse_entry(entry) else {
                continue;
            };
            match decode_fields(&fields) {
                Ok(item) => items.push(item),
                Err(reason) => return Err(Failure::Corrupt { id, reason }),
            }
            ids.push(id);
        }
        if !ids.is_empty() {
            self.with_conn(|c| {
                Script::new(ACK)
                    .key(&self.keys.stream)
                    .arg(GROUP)
                    .arg(&ids)
                    .invoke::<i64>(c)
            })?;
        }
        Ok(items)
    }

    /// An iterator that takes items as [`get`](Self::get) does until the
    /// queue is closed and drained, and marks each one done when the next
    /// is asked for, or when the iterator is dropped. It yields `Err` for a
    /// failure (a corrupt entry, a lost connection) and goes on after it
    /// if asked; a loop that cannot handle a failure should stop at the
    /// first (`let item = item?;`). If the mark fails, the item is not
    /// acked and is handed out again after the visibility timeout.
    ///
    /// ```no_run
    /// let q = queuelab::redis::RedisQueue::builder("redis://127.0.0.1/", "q").open()?;
    /// q.put(5)?;
    /// q.close()?;
    /// let mut sum = 0;
    /// for n in q.iter() {
    ///     sum += n?;
    /// }
    /// assert_eq!(sum, 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            queue: self,
            holding: false,
        }
    }
}

/// Removes this handle's consumer from the group when it holds no entry,
/// so that consumers of handles long gone do not pile up in the group
/// (`XINFO CONSUMERS`). A consumer that holds entries is kept: removing it
/// would drop its entries from the pending list, and their items would be
/// lost; they are claimed by other handles after the visibility timeout.
/// The check and the removal are one script; and no other handle ever
/// gives entries to this consumer, so what it holds can only go down. A
/// failure (the server is gone) leaves the consumer behind, nothing else.
impl<T> Drop for RedisQueue<T> {
    fn drop(&mut self) {
        let _ = self.with_conn(|c| {
            Script::new(FORGET)
                .key(&self.keys.stream)
                .arg(GROUP)
                .arg(&self.consumer)
                .invoke::<i64>(c)
        });
    }
}

/// Reads a `T` out of an entry's fields, or says why not.
fn decode_fields<T: DeserializeOwned>(fields: &[Value]) -> Result<T, String> {
    let mut pairs = fields.chunks(2);
    let value = pairs
        .find(|pair| matches!(&pair[0], Value::BulkString(name) if name == FIELD.as_bytes()))
        .and_then(|pair| pair.get(1));
    match value {
        Some(Value::BulkString(json)) => {
            serde_json::from_slice(json).map_err(|e| format!("field `{FIELD}`: {e}"))
        }
        _ => Err(format!("no field `{FIELD}`")),
    }
}

/// Reads the reply of the `TAKE` script: the next cursor, and what it
/// found.
fn parse_taken(reply: Value) -> (String, Taken) {
    let Value::Array(parts) = reply else {
        return (START.to_string(), Taken::Empty);
    };
    let mut parts = parts.into_iter();
    let cursor = match parts.next() {
        Some(Value::BulkString(id)) => String::from_utf8_lossy(&id).into_owned(),
        _ => START.to_string(),
    };
    let taken = match parts.next() {
        Some(Value::BulkString(s)) if s == b"closed" => Taken::Closed,
        Some(entry @ Value::Array(_)) => parse_entry(entry),
        _ => Taken::Empty,
    };
    (cursor, taken)
}

/// Reads the reply of `XREADGROUP ... COUNT 1`: `nil` or
/// `[[stream, [entry]]]`.
fn parse_read(reply: Value) -> Taken {
    let Value::Array(streams) = reply else {
        return Taken::Empty;
    };
    let Some(Value::Array(stream)) = streams.into_iter().next() else {
        return Taken::Empty;
    };
    let Some(Value::Array(entries)) = stream.into_iter().nth(1) else {
        return Taken::Empty;
    };
    entries.into_iter().next().map_or(Taken::Empty, parse_entry)
}

/// Reads one entry, `[id, [field, value, ...]]`.
fn parse_entry(entry: Value) -> Taken {
    let Value::Array(parts) = entry else {
        return Taken::Empty;
    };
    let mut parts = parts.into_iter();
    match (parts.next(), parts.next()) {
        (Some(Value::BulkString(id)), Some(Value::Array(fields))) => {
            Taken::Entry(String::from_utf8_lossy(&id).into_owned(), fields)
        }
        _ => Taken::Empty,
    }
}

/// The iterator of [`RedisQueue::iter`] and `for item in &queue`.
///
/// ```no_run
/// let q = queuelab::redis::RedisQueue::<u8>::builder("redis://127.0.0.1/", "q").open()?;
/// q.close()?;
/// for item in &q {
///     item?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Iter<'a, T> {
    queue: &'a RedisQueue<T>,
    /// Whether the last item handed out still waits for its mark.
    holding: bool,
}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("queue", self.queue)
            .field("holding", &self.holding)
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned> Iterator for Iter<'_, T> {
    type Item = Result<T, Failure>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.holding {
            match self.queue.task_done() {
                Ok(()) | Err(TaskDoneError::NothingTaken) => self.holding = false,
                Err(TaskDoneError::Failed(failure)) => return Some(Err(failure)),
            }
        }
        match self.queue.get() {
            Ok(Some(item)) => {
                self.holding = true;
                Some(Ok(item))
            }
            Ok(None) => None,
            Err(failure) => Some(Err(failure)),
        }
    }
}

impl<T> Drop for Iter<'_, T> {
    fn drop(&mut self) {
        if self.holding {
            // A failed ack leaves the item pending: it is handed out again
            // after the visibility timeout (at-least-once).
            let _ = self.queue.task_done();
        }
    }
}

impl<'a, T: Serialize + DeserializeOwned> IntoIterator for &'a RedisQueue<T> {
    type Item = Result<T, Failure>;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// The [`Queue`] trait, for code written once for every queue. The trait
/// has no room for a broker's failures, so:
/// - `push` hands the item back on a closed queue *and* on a failure;
/// - `pop`, `try_pop` and `len` panic when the broker fails or an entry
///   is corrupt, with the failure in the message.
///
/// ```no_run
/// use queuelab::Queue;
/// use queuelab::redis::RedisQueue;
/// let q = RedisQueue::builder("redis://127.0.0.1/", "q").open()?;
/// q.push(7).unwrap();
/// assert_eq!(q.pop(), Some(7));
/// # Ok::<(), queuelab::redis::Failure>(())
/// ```
impl<T: Serialize + DeserializeOwned> Queue<T> for RedisQueue<T> {
    fn push(&self, item: T) -> Result<(), T> {
        self.put(item).map_err(PutError::into_inner)
    }

    fn pop(&self) -> Option<T> {
        self.get()
            .unwrap_or_else(|failure| panic!("RedisQueue::pop: {failure}"))
    }

    fn try_pop(&self) -> Option<T> {
        match self.try_get() {
            Ok(item) => Some(item),
            Err(GetError::Failed(failure)) => panic!("RedisQueue::try_pop: {failure}"),
            Err(_) => None,
        }
    }

    fn len(&self) -> usize {
        RedisQueue::len(self).unwrap_or_else(|failure| panic!("RedisQueue::len: {failure}"))
    }
}
