//! The one place that chooses the synchronisation primitives.
//!
//! Every queue is written against the small, parking_lot-shaped API below:
//! `Mutex::lock()` returns the guard directly and `Condvar::wait(&mut guard)`
//! re-locks in place. In normal builds these are parking_lot's own types. When
//! the crate is compiled with `RUSTFLAGS="--cfg loom"`, the same names wrap
//! loom's model-checked types, so the loom tests check the very code that
//! importers run.
//!
//! The lock-free steps keep their items in [`UnsafeCell`]s with loom's
//! closure-shaped API (`with`, `with_mut`): under loom, every access to a
//! slot is checked for a data race.
//!
//! The unbounded lock-free step allocates and frees its blocks with
//! [`allocate`] and [`free`]: under loom each block carries a
//! `loom::alloc::Track`, so a model that leaks a block fails.
//!
//! Nothing outside this file names parking_lot or loom.

#[cfg(not(loom))]
mod imp {
    pub(crate) use crossbeam_utils::Backoff;
    pub(crate) use parking_lot::{Condvar, Mutex, MutexGuard};
    pub(crate) use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
    pub(crate) use std::thread::yield_now;

    /// Puts `value` on the heap and hands back the only pointer to it. Free
    /// it with [`free`].
    pub(crate) fn allocate<T>(value: T) -> std::ptr::NonNull<T> {
        std::ptr::NonNull::from(Box::leak(Box::new(value)))
    }

    /// Drops the value that `ptr` points to and frees its memory.
    ///
    /// # Safety
    ///
    /// `ptr` came from [`allocate`], has not been freed, and nobody uses
    /// it (or the value) after this call.
    pub(crate) unsafe fn free<T>(ptr: std::ptr::NonNull<T>) {
        // SAFETY: `allocate` made `ptr` with `Box`, and the caller promises
        // that nobody else holds it.
        drop(unsafe { Box::from_raw(ptr.as_ptr()) });
    }

    /// The time now, for code that adapts to how long things take.
    pub(crate) fn clock() -> Option<std::time::Instant> {
        Some(std::time::Instant::now())
    }

    /// The CPU time used so far by all the threads of this process, where
    /// the system says (`None` elsewhere, and under Miri, which does not
    /// model this clock).
    #[cfg(all(unix, not(miri)))]
    pub(crate) fn cpu_clock() -> Option<std::time::Duration> {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid, writable `timespec` for the call to fill
        // in, and CLOCK_PROCESS_CPUTIME_ID is a clock every unix has.
        let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
        (status == 0).then(|| {
            std::time::Duration::new(
                u64::try_from(now.tv_sec).unwrap_or(0),
                u32::try_from(now.tv_nsec).unwrap_or(0),
            )
        })
    }

    #[cfg(not(all(unix, not(miri))))]
    pub(crate) fn cpu_clock() -> Option<std::time::Duration> {
        None
    }

    /// `std::cell::UnsafeCell` with loom's API: the pointer is lent to a
    /// closure, so that loom can tell a read from a write and check both.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// Lends a pointer for reading.
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Lends a pointer for writing.
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
    pub(crate) use loom::thread::yield_now;
    use std::ops::{Deref, DerefMut};
    use std::ptr::NonNull;

    /// A value on the heap, with loom's leak tracking beside it. (A
    /// `Track` rather than `loom::alloc::alloc`: loom drops its table of
    /// raw allocations after a failed model, when it can no longer be
    /// called, and that aborts the whole test binary.)
    #[repr(C)] // `value` first, so a pointer to it is a pointer to the whole
    struct Tracked<T> {
        value: T,
        _track: loom::alloc::Track<()>,
    }

    /// Puts `value` on the heap with a `loom::alloc::Track`: a model that
    /// ends with it not freed fails as a leak.
    pub(crate) fn allocate<T>(value: T) -> NonNull<T> {
        let tracked = Box::new(Tracked {
            value,
            _track: loom::alloc::Track::new(()),
        });
        NonNull::from(Box::leak(tracked)).cast::<T>()
    }

