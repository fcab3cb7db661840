#![cfg(not(loom))]
//! Property tests of `Pipeline` over random stage counts, worker counts,
//! capacities and inputs: the output is the input mapped through the stages
//! (as a multiset; in order with one worker per stage), and when a stage
//! fails the report still accounts for every item.

use proptest::prelude::*;
use queuelab::Pipeline;

/// Few cases in debug builds: each case starts up to 26 threads.
const CASES: u32 = if cfg!(debug_assertions) { 24 } else { 128 };

/// One stage: its worker count, the capacity of its input queue (`None` =
/// unbounded) and what it does to an item.
#[derive(Debug, Clone)]
struct StageSpec {
    workers: usize,
    capacity: Option<usize>,
    op: Op,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Add(u64),
    Xor(u64),
    Mul(u64),
}

impl Op {
    fn apply(self, n: u64) -> u64 {
        match self {
            Op::Add(k) => n.wrapping_add(k),
            Op::Xor(k) => n ^ k,
            Op::Mul(k) => n.wrapping_mul(k),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u64>().prop_map(Op::Add),
        any::<u64>().prop_map(Op::Xor),
        any::<u64>().prop_map(Op::Mul),
    ]
}

fn stage(max_workers: usize) -> impl Strategy<Value = StageSpec> {
    (1..=max_workers, proptest::option::of(1..=8usize), op()).prop_map(|(workers, capacity, op)| {
        StageSpec {
            workers,
            capacity,
            op,
        }
    })
}

/// Builds the pipeline for `stages`; `fail` makes stage `.0` return `Err`
/// on the item at source position `.1`. Items travel with their source
/// position so that the failing one can be recognised after any mapping.
fn run(
    items: &[u64],
    stages: &[StageSpec],
    output_capacity: Option<usize>,
    fail: Option<(usize, usize)>,
) -> Result<(Vec<(usize, u64)>, queuelab::PipelineReport), queuelab::PipelineError> {
    let mut pipeline = Pipeline::new(items.iter().copied().enumerate());
    for (k, spec) in stages.iter().enumerate() {
        let op = spec.op;
        pipeline = pipeline
            .try_stage(
                format!("s{k}"),
                spec.workers,
                move |(i, n): (usize, u64)| {
                    if fail == Some((k, i)) {
                        return Err(format!("item {i} fails in s{k}"));
                    }
                    Ok((i, op.apply(n)))
                },
            )
            .input_capacity(spec.capacity);
    }
    pipeline.output_capacity(output_capacity).run_collect()
}

fn expected(items: &[u64], stages: &[StageSpec]) -> Vec<(usize, u64)> {
    items
        .iter()
        .enumerate()
        .map(|(i, &n)| (i, stages.iter().fold(n, |n, s| s.op.apply(n))))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn output_is_the_mapped_input(
        items in proptest::collection::vec(any::<u64>(), 0..200),
        stages in proptest::collection::vec(stage(5), 0..=5),
        output_capacity in proptest::option::of(1..=8usize),
    ) {
        let (mut out, report) = run(&items, &stages, output_capacity, None).unwrap();
        out.sort_unstable();
        prop_assert_eq!(out, expected(&items, &stages));
        let n = items.len() as u64;
        prop_assert_eq!((report.items_in, report.items_out, report.undelivered), (n, n, 0));
        for s in &report.stages {
            prop_assert_eq!((s.processed, s.failed, s.never_reached), (n, 0, 0));
            if let Some(cap) = s.capacity {
                prop_assert!(s.peak_queue_len <= cap);
            }
        }
    }

    #[test]
    fn one_worker_per_stage_keeps_the_order(
        items in proptest::collection::vec(any::<u64>(), 0..200),
        stages in proptest::collection::vec(stage(1), 0..=5),
    ) {
        let (out, _) = run(&items, &stages, Some(1), None).unwrap();
        prop_assert_eq!(out, expected(&items, &stages));
    }

    #[test]
    fn a_failing_stage_is_named_and_every_item_is_accounted_for(
        items in proptest::collection::vec(any::<u64>(), 1..200),
        stages in proptest::collection::vec(stage(5), 1..=5),
        output_capacity in proptest::option::of(1..=8usize),
        pick in any::<(prop::sample::Index, prop::sample::Index)>(),
    ) {
        let failing_stage = pick.0.index(stages.len());
        let failing_item = pick.1.index(items.len());
        let err = run(&items, &stages, output_capacity, Some((failing_stage, failing_item)))
            .unwrap_err();
        let name = format!("s{failing_stage}");
        prop_assert_eq!(err.stage_name(), name.as_str());
        prop_assert_eq!(err.stage_index(), Some(failing_stage));
        let report = err.report();
        prop_assert_eq!(report.stages[failing_stage].failed, 1);
        for s in &report.stages {
            prop_assert_eq!(s.processed + s.failed + s.never_reached, report.items_in);
        }
        let last = report.stages.last().unwrap();
        prop_assert_eq!(report.items_out + report.undelivered, last.processed);
        prop_assert!(report.items_out < items.len() as u64);
    }
}
