#![cfg(not(loom))]
//! A stage that fails (returns `Err` or panics) never hangs the pipeline: the
//! run stops, every thread is joined, the error names the stage, and the
//! report accounts for every item taken from the source.
//!
//! Each run happens inside a watchdog thread: a pipeline that hangs makes the
//! test fail after two minutes instead of blocking CI. That limit only
//! catches deadlocks; no test asserts anything about speed.

mod common;

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;

use common::{MustConsume, assert_accounted, within_deadline};
use queuelab::{Pipeline, PipelineError, StageFailure};

const ITEMS: u64 = if cfg!(debug_assertions) { 300 } else { 3000 };

/// Effective Python's three stages (Item 55), with one of them failing on item
/// `bad`, either by returning `Err` or by panicking.
#[derive(Clone, Copy, Debug)]
enum How {
    Err,
    Panic,
}

fn run_failing(
    failing_stage: usize,
    how: How,
    bad: u64,
    workers: usize,
    capacity: usize,
) -> (PipelineError, u64) {
    within_deadline(move || {
        let step = move |stage: usize| {
            move |n: u64| -> Result<u64, String> {
                if stage == failing_stage && n == bad {
                    match how {
                        How::Err => return Err(format!("item {n} is bad")),
                        How::Panic => panic!("item {n} is cursed"),
                    }
                }
                Ok(n)
            }
        };
        let mut delivered = 0;
        let err = Pipeline::new(0..ITEMS)
            .capacity(Some(capacity))
            .try_stage("download", workers, step(0))
            .try_stage("resize", workers, step(1))
            .try_stage("upload", workers, step(2))
            .run_with_sink(|_| delivered += 1)
            .unwrap_err();
        (err, delivered)
    })
}

#[test]
fn err_or_panic_in_any_stage_stops_the_run_and_names_the_stage() {
    let names = ["download", "resize", "upload"];
    for (stage, name) in names.iter().enumerate() {
        for how in [How::Err, How::Panic] {
            for (workers, capacity) in [(1, 1), (3, 1), (2, 4), (4, 64)] {
                let bad = ITEMS / 2;
                let (err, delivered) = run_failing(stage, how, bad, workers, capacity);
                let case = format!("{name} {how:?} workers {workers} capacity {capacity}");
                assert_eq!(err.stage_name(), *name, "{case}");
                assert_eq!(err.stage_index(), Some(stage), "{case}");
                match (how, err.failure()) {
                    (How::Err, StageFailure::Error(e)) => {
                        assert_eq!(e.to_string(), format!("item {bad} is bad"), "{case}")
                    }
                    (How::Panic, StageFailure::Panic(msg)) => {
                        assert_eq!(msg, &format!("item {bad} is cursed"), "{case}")
                    }
                    (_, other) => panic!("{case}: unexpected failure {other:?}"),
                }
                assert!(err.to_string().starts_with(&format!("stage \"{name}\"")));
                let report = err.report();
                assert_eq!(report.stages[stage].failed, 1, "{case}\n{report}");
                assert_eq!(report.items_out, delivered, "{case}");
                // Item `bad` never got out, so the run did not complete.
                assert!(report.items_out < ITEMS, "{case}");
                assert_accounted(report);
            }
        }
    }
}

#[test]
fn failing_on_the_first_item_with_full_queues_takes_at_most_three_items() {
    // One worker, capacity 1: while the worker fails on item 0, the source
    // can have put item 1 into the queue and be blocked putting item 2.
    // The abort hands item 1 back and refuses item 2; nothing more is taken.
    for how in [How::Err, How::Panic] {
        let (err, delivered) = run_failing(0, how, 0, 1, 1);
        let report = err.report();
        assert!(report.items_in <= 3, "{how:?}\n{report}");
        assert_eq!(delivered, 0);
        let first = &report.stages[0];
        assert_eq!((first.processed, first.failed), (0, 1), "{report}");
        assert_eq!(first.never_reached, report.items_in - 1);
        for later in &report.stages[1..] {
            assert_eq!(later.processed + later.failed, 0);
            assert_eq!(later.never_reached, report.items_in);
        }
        assert_accounted(report);
    }
}

