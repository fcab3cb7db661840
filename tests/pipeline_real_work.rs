#![cfg(not(loom))]
//! The pipeline for real work: failure policies (skip, retry, a cap on
//! failures), ordered output, cancellation, the progress hook, and the
//! report's bottleneck and JSON form.
//!
//! Every item is a `Tracked` value from a `Ledger`, which checks at the end
//! that each item ever made was dropped exactly once, wherever it ended:
//! delivered, skipped, dropped between retries, or lost in a cancellation.
//! Every run happens under `within_deadline`, so a hang fails the test.

mod common;

use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{MustConsume, assert_accounted, within_deadline};
use queuelab::pipeline::{CancelMode, FailurePolicy};
use queuelab::{Pipeline, PipelineReport};

const ITEMS: u64 = if cfg!(debug_assertions) { 300 } else { 3000 };

/// Counts, for each level (0 = the source's items, k + 1 = the outputs of
/// stage k) and each item id, how often an item was made and dropped.
#[derive(Debug)]
struct Ledger {
    made: Vec<Vec<AtomicUsize>>,
    dropped: Vec<Vec<AtomicUsize>>,
}

/// An item that reports its drop to its ledger.
#[derive(Debug)]
struct Tracked<'l> {
    id: u64,
    level: usize,
    ledger: &'l Ledger,
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.ledger.dropped[self.level][self.id as usize].fetch_add(1, Ordering::SeqCst);
    }
}

impl Ledger {
    fn new(levels: usize, items: u64) -> Self {
        let table = || {
            (0..levels)
                .map(|_| (0..items).map(|_| AtomicUsize::new(0)).collect())
                .collect()
        };
        Ledger {
            made: table(),
            dropped: table(),
        }
    }

    /// Makes item `id` at `level`; each is made at most once.
    fn make(&self, level: usize, id: u64) -> Tracked<'_> {
        let before = self.made[level][id as usize].fetch_add(1, Ordering::SeqCst);
        assert_eq!(before, 0, "item {id} made twice at level {level}");
        Tracked {
            id,
            level,
            ledger: self,
        }
    }

    fn dropped(&self, level: usize, id: u64) -> usize {
        self.dropped[level][id as usize].load(Ordering::SeqCst)
    }

    /// Every item made was dropped exactly once.
    fn assert_each_dropped_once(&self) {
        for (level, (made, dropped)) in self.made.iter().zip(&self.dropped).enumerate() {
            for (id, (m, d)) in made.iter().zip(dropped).enumerate() {
                let (m, d) = (m.load(Ordering::SeqCst), d.load(Ordering::SeqCst));
                assert_eq!(
                    d, m,
                    "item {id} at level {level}: made {m} times, dropped {d} times"
                );
            }
        }
    }
}

/// Item `id` fails in the failing stage: some by returning `Err`, some by
/// panicking.
fn fails(id: u64) -> Option<bool> {
    match (id % 7, id % 11) {
        (3, _) => Some(false),
        (_, 5) => Some(true),
        _ => None,
    }
}

