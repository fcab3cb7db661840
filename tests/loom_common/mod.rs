//! Helpers shared by the loom models in `tests/loom_*.rs`.
//!
//! [`check`] runs a model that must pass; [`expect_failure`] runs one that
//! loom must reject and returns loom's panic message, so that each test can
//! check *which* failure loom found. Both print one line (shown with
//! `--nocapture`, which `scripts/loom.sh` passes): how many interleavings
//! loom explored, or in which one it found the failure, and how long that
//! took. (loom prints its own count only with `LOOM_LOG=info`, among a line
//! for every thread switch.)
//!
//! The models share their queues with `std::sync::Arc`, not
//! `loom::sync::Arc`. loom 0.7's `Arc` calls into the model when it is
//! dropped; when loom has just panicked (a deadlock, or a failure in a
//! thread it had not started yet) that second panic during unwinding aborts
//! the whole test binary, hiding which model failed. The queues' locks and
//! condition variables, where the bugs would be, are still loom's.
//!
//! Loom reads its limits from the environment (`LOOM_MAX_PREEMPTIONS`,
//! `LOOM_MAX_BRANCHES`, `LOOM_LOG`, ...), so the same models run bounded in
//! `.ci/run` and unbounded from `scripts/loom.sh`.

// Each test file uses only some of these helpers.
#![allow(dead_code)]

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What `loom::model` panics with when every thread is blocked.
pub const DEADLOCK: &str = "deadlock; threads = ";

/// What `loom::model` panics with when one interleaving takes more than
/// `LOOM_MAX_BRANCHES` (default 1,000) steps: a thread that spins without
/// yielding never lets the others run.
pub const TOO_MANY_BRANCHES: &str = "Model exceeded maximum number of branches";

/// The message of `Option::unwrap` on `None`.
pub const UNWRAP_NONE: &str = "called `Option::unwrap()` on a `None` value";

/// Runs `model` under loom (every interleaving within the preemption bound)
/// and prints how many interleavings loom explored.
pub fn check<F>(name: &str, model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let (iterations, elapsed, result) = run(model);
    if let Err(payload) = result {
        println!(
            "model {name}: FAILED in interleaving {iterations}, after {:.2} s ({})",
            elapsed.as_secs_f64(),
            bound()
        );
        panic::resume_unwind(payload);
    }
    println!(
        "model {name}: passed; loom explored {iterations} interleavings in {:.2} s ({})",
        elapsed.as_secs_f64(),
        bound()
    );
}

// ANCHOR: expect_failure
/// Runs `model` under loom, which must find a failure in it, and returns
/// loom's panic message. Panics if loom explored every interleaving and
/// found nothing wrong.
///
/// The panic hook still prints the failure as usual, so running the test
/// with `--nocapture` shows loom's own output (the files in `book/src/loom/`
/// are made that way).
pub fn expect_failure<F>(name: &str, model: F) -> String
where
    F: Fn() + Sync + Send + 'static,
{
    let (iterations, elapsed, result) = run(model);
    match result {
        Ok(()) => panic!(
            "model {name}: loom explored {iterations} interleavings ({}) and found no failure",
            bound()
        ),
        Err(payload) => {
            println!(
                "model {name}: loom found the failure in interleaving {iterations}, after {:.2} s ({})",
                elapsed.as_secs_f64(),
                bound()
            );
            message(&*payload)
        }
    }
}
// ANCHOR_END: expect_failure

/// Asserts that loom's message is a deadlock with `blocked` threads asleep
/// for ever and `terminated` threads that finished.
pub fn assert_deadlock(message: &str, blocked: usize, terminated: usize) {
    assert!(message.starts_with(DEADLOCK), "{message}");
    assert_eq!(message.matches("Blocked").count(), blocked, "{message}");
    assert_eq!(
        message.matches("Terminated").count(),
        terminated,
        "{message}"
    );
}

type RunResult = Result<(), Box<dyn Any + Send>>;

// ANCHOR: run
fn run<F>(model: F) -> (usize, Duration, RunResult)
where
    F: Fn() + Sync + Send + 'static,
{
    let iterations = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&iterations);
    let start = Instant::now();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        loom::model(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            model();
        })
    }));
    (iterations.load(Ordering::Relaxed), start.elapsed(), result)
}
// ANCHOR_END: run

fn bound() -> String {
    match std::env::var("LOOM_MAX_PREEMPTIONS") {
        Ok(n) => format!("LOOM_MAX_PREEMPTIONS={n}"),
        Err(_) => "no preemption bound".to_owned(),
    }
}

fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<panic payload that is not a string>".to_owned()
    }
}

/// The outcomes that a racy model reached, collected across all of loom's
/// interleavings, so that a test can check that loom really explored each
/// way the race can go (and not only the easy one).
#[derive(Clone, Default)]
pub struct Outcomes(Arc<std::sync::Mutex<std::collections::BTreeSet<&'static str>>>);

impl Outcomes {
    /// Records that one interleaving ended in `outcome`.
    pub fn saw(&self, outcome: &'static str) {
        self.0.lock().unwrap().insert(outcome);
    }

    /// Asserts that the interleavings reached exactly `expected`.
    pub fn assert_exactly(&self, expected: &[&'static str]) {
        let seen: Vec<_> = self.0.lock().unwrap().iter().copied().collect();
        let mut expected = expected.to_vec();
        expected.sort_unstable();
        assert_eq!(seen, expected, "outcomes reached across the interleavings");
    }
}