#[test]
fn panic_in_the_last_stage_while_the_stages_before_it_are_blocked_on_full_queues() {
    for workers in 1..=3 {
        // The last stage panics on its very first item: every queue in front
        // of it fills up, and the workers before it sleep in `put`.
        let err = within_deadline(move || {
            Pipeline::new(0..ITEMS)
                .capacity(Some(1))
                .stage("download", workers, |n: u64| n)
                .stage("resize", workers, |n: u64| n)
                .stage("upload", workers, |_: u64| -> u64 {
                    panic!("upload server is down")
                })
                .run_collect()
                .unwrap_err()
        });
        assert_eq!(err.stage_name(), "upload");
        assert_eq!(
            err.to_string(),
            "stage \"upload\" panicked: upload server is down"
        );
        let report = err.report();
        assert!(report.stages[2].failed >= 1);
        assert_eq!(report.stages[2].processed, 0);
        assert_eq!(report.items_out, 0);
        assert_accounted(report);
    }
}

#[test]
fn every_item_failing_in_several_stages_still_adds_up() {
    for capacity in [1, 2, 16] {
        let err = within_deadline(move || {
            Pipeline::new(0..ITEMS)
                .capacity(Some(capacity))
                .try_stage(
                    "odd",
                    3,
                    |n: u64| if n % 2 == 1 { Err("odd") } else { Ok(n) },
                )
                .stage("even", 3, |n: u64| {
                    assert!(n % 2 == 1, "even");
                    n
                })
                .run_collect()
                .unwrap_err()
        });
        assert!(["odd", "even"].contains(&err.stage_name()), "{err}");
        assert_accounted(err.report());
    }
}

#[derive(Debug, PartialEq)]
struct DiskFull(u32);

impl fmt::Display for DiskFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "disk full after {} files", self.0)
    }
}

impl std::error::Error for DiskFull {}

#[test]
fn the_stage_error_can_be_downcast() {
    let err = within_deadline(|| {
        Pipeline::new(0..10u32)
            .try_stage(
                "save",
                2,
                |n: u32| if n == 7 { Err(DiskFull(n)) } else { Ok(n) },
            )
            .run_collect()
            .unwrap_err()
    });
    assert_eq!(
        err.to_string(),
        "stage \"save\" failed: disk full after 7 files"
    );
    match err.failure() {
        StageFailure::Error(e) => assert_eq!(e.downcast_ref::<DiskFull>(), Some(&DiskFull(7))),
        other => panic!("unexpected {other:?}"),
    }
    let report = err.into_report();
    assert_accounted(&report);
}

#[test]
fn a_panicking_source_is_reported_as_stage_source() {
    let err = within_deadline(|| {
        let source = (0..ITEMS).inspect(|&n| assert!(n < 10, "the source ran dry"));
        Pipeline::new(source)
            .capacity(Some(1))
            .stage("id", 2, |n: u64| n)
            .run_collect()
            .unwrap_err()
    });
    assert_eq!(err.stage_name(), "source");
    assert_eq!(err.stage_index(), None);
    assert_eq!(
        err.to_string(),
        "stage \"source\" panicked: the source ran dry"
    );
    let report = err.report();
    assert_eq!(report.items_in, 10);
    assert_accounted(report);
}

#[test]
fn a_panicking_sink_stops_the_run_then_panics_in_the_caller() {
    let outcome = within_deadline(|| {
        panic::catch_unwind(|| {
            Pipeline::new(0..ITEMS)
                .capacity(Some(1))
                .stage("a", 2, |n: u64| n)
                .stage("b", 2, |n: u64| n)
                .run_with_sink(|n| assert!(n < 5, "the sink gave up"))
        })
    });
    let payload = outcome.expect_err("the sink's panic reaches the caller");
    let msg = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    assert_eq!(msg, Some("the sink gave up"));
}