#[test]
fn skip_records_and_drops_failed_items_in_the_first_middle_and_last_stage() {
    let names = ["download", "resize", "upload"];
    for failing in 0..3 {
        for (workers, capacity) in [(1, 1), (3, 2), (4, 64)] {
            let case = format!("failing {failing} workers {workers} capacity {capacity}");
            within_deadline(move || {
                let ledger = Ledger::new(4, ITEMS);
                let step = |stage: usize| {
                    let ledger = &ledger;
                    move |t: Tracked<'_>| -> Result<Tracked<'_>, String> {
                        let id = t.id;
                        drop(t);
                        if stage == failing {
                            match fails(id) {
                                Some(false) => return Err(format!("item {id} is bad")),
                                Some(true) => panic!("item {id} is cursed"),
                                None => {}
                            }
                        }
                        Ok(ledger.make(stage + 1, id))
                    }
                };
                let (out, report) = Pipeline::new((0..ITEMS).map(|id| ledger.make(0, id)))
                    .capacity(Some(capacity))
                    .on_failure(FailurePolicy::skip())
                    .try_stage(names[0], workers, step(0))
                    .try_stage(names[1], workers, step(1))
                    .try_stage(names[2], workers, step(2))
                    .run_collect()
                    .unwrap_or_else(|e| panic!("{case}: {e}"));
                let bad: BTreeSet<u64> = (0..ITEMS).filter(|&id| fails(id).is_some()).collect();
                let good: BTreeSet<u64> = (0..ITEMS).filter(|id| !bad.contains(id)).collect();
                assert_eq!(
                    out.iter().map(|t| t.id).collect::<BTreeSet<_>>(),
                    good,
                    "{case}"
                );
                assert_eq!(out.len(), good.len(), "{case}");
                drop(out);
                let stage = &report.stages[failing];
                assert_eq!(stage.failed, bad.len() as u64, "{case}\n{report}");
                assert_eq!(stage.processed, good.len() as u64, "{case}");
                for later in &report.stages[failing + 1..] {
                    assert_eq!(later.never_reached, bad.len() as u64, "{case}");
                }
                let listed: BTreeSet<u64> = report.failures.iter().map(|f| f.index).collect();
                assert_eq!(listed, bad, "{case}");
                for f in &report.failures {
                    assert_eq!((f.stage.as_str(), f.stage_index), (names[failing], failing));
                    assert_eq!(f.attempts, 1);
                    assert_eq!(f.item, format!("item #{}", f.index));
                    match fails(f.index) {
                        Some(false) => assert_eq!(
                            (f.error.clone(), f.panicked),
                            (format!("item {} is bad", f.index), false)
                        ),
                        _ => assert_eq!(
                            (f.error.clone(), f.panicked),
                            (format!("item {} is cursed", f.index), true)
                        ),
                    }
                }
                assert_eq!(report.cancelled, None);
                assert_accounted(&report);
                ledger.assert_each_dropped_once();
            });
        }
    }
}

#[test]
fn retry_succeeds_on_the_kth_attempt_and_skips_after_the_last_one() {
    // Item `id` fails its first `id % 5` calls. With 3 attempts, items that
    // need 1, 2 or 3 calls get through; the others are skipped after 3.
    const ATTEMPTS: u32 = 3;
    let needs = |id: u64| (id % 5) as u32 + 1;
    for retrying in 0..3 {
        for workers in [1, 3] {
            let case = format!("retrying stage {retrying} workers {workers}");
            within_deadline(move || {
                let ledger = Ledger::new(4, ITEMS);
                let calls: Vec<AtomicU32> = (0..ITEMS).map(|_| AtomicU32::new(0)).collect();
                let plain = |stage: usize| {
                    let ledger = &ledger;
                    move |t: Tracked<'_>| ledger.make(stage + 1, t.id)
                };
                let flaky = |t: &Tracked<'_>| {
                    let call = calls[t.id as usize].fetch_add(1, Ordering::SeqCst) + 1;
                    if call < needs(t.id) {
                        Err(format!("attempt {call} on item {} timed out", t.id))
                    } else {
                        Ok(ledger.make(retrying + 1, t.id))
                    }
                };
                let policy = FailurePolicy::retry(ATTEMPTS, Duration::ZERO).then_skip();
                let pipeline =
                    Pipeline::new((0..ITEMS).map(|id| ledger.make(0, id))).capacity(Some(2));
                let pipeline = if retrying == 0 {
                    pipeline
                        .try_stage_ref("a", workers, flaky)
                        .stage_on_failure(policy)
                } else {
                    pipeline.stage("a", workers, plain(0))
                };
                let pipeline = if retrying == 1 {
                    pipeline
                        .try_stage_ref("b", workers, flaky)
                        .stage_on_failure(policy)
                } else {
                    pipeline.stage("b", workers, plain(1))
                };
                let pipeline = if retrying == 2 {
                    pipeline
                        .try_stage_ref("c", workers, flaky)
                        .stage_on_failure(policy)
                } else {
                    pipeline.stage("c", workers, plain(2))
                };
                let (out, report) = pipeline.run_collect().unwrap();
                let good: BTreeSet<u64> = (0..ITEMS).filter(|&id| needs(id) <= ATTEMPTS).collect();
                assert_eq!(
                    out.iter().map(|t| t.id).collect::<BTreeSet<_>>(),
                    good,
                    "{case}"
                );
                drop(out);
                for id in 0..ITEMS {
                    let made = calls[id as usize].load(Ordering::SeqCst);
                    assert_eq!(made, needs(id).min(ATTEMPTS), "{case}: calls on item {id}");
                }
                let stage = &report.stages[retrying];
                assert_eq!(stage.failed, ITEMS - good.len() as u64, "{case}\n{report}");
                for f in &report.failures {
                    assert!(!good.contains(&f.index), "{case}");
                    assert_eq!(f.attempts, ATTEMPTS, "{case}");
                    assert_eq!(f.error, format!("attempt 3 on item {} timed out", f.index));
                }
                assert_accounted(&report);
                ledger.assert_each_dropped_once();
            });
        }
    }
}

