#![cfg(not(loom))]
//! The pipeline delivers exactly the inputs mapped through its stages (as a
//! multiset), for every worker count 1..=5 and every capacity 1..=64, and its
//! report adds up.

use queuelab::{Pipeline, PipelineReport};

/// Fewer items in debug builds, where every thread start and lock is slower.
const ITEMS: u64 = if cfg!(debug_assertions) { 40 } else { 400 };

/// Checks what every successful run must report.
fn assert_clean_report(report: &PipelineReport, items: u64) {
    assert_eq!(report.items_in, items);
    assert_eq!(report.items_out, items);
    assert_eq!(report.undelivered, 0);
    for stage in &report.stages {
        assert_eq!(stage.processed, items, "stage {}", stage.name);
        assert_eq!(stage.failed, 0, "stage {}", stage.name);
        assert_eq!(stage.never_reached, 0, "stage {}", stage.name);
        if let Some(cap) = stage.capacity {
            assert!(stage.peak_queue_len <= cap, "stage {}", stage.name);
        }
    }
    if let Some(cap) = report.output_capacity {
        assert!(report.output_peak_len <= cap);
    }
}

#[test]
fn outputs_are_the_mapped_inputs_for_all_worker_counts_and_capacities() {
    let mut expected: Vec<u64> = (0..ITEMS).map(|n| (n + 1) * 3).collect();
    expected.sort_unstable();
    for workers in 1..=5 {
        for capacity in 1..=64 {
            // Three stages with different worker counts, and a change of item
            // type in the middle: u64 -> String -> u64.
            let (mut out, report) = Pipeline::new(0..ITEMS)
                .capacity(Some(capacity))
                .stage("inc", workers, |n: u64| n + 1)
                .stage("show", workers % 5 + 1, |n: u64| n.to_string())
                .stage("parse", 6 - workers, |s: String| {
                    s.parse::<u64>().unwrap() * 3
                })
                .run_collect()
                .unwrap();
            out.sort_unstable();
            assert_eq!(out, expected, "workers {workers}, capacity {capacity}");
            assert_clean_report(&report, ITEMS);
            assert!(report.stages.iter().all(|s| s.capacity == Some(capacity)));
        }
    }
}

#[test]
fn one_worker_per_stage_keeps_the_source_order() {
    for capacity in [Some(1), Some(3), None] {
        let (out, report) = Pipeline::new(0..ITEMS)
            .capacity(capacity)
            .stage("double", 1, |n: u64| n * 2)
            .stage("dec", 1, |n: u64| n.wrapping_sub(1))
            .run_collect()
            .unwrap();
        let expected: Vec<u64> = (0..ITEMS).map(|n| (n * 2).wrapping_sub(1)).collect();
        assert_eq!(out, expected);
        assert_clean_report(&report, ITEMS);
    }
}

#[test]
fn unbounded_queues_and_per_stage_capacities() {
    let (mut out, report) = Pipeline::new(0..ITEMS)
        .capacity(None)
        .stage("a", 2, |n: u64| n + 10)
        .input_capacity(Some(2))
        .stage("b", 3, |n: u64| n * 10)
        .output_capacity(Some(1))
        .run_collect()
        .unwrap();
    out.sort_unstable();
    assert_eq!(out, (0..ITEMS).map(|n| (n + 10) * 10).collect::<Vec<_>>());
    assert_eq!(report.stages[0].capacity, Some(2));
    assert_eq!(report.stages[1].capacity, None);
    assert_eq!(report.output_capacity, Some(1));
    assert_clean_report(&report, ITEMS);
}

#[test]
fn no_stages_and_no_items() {
    let (out, report) = Pipeline::new(0..ITEMS).run_collect().unwrap();
    assert_eq!(out, (0..ITEMS).collect::<Vec<_>>());
    assert_clean_report(&report, ITEMS);

    let (out, report) = Pipeline::new(Vec::<u8>::new())
        .stage("never", 4, |b: u8| b)
        .run_collect()
        .unwrap();
    assert!(out.is_empty());
    assert_clean_report(&report, 0);
}

#[test]
fn stages_and_sink_may_borrow_local_data() {
    let offsets = vec![100u64, 200, 300];
    let mut seen = Vec::new();
    let report = Pipeline::new(0..3usize)
        .stage("lookup", 2, |i: usize| offsets[i])
        .run_with_sink(|n| seen.push(n))
        .unwrap();
    seen.sort_unstable();
    assert_eq!(seen, offsets);
    assert_eq!(report.items_out, 3);
}

#[test]
fn the_report_prints_as_a_table() {
    let (_, report) = Pipeline::new(0..10u8)
        .stage("download", 3, |n: u8| n)
        .stage("resize", 4, |n: u8| n)
        .run_collect()
        .unwrap();
    let table = report.to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 6, "{table}");
    assert!(lines[0].starts_with("stage"));
    assert!(lines[1].starts_with("download"));
    assert!(lines[2].starts_with("resize"));
    assert!(lines[3].starts_with("(output)"));
    assert!(lines[4].starts_with("10 items in, 10 out"), "{table}");
    let bottleneck = report.bottleneck.as_deref().expect("a stage was busiest");
    assert!(
        lines[5].starts_with(&format!("bottleneck: {bottleneck} ")),
        "{table}"
    );
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn capacity_zero_is_refused() {
    let _ = Pipeline::new(0..1).capacity(Some(0));
}

#[test]
#[should_panic(expected = "needs at least one worker")]
fn a_stage_without_workers_is_refused() {
    let _ = Pipeline::new(0..1).stage("idle", 0, |n: i32| n);
}

#[test]
#[should_panic(expected = "add a stage first")]
fn input_capacity_needs_a_stage() {
    let _ = Pipeline::new(0..1).input_capacity(Some(1));
}