#[test]
fn a_panicking_drop_during_the_abort_neither_hangs_nor_loses_the_error() {
    // a (3 workers) -> b (1) -> c (1), every queue of capacity 1; b emits
    // `MustConsume` items. c takes item 0 and fails once the source has
    // taken item 8: by then the 8 items before it fill every place (c's
    // hand, c's queue, b's hand, b's queue, a's 3 hands, a's queue), so c's
    // queue and b's hand each hold an item whose drop panics, and a's
    // workers and the source are blocked in `put`. The abort must close
    // every queue before it drops anything. c also waits until b has made
    // its third item (a's three workers may hand items on out of order):
    // until then b's hand may still hold a plain number.
    for how in [How::Err, How::Panic] {
        let err = within_deadline(move || {
            let (taken_9, wait_9) = mpsc::channel();
            let wait_9 = std::sync::Mutex::new(wait_9);
            let (made_3rd, wait_3rd) = mpsc::channel();
            let wait_3rd = std::sync::Mutex::new(wait_3rd);
            let made = std::sync::atomic::AtomicUsize::new(0);
            let source = (0..ITEMS).inspect(move |&n| {
                if n == 8 {
                    taken_9.send(()).unwrap();
                }
            });
            Pipeline::new(source)
                .capacity(Some(1))
                .stage("a", 3, |n: u64| n)
                .stage("b", 1, move |n: u64| {
                    let item = MustConsume(n);
                    if made.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 2 {
                        made_3rd.send(()).unwrap();
                    }
                    item
                })
                .try_stage("c", 1, move |item: MustConsume| {
                    let n = item.consume();
                    wait_9.lock().unwrap().recv().unwrap();
                    wait_3rd.lock().unwrap().recv().unwrap();
                    match how {
                        How::Err => Err::<u64, _>(format!("item {n} is bad")),
                        How::Panic => panic!("item {n} is cursed"),
                    }
                })
                .run_collect()
                .unwrap_err()
        });
        let case = format!("{how:?}");
        assert_eq!(err.stage_name(), "c", "{case}");
        let report = err.report();
        assert_eq!(report.items_in, 9, "{case}\n{report}");
        // The item in c's queue and the one in b's hand.
        assert_eq!(report.drop_panics, 2, "{case}\n{report}");
        let table = report.to_string();
        assert!(
            table.ends_with("\n2 dropped items panicked in Drop (caught)"),
            "{case}\n{table}"
        );
        assert_accounted(report);
    }
}

#[test]
fn a_panicking_drop_while_a_panicking_sink_unwinds_does_not_abort_the_process() {
    // The sink's panic aborts the run while its thread unwinds. The output
    // queue then holds a `MustConsume` (the sink waits until the source has
    // taken item 4, so that every place holds an item): dropping it panics
    // again, which must be caught rather than abort the process.
    let outcome = within_deadline(|| {
        let (taken_5, wait_5) = mpsc::channel();
        let source = (0..ITEMS).inspect(move |&n| {
            if n == 4 {
                taken_5.send(()).unwrap();
            }
        });
        panic::catch_unwind(AssertUnwindSafe(|| {
            Pipeline::new(source)
                .capacity(Some(1))
                .stage("make", 1, MustConsume)
                .run_with_sink(|item| {
                    item.consume();
                    wait_5.recv().unwrap();
                    panic!("the sink gave up");
                })
        }))
    });
    let payload = outcome.expect_err("the sink's panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the sink gave up"));
}

#[test]
fn a_panicking_describe_does_not_drop_its_item_while_unwinding() {
    // Item 0's description panics, and so does its drop (a `MustConsume`
    // that nobody consumed). Dropped while the panic unwinds, it would
    // abort the process; it must be dropped after, its panic caught and
    // counted. Item 0 is the first, so nothing else is in flight.
    let err = within_deadline(|| {
        Pipeline::new((0..ITEMS).map(MustConsume))
            .describe(|item: &MustConsume| {
                if item.0 == 0 {
                    panic!("cannot describe item 0");
                }
                format!("item {}", item.0)
            })
            .stage("eat", 1, MustConsume::consume)
            .run_collect()
            .unwrap_err()
    });
    assert_eq!(err.stage_name(), "source");
    assert!(err.to_string().contains("cannot describe item 0"), "{err}");
    let report = err.report();
    assert_eq!(report.drop_panics, 1, "{report}");
    assert_eq!(report.items_in, 0, "{report}");
    assert_accounted(report);
}

#[test]
fn run_collect_catches_panicking_drops_of_the_items_it_collected_before_a_failure() {
    // On failure, `run_collect` drops what it collected. With an output
    // queue of capacity 1, the stage could put item 2 only after the sink
    // had taken items 0 and 1, so at least two collected items panic when
    // dropped; item 2 panics too, whether collected or lost in the abort.
    let err = within_deadline(|| {
        Pipeline::new(0..ITEMS)
            .capacity(Some(1))
            .try_stage("pass", 1, |n: u64| {
                if n == 3 {
                    Err("item 3 is bad")
                } else {
                    Ok(MustConsume(n))
                }
            })
            .run_collect()
            .unwrap_err()
    });
    assert_eq!(err.stage_name(), "pass");
    let report = err.report();
    assert_eq!(report.drop_panics, 3, "{report}");
    assert_accounted(report);
}