#[test]
fn retry_then_fail_fast_stops_the_run_after_the_last_attempt() {
    let err = within_deadline(|| {
        let ledger = Ledger::new(1, ITEMS);
        let err = Pipeline::new((0..ITEMS).map(|id| ledger.make(0, id)))
            .capacity(Some(1))
            .try_stage_ref("upload", 2, |t: &Tracked<'_>| {
                if t.id == 10 {
                    Err("server is down")
                } else {
                    Ok(t.id)
                }
            })
            .stage_on_failure(FailurePolicy::retry(4, Duration::ZERO))
            .run_collect()
            .unwrap_err();
        ledger.assert_each_dropped_once();
        err
    });
    assert_eq!(err.to_string(), "stage \"upload\" failed: server is down");
    let report = err.report();
    assert_eq!(report.failures.len(), 1, "{report}");
    assert_eq!(
        (report.failures[0].index, report.failures[0].attempts),
        (10, 4)
    );
    assert_accounted(report);
}

#[test]
#[should_panic(expected = "stage \"by value\" has a retry policy but takes its items by value")]
fn a_retry_policy_on_a_stage_that_takes_items_by_value_is_refused() {
    let _ = Pipeline::new(0..3)
        .on_failure(FailurePolicy::retry(2, Duration::ZERO))
        .try_stage("by value", 1, |n: u8| Ok::<_, String>(n))
        .run_collect();
}

#[test]
fn the_failure_cap_skips_up_to_n_failures_then_stops_the_run() {
    // Every tenth item fails; with a cap of 5, the sixth failure stops the
    // run. With one worker per stage the sixth is item 50.
    for cap in [0, 5] {
        for workers in [1, 3] {
            let case = format!("cap {cap} workers {workers}");
            let err = within_deadline(move || {
                let ledger = Ledger::new(2, ITEMS);
                let err = Pipeline::new((0..ITEMS).map(|id| ledger.make(0, id)))
                    .capacity(Some(2))
                    .on_failure(FailurePolicy::skip())
                    .max_failures(cap)
                    .stage("pass", workers, |t: Tracked<'_>| t)
                    .try_stage("check", workers, |t: Tracked<'_>| {
                        if t.id % 10 == 0 {
                            Err(format!("item {} failed", t.id))
                        } else {
                            Ok(ledger.make(1, t.id))
                        }
                    })
                    .run_collect()
                    .unwrap_err();
                ledger.assert_each_dropped_once();
                err
            });
            let report = err.report();
            let check = &report.stages[1];
            assert_eq!(err.stage_name(), "check", "{case}");
            assert!(check.failed > cap, "{case}\n{report}");
            if workers == 1 {
                assert_eq!(check.failed, cap + 1, "{case}\n{report}");
                assert_eq!(
                    err.to_string(),
                    format!("stage \"check\" failed: item {} failed", cap * 10)
                );
            }
            assert_accounted(report);
        }
    }
}

/// A small deterministic generator of pseudo-random numbers (xorshift), so
/// that the scrambling delays are the same on every run.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn ordered_output_keeps_source_order_with_8_workers_random_delays_and_holes() {
    // The delays only scramble the order in which workers finish; the test
    // does not depend on them for anything else. Every thirteenth item is
    // skipped in the middle stage: its position is passed over.
    let mut rng = Xorshift(0x5eed_cafe);
    let delays: Vec<[u64; 3]> = (0..ITEMS)
        .map(|_| [rng.next() % 300, rng.next() % 300, rng.next() % 300])
        .collect();
    for window in [1, 8, 64] {
        let delays = delays.clone();
        within_deadline(move || {
            let ledger = Ledger::new(4, ITEMS);
            let step = |stage: usize| {
                let (ledger, delays) = (&ledger, &delays);
                move |t: Tracked<'_>| -> Result<Tracked<'_>, String> {
                    thread::sleep(Duration::from_micros(delays[t.id as usize][stage]));
                    if stage == 1 && t.id % 13 == 0 {
                        return Err(format!("item {} is bad", t.id));
                    }
                    Ok(ledger.make(stage + 1, t.id))
                }
            };
            let (out, report) = Pipeline::new((0..ITEMS).map(|id| ledger.make(0, id)))
                .ordered(window)
                .capacity(Some(4))
                .on_failure(FailurePolicy::skip())
                .try_stage("a", 8, step(0))
                .try_stage("b", 8, step(1))
                .try_stage("c", 8, step(2))
                .run_collect()
                .unwrap();
            let ids: Vec<u64> = out.iter().map(|t| t.id).collect();
            let expected: Vec<u64> = (0..ITEMS).filter(|id| id % 13 != 0).collect();
            assert_eq!(ids, expected, "window {window}");
            drop(out);
            assert_accounted(&report);
            ledger.assert_each_dropped_once();
        });
    }
}