    /// Drops the value that `ptr` points to and frees its memory.
    ///
    /// # Safety
    ///
    /// `ptr` came from [`allocate`], has not been freed, and nobody uses
    /// it (or the value) after this call.
    pub(crate) unsafe fn free<T>(ptr: NonNull<T>) {
        // SAFETY: `allocate` made `ptr` from a `Box<Tracked<T>>` (its
        // `value` is at offset 0), and the caller promises that nobody else
        // holds it.
        drop(unsafe { Box::from_raw(ptr.cast::<Tracked<T>>().as_ptr()) });
    }

    /// loom has no clock, and a model must run the same way every time it
    /// is replayed: code that adapts to how long things take does not adapt.
    pub(crate) fn clock() -> Option<std::time::Instant> {
        None
    }

    pub(crate) fn cpu_clock() -> Option<std::time::Duration> {
        None
    }
    use std::time::Duration;

    /// loom's mutex, with a parking_lot-shaped `lock`.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    /// The guard of [`Mutex`]. The `Option` is only `None` inside
    /// [`Condvar::wait`], while loom holds the real guard; the mutex itself is
    /// kept so that a timed wait can let go of the lock and take it again.
    pub(crate) struct MutexGuard<'a, T> {
        mutex: &'a loom::sync::Mutex<T>,
        inner: Option<loom::sync::MutexGuard<'a, T>>,
    }

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner().unwrap()
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard {
                mutex: &self.0,
                inner: Some(self.0.lock().unwrap()),
            }
        }
    }

    impl<T> MutexGuard<'_, T> {
        /// parking_lot's `MutexGuard::unlocked`: lets go of the lock while
        /// `f` runs, then takes it again.
        pub(crate) fn unlocked<U>(guard: &mut Self, f: impl FnOnce() -> U) -> U {
            drop(guard.inner.take());
            let out = f();
            guard.inner = Some(guard.mutex.lock().unwrap());
            out
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.inner.as_ref().expect("guard is held")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.inner.as_mut().expect("guard is held")
        }
    }

    /// The result of a timed wait, shaped like parking_lot's.
    pub(crate) struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        pub(crate) fn timed_out(&self) -> bool {
            self.0
        }
    }

    // ANCHOR: loom_condvar
    /// loom's condition variable, with parking_lot-shaped `wait`.
    #[derive(Debug)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.inner.take().expect("guard is held");
            guard.inner = Some(self.0.wait(inner).unwrap());
        }

        /// loom has no clock, so a timed wait is modelled as "the time ran
        /// out before anyone woke us": it releases the lock, lets every other
        /// thread run, takes the lock again and reports a time-out. The
        /// callers re-check their condition before they trust the time-out,
        /// so an item that arrived meanwhile is still taken.
        pub(crate) fn wait_for<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            _timeout: Duration,
        ) -> WaitTimeoutResult {
            drop(guard.inner.take());
            loom::thread::yield_now();
            guard.inner = Some(guard.mutex.lock().unwrap());
            WaitTimeoutResult(true)
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }
    // ANCHOR_END: loom_condvar

    /// crossbeam-utils' `Backoff`, routed through loom: every step yields to
    /// loom's scheduler, so a spinning thread lets the others make progress
    /// instead of making loom give up with "Model exceeded maximum number of
    /// branches". `is_completed` turns true after one step (the real one
    /// waits for about ten), which keeps the models small and still checks
    /// both ways out of a spin: found it, or gave up and went to sleep.
    #[derive(Debug, Default)]
    pub(crate) struct Backoff {
        steps: std::cell::Cell<u32>,
    }

    impl Backoff {
        pub(crate) fn new() -> Self {
            Backoff::default()
        }
        pub(crate) fn snooze(&self) {
            self.steps.set(self.steps.get() + 1);
            loom::thread::yield_now();
        }
        /// A failed compare-and-swap retries at once: the value changed,
        /// so the thread that changed it has made progress. Like the real
        /// `spin`, it does not yield.
        pub(crate) fn spin(&self) {
            self.steps.set(self.steps.get() + 1);
        }
        pub(crate) fn is_completed(&self) -> bool {
            self.steps.get() >= 1
        }
    }
}

pub(crate) use imp::*;
