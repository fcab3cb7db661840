//! Errors shared by every queue.
//!
//! Every error that stands for an item the queue could not accept carries that
//! item, so nothing is ever lost: take it back with `into_inner()`. `Debug`
//! never prints the item, so `unwrap()`, `expect()` and `?` into
//! `Box<dyn Error>` work whatever `T` is.

use std::fmt;

/// A write to a closed [`ClosableQueue`](crate::ClosableQueue); the item is
/// handed back.
///
/// ```
/// use queuelab::{ClosableQueue, Closed};
///
/// let q = ClosableQueue::unbounded();
/// q.close();
/// let err: Closed<&str> = q.put("late").unwrap_err();
/// assert_eq!(err.to_string(), "queue is closed");
/// assert_eq!(err.into_inner(), "late");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Closed<T>(pub T);

impl<T> Closed<T> {
    /// The item that could not be put.
    ///
    /// ```
    /// # use queuelab::Closed;
    /// assert_eq!(Closed(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Why [`ClosableQueue::try_put`](crate::ClosableQueue::try_put) could not
/// accept an item; the item is handed back either way.
///
/// ```
/// use queuelab::{ClosableQueue, TryPutError};
///
/// let q = ClosableQueue::bounded(1);
/// q.try_put(1).unwrap();
/// assert_eq!(q.try_put(2), Err(TryPutError::Full(2)));
/// q.close();
/// assert_eq!(q.try_put(3), Err(TryPutError::Closed(3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue was at capacity.
    Full(T),
    /// The queue was closed.
    Closed(T),
}

impl<T> TryPutError<T> {
    /// The item that could not be put.
    ///
    /// ```
    /// # use queuelab::TryPutError;
    /// assert_eq!(TryPutError::Full("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::Closed(item) => item,
        }
    }

    /// `true` for [`TryPutError::Full`].
    ///
    /// ```
    /// # use queuelab::TryPutError;
    /// assert!(TryPutError::Full(()).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full(_))
    }

    /// `true` for [`TryPutError::Closed`].
    ///
    /// ```
    /// # use queuelab::TryPutError;
    /// assert!(TryPutError::Closed(()).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TryPutError::Closed(_))
    }
}

/// Why a put with a time limit gave up; the item is handed back either way.
///
/// ```
/// use std::time::Duration;
/// use queuelab::{ClosableQueue, PutTimeoutError};
///
/// let q = ClosableQueue::bounded(1);
/// q.put('a').unwrap();
/// let err = q.put_timeout('b', Duration::from_millis(1)).unwrap_err();
/// assert_eq!(err, PutTimeoutError::Timeout('b'));
/// assert_eq!(err.into_inner(), 'b');
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PutTimeoutError<T> {
    /// The queue stayed full for the whole time limit.
    Timeout(T),
    /// The queue was closed, before or during the wait.
    Closed(T),
}

impl<T> PutTimeoutError<T> {
    /// The item that could not be put.
    ///
    /// ```
    /// # use queuelab::PutTimeoutError;
    /// assert_eq!(PutTimeoutError::Closed(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutTimeoutError::Timeout(item) | PutTimeoutError::Closed(item) => item,
        }
    }
}

/// Why [`ClosableQueue::try_get`](crate::ClosableQueue::try_get) returned no
/// item.
///
/// ```
/// use queuelab::{ClosableQueue, TryGetError};
///
/// let q = ClosableQueue::<u8>::unbounded();
/// assert_eq!(q.try_get(), Err(TryGetError::Empty));
/// q.close();
/// assert_eq!(q.try_get(), Err(TryGetError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryGetError {
    /// Nothing inside right now; more may come.
    Empty,
    /// Closed and drained: nothing will ever come.
    Closed,
}

/// Why a get with a time limit returned no item.
///
/// ```
/// use std::time::Duration;
/// use queuelab::{ClosableQueue, GetTimeoutError};
///
/// let q = ClosableQueue::<u8>::unbounded();
/// assert_eq!(q.get_timeout(Duration::from_millis(1)), Err(GetTimeoutError::Timeout));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GetTimeoutError {
    /// Nothing arrived within the time limit.
    Timeout,
    /// Closed and drained: nothing will ever come.
    Closed,
}

/// [`task_done`](crate::ClosableQueue::task_done) found no item to mark:
/// every item taken with `get`, `try_get` or `get_timeout` was marked done
/// already. Items an iterator hands out are marked by the iterator, so
/// calling `task_done` inside `for item in &queue` is this error. Nothing
/// was changed.
///
/// ```
/// use queuelab::{ClosableQueue, TaskDoneError};
///
/// let q = ClosableQueue::unbounded();
/// q.put(1).unwrap();
/// assert_eq!(q.task_done(), Err(TaskDoneError)); // not taken yet
/// assert_eq!(q.unfinished_tasks(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TaskDoneError;

// `Debug` by hand: the derived one would demand `T: Debug`, and an error you
// cannot `unwrap()` is a poor error. The item is shown as `..`.
impl<T> fmt::Debug for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Closed(..)")
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Debug for PutTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            PutTimeoutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for Closed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is closed")
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("queue is full"),
            TryPutError::Closed(_) => f.write_str("queue is closed"),
        }
    }
}

impl<T> fmt::Display for PutTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutTimeoutError::Timeout(_) => f.write_str("timed out waiting for room in the queue"),
            PutTimeoutError::Closed(_) => f.write_str("queue is closed"),
        }
    }
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("queue is empty"),
            TryGetError::Closed => f.write_str("queue is closed and drained"),
        }
    }
}

impl fmt::Display for GetTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetTimeoutError::Timeout => f.write_str("timed out waiting for an item"),
            GetTimeoutError::Closed => f.write_str("queue is closed and drained"),
        }
    }
}

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "task_done() called with no item left to mark: every item taken with get() \
             was marked done already (an iterator marks its own items)",
        )
    }
}

impl<T> std::error::Error for Closed<T> {}
impl<T> std::error::Error for TryPutError<T> {}
impl<T> std::error::Error for PutTimeoutError<T> {}
impl std::error::Error for TryGetError {}
impl std::error::Error for GetTimeoutError {}
impl std::error::Error for TaskDoneError {}