#[test]
fn a_slow_item_holds_the_window_without_deadlock_and_bounds_what_is_taken() {
    // Item 0 is slow: it waits until the last stage has handled the
    // `WINDOW - 1` items after it. Those must be let in while item 0 is
    // stuck (its own position is inside the window), and no more: the
    // source may not take item `WINDOW` before item 0 has been delivered.
    const WINDOW: usize = 6;
    within_deadline(|| {
        let taken = AtomicU64::new(0);
        let (passed, wait_passed) = mpsc::channel();
        let wait_passed = std::sync::Mutex::new(wait_passed);
        let source = (0..ITEMS).inspect(|_| {
            taken.fetch_add(1, Ordering::SeqCst);
        });
        let (out, _) = Pipeline::new(source)
            .ordered(WINDOW)
            .stage("slow first", 4, |n: u64| {
                if n == 0 {
                    let wait_passed = wait_passed.lock().unwrap();
                    for _ in 1..WINDOW {
                        wait_passed.recv().unwrap();
                    }
                    assert_eq!(taken.load(Ordering::SeqCst), WINDOW as u64);
                }
                n
            })
            .stage("last", 4, move |n: u64| {
                if n != 0 && n < WINDOW as u64 {
                    passed.send(()).unwrap();
                }
                n
            })
            .run_collect()
            .unwrap();
        assert_eq!(out, (0..ITEMS).collect::<Vec<_>>());
    });
}

#[test]
fn a_panicking_sink_in_an_ordered_run_drops_the_waiting_results_safely() {
    // Item 0 is slow in stage a: it waits until b (one worker) has been
    // called on items 1 to 7, so that 1 to 6 are through b before it, and 7
    // too, since b takes items in order. The sink then holds 1 to 7 in its
    // reorder buffer, gets 0, and panics. Dropping the buffered items
    // panics too: that must be caught, or the process aborts.
    let outcome = within_deadline(|| {
        let (b_on, wait_b_on) = mpsc::channel();
        let wait_b_on = std::sync::Mutex::new(wait_b_on);
        panic::catch_unwind(AssertUnwindSafe(|| {
            Pipeline::new(0..8u64)
                .ordered(8)
                .stage("a", 4, |n: u64| {
                    if n == 0 {
                        let wait_b_on = wait_b_on.lock().unwrap();
                        for _ in 1..8 {
                            wait_b_on.recv().unwrap();
                        }
                    }
                    n
                })
                .stage("b", 1, move |n: u64| {
                    if n != 0 {
                        b_on.send(()).unwrap();
                    }
                    MustConsume(n)
                })
                .run_with_sink(|item| {
                    item.consume();
                    panic!("the sink gave up");
                })
        }))
    });
    let payload = outcome.expect_err("the sink's panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the sink gave up"));
}

