//! The pipeline of Effective Python, Item 55, download -> resize -> upload,
//! with no-op stages.
//!
//! One iteration runs Item 55's whole program: start the workers, put
//! `ITEMS` items into the first queue, then stop the stages in order (close
//! the queue, `join` it, join its threads) and check that every item reached
//! the done queue. Thread start-up is inside the clock, as it is in Item 55.
//!
//! Groups: `pipeline_1-1-1` and `pipeline_3-4-5` (workers per stage); ids
//! `implementation/capacity`, where the capacity bounds the three queues in
//! front of the stages (the done queue is unbounded, as in Item 55).
//! Implementations: `closable` (step 4) and `fast` (step 5), written like the
//! Item 55's `start_threads`/`stop_threads` (`seed::seed_pipeline`);
//! `crossbeam`, `flume` and `kanal`, where dropping the last sender plays the
//! part of `close` (`seed::channel_pipeline`); and, for 1/1/1 unbounded only,
//! `polling-10ms`, Item 55's first version: `PollingQueue` with workers that
//! sleep 10 ms whenever their queue is empty, and a main thread that spins on
//! the done queue's length.
//!
//! Full run: `cargo bench --bench pipeline`; smoke test: `cargo test --bench pipeline`.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/mod.rs"]
mod common;
use common::seed::{self, channel_pipeline, seed_pipeline};
use common::{Cap, Crossbeam, Flume, Kanal};

type Closable = queuelab::queue::closable::ClosableQueue<u64>;
type Fast = queuelab::queue::fast::ClosableQueue<u64>;
type Ring = queuelab::queue::ring::ClosableQueue<u64>;

/// Items per run. Item 55 uses 1,000; 10,000 makes the queues, not thread
/// start-up, the bulk of the time. book/python/ uses the same number.
const ITEMS: u64 = if common::OPTIMISED { 10_000 } else { 1_000 };

fn pipelines(c: &mut Criterion) {
    for workers in [[1, 1, 1], [3, 4, 5]] {
        let mut group = c.benchmark_group(format!(
            "pipeline_{}-{}-{}",
            workers[0], workers[1], workers[2]
        ));
        group.sampling_mode(common::SAMPLING);
        group.throughput(Throughput::Elements(ITEMS));
        for cap in [Cap::Bounded(1), Cap::Bounded(64), Cap::Unbounded] {
            let label = cap.label();
            let mut add = |name: &str, run: fn([usize; 3], Cap, u64) -> Option<Duration>| {
                group.bench_function(BenchmarkId::new(name, &label), |b| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| run(workers, cap, ITEMS).expect("every capacity"))
                            .sum()
                    })
                });
            };
            add("closable", seed_pipeline::<Closable>);
            add("fast", seed_pipeline::<Fast>);
            if cap != Cap::Unbounded {
                // Step 6 is bounded only.
                add("ring", seed_pipeline::<Ring>);
            }
            add("crossbeam", channel_pipeline::<Crossbeam>);
            add("flume", channel_pipeline::<Flume>);
            add("kanal", channel_pipeline::<Kanal>);
            if workers == [1, 1, 1] && cap == Cap::Unbounded {
                add("polling-10ms", |_, _, items| {
                    Some(seed::polling_pipeline(items, Duration::from_millis(10)).0)
                });
            }
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = pipelines
}
criterion_main!(benches);