/// Runs `source -> a (1 worker) -> b (1 worker)`, every queue of capacity
/// 1, and cancels in `mode` once every stage is blocked on a full queue: b
/// holds item 0 in its function, b's queue holds 1, a has called its
/// function on 2 (and then waits to put it), a's queue holds 3, and the
/// source has taken 4 (and waits to put it). b finishes item 0 only after
/// the cancellation took effect.
fn cancel_while_blocked(mode: CancelMode) -> (Vec<u64>, PipelineReport) {
    within_deadline(move || {
        let ledger = Ledger::new(3, ITEMS);
        let (took_4, wait_4) = mpsc::channel();
        let (a_on_2, wait_a_on_2) = mpsc::channel();
        let (cancelled, wait_cancelled) = mpsc::channel::<()>();
        let wait_cancelled = std::sync::Mutex::new(wait_cancelled);
        let source = (0..ITEMS).map(|id| {
            if id == 4 {
                took_4.send(()).unwrap();
            }
            ledger.make(0, id)
        });
        let pipeline = Pipeline::new(source)
            .capacity(Some(1))
            .stage("a", 1, |t: Tracked<'_>| {
                if t.id == 2 {
                    a_on_2.send(()).unwrap();
                }
                ledger.make(1, t.id)
            })
            .stage("b", 1, |t: Tracked<'_>| {
                if t.id == 0 {
                    let _ = wait_cancelled.lock().unwrap().recv();
                    if mode == CancelMode::Now {
                        // `close_now` empties every queue before it drops
                        // what it took out: once item 3 (in a's queue) is
                        // dropped, every queue is closed.
                        while ledger.dropped(0, 3) == 0 {
                            thread::yield_now();
                        }
                    }
                }
                ledger.make(2, t.id)
            });
        let cancel = pipeline.cancel_handle();
        let (out, report) = thread::scope(|s| {
            s.spawn(move || {
                wait_4.recv().unwrap();
                wait_a_on_2.recv().unwrap();
                match mode {
                    CancelMode::Graceful => cancel.cancel_graceful(),
                    CancelMode::Now => cancel.cancel_now(),
                }
                drop(cancelled);
            });
            pipeline.run_collect().unwrap()
        });
        let ids = out.iter().map(|t| t.id).collect();
        drop(out);
        ledger.assert_each_dropped_once();
        (ids, report)
    })
}

#[test]
fn graceful_cancellation_while_blocked_finishes_what_was_taken() {
    let (out, report) = cancel_while_blocked(CancelMode::Graceful);
    assert_eq!(report.cancelled, Some(CancelMode::Graceful), "{report}");
    assert_eq!(report.items_in, 5, "{report}");
    assert_eq!(out, [0, 1, 2, 3, 4]);
    for s in &report.stages {
        assert_eq!(
            (s.processed, s.failed, s.never_reached),
            (5, 0, 0),
            "{report}"
        );
    }
    assert!(
        report
            .to_string()
            .ends_with("cancelled: no more items were taken")
    );
    assert_accounted(&report);
}

#[test]
fn cancelling_now_while_blocked_drops_what_is_in_flight_and_counts_it() {
    let (out, report) = cancel_while_blocked(CancelMode::Now);
    assert_eq!(report.cancelled, Some(CancelMode::Now), "{report}");
    assert_eq!(report.items_in, 5, "{report}");
    assert!(out.is_empty());
    // a: items 0, 1, 2 done; 3 (in its queue) and 4 (the source's) lost.
    // b: item 0 done but lost on its way to the sink; 1 (in its queue) and
    // 2 (a's) lost, plus the two a never reached.
    let a = &report.stages[0];
    let b = &report.stages[1];
    assert_eq!((a.processed, a.never_reached), (3, 2), "{report}");
    assert_eq!((b.processed, b.never_reached), (1, 4), "{report}");
    assert_eq!((report.items_out, report.undelivered), (0, 1), "{report}");
    assert_accounted(&report);
}

#[test]
fn cancellation_cuts_a_retry_backoff_short() {
    // The backoff is an hour: only a cancellation that wakes the sleeping
    // worker lets this test end before the watchdog fires.
    for mode in [CancelMode::Graceful, CancelMode::Now] {
        let report = within_deadline(move || {
            let ledger = Ledger::new(1, ITEMS);
            let (first_call, wait_first_call) = mpsc::channel();
            let first_call = std::sync::Mutex::new(first_call);
            let pipeline = Pipeline::new((0..1).map(|id| ledger.make(0, id)))
                .try_stage_ref("flaky", 1, |_: &Tracked<'_>| {
                    let _ = first_call.lock().unwrap().send(());
                    Err::<u64, _>("timed out")
                })
                .stage_on_failure(FailurePolicy::retry(3, Duration::from_secs(3600)));
            let cancel = pipeline.cancel_handle();
            let report = thread::scope(|s| {
                s.spawn(move || {
                    wait_first_call.recv().unwrap();
                    match mode {
                        CancelMode::Graceful => cancel.cancel_graceful(),
                        CancelMode::Now => cancel.cancel_now(),
                    }
                });
                pipeline.run_collect().unwrap().1
            });
            ledger.assert_each_dropped_once();
            report
        });
        assert_eq!(report.cancelled, Some(mode));
        assert_eq!(report.failures.len(), 1, "{report}");
        assert_eq!(report.failures[0].attempts, 1, "{report}");
        assert_accounted(&report);
    }
}

#[test]
fn the_progress_hook_sees_counts_grow_and_the_final_totals() {
    let snapshots = within_deadline(|| {
        let mut snapshots = Vec::new();
        let (_, report) = Pipeline::new(0..ITEMS)
            .on_failure(FailurePolicy::skip())
            .stage("a", 2, |n: u64| n)
            .try_stage("b", 3, |n: u64| if n % 4 == 0 { Err("no") } else { Ok(n) })
            .on_progress(Duration::from_millis(1), |p| snapshots.push(p.clone()))
            .run_collect()
            .unwrap();
        assert_accounted(&report);
        snapshots
    });
    for pair in snapshots.windows(2) {
        for (before, after) in pair[0].stages.iter().zip(&pair[1].stages) {
            assert!(before.done <= after.done && before.failed <= after.failed);
        }
    }
    let last = snapshots.last().expect("called at least once, at the end");
    assert_eq!((last.items_in, last.items_out), (ITEMS, ITEMS - ITEMS / 4));
    let names: Vec<&str> = last.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!((last.stages[0].done, last.stages[0].failed), (ITEMS, 0));
    assert_eq!(
        (last.stages[1].done, last.stages[1].failed),
        (ITEMS - ITEMS / 4, ITEMS / 4)
    );
    assert!(
        last.stages
            .iter()
            .all(|s| s.queue_len == 0 && s.queue_capacity == Some(64))
    );
}

#[test]
fn the_progress_hook_sees_items_done_while_the_stage_is_still_working() {
    // The stage holds item 10 until the hook has seen the 10 items before
    // it done: the workers must publish their counts as they go, not only
    // when they end.
    within_deadline(|| {
        let (saw_10, wait_saw_10) = mpsc::channel();
        let wait_saw_10 = std::sync::Mutex::new(wait_saw_10);
        let (out, _) = Pipeline::new(0..20u64)
            .stage("count", 1, |n: u64| {
                if n == 10 {
                    wait_saw_10.lock().unwrap().recv().unwrap();
                }
                n
            })
            .on_progress(Duration::from_millis(1), move |p| {
                if p.stages[0].done == 10 {
                    let _ = saw_10.send(());
                }
            })
            .run_collect()
            .unwrap();
        assert_eq!(out, (0..20).collect::<Vec<_>>());
    });
}

#[test]
fn the_report_names_the_stage_that_was_busiest_as_the_bottleneck() {
    let report = within_deadline(|| {
        Pipeline::new(0..20)
            .stage("quick", 1, |n: u64| n)
            .stage("slow", 1, |n: u64| {
                thread::sleep(Duration::from_millis(2));
                n
            })
            .stage("quick too", 1, |n: u64| n)
            .run_collect()
            .unwrap()
            .1
    });
    assert_eq!(report.bottleneck.as_deref(), Some("slow"), "{report}");
}

#[cfg(feature = "serde")]
#[test]
fn the_report_serializes_to_json() {
    let report = within_deadline(|| {
        Pipeline::new(["a.png", "b.png"])
            .describe(|name: &&str| name.to_string())
            .on_failure(FailurePolicy::skip())
            .try_stage("open", 1, |name: &str| {
                if name == "b.png" {
                    Err("truncated")
                } else {
                    Ok(name)
                }
            })
            .run_collect()
            .unwrap()
            .1
    });
    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    assert_eq!(json["items_in"], 2);
    assert_eq!(json["items_out"], 1);
    assert_eq!(json["bottleneck"], "open");
    assert_eq!(json["cancelled"], serde_json::Value::Null);
    assert_eq!(json["stages"][0]["name"], "open");
    assert_eq!(json["stages"][0]["failed"], 1);
    assert_eq!(json["failures"][0]["item"], "b.png");
    assert_eq!(json["failures"][0]["error"], "truncated");
    assert_eq!(json["failures"][0]["attempts"], 1);
    assert!(json["elapsed"]["secs"].is_u64());
}
