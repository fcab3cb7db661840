//! Every queue of the ladder against crossbeam-channel, flume, kanal and
//! std's channels: `producers` threads send `items(cap)` items in total
//! (20,000; 2,000 with capacity 1), `consumers` threads receive them, and one
//! iteration is the time from the start signal until every item has been
//! received (`common::transfer`).
//!
//! Groups are named `{spsc,mpsc,mpmc}_{cap1,cap64,cap1024,unbounded}`; in
//! each, the bench id is `implementation/threads`, where `threads` is the
//! number of producers (mpsc, mpmc) and of consumers (mpmc). Queues without a
//! capacity of that kind are skipped: the polling and blocking queues are
//! unbounded only, the bounded queue is bounded only.
//!
//! Full run: `cargo bench --bench queues`; smoke test: `cargo test --bench queues`
//! (debug build, each bench once, fewer items).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/mod.rs"]
mod common;
use common::{Cap, Channel, Crossbeam, Flume, Kanal, Ladder, Std, transfer};

type Polling = Ladder<queuelab::PollingQueue<u64>>;
type Blocking = Ladder<queuelab::BlockingQueue<u64>>;
type Bounded = Ladder<queuelab::BoundedQueue<u64>>;
type Closable = Ladder<queuelab::queue::closable::ClosableQueue<u64>>;
type Fast = Ladder<queuelab::queue::fast::ClosableQueue<u64>>;
type Ring = Ladder<queuelab::queue::ring::ClosableQueue<u64>>;

// ANCHOR: items
/// Items moved per iteration; divisible by 1, 2, 4 and 8.
const ITEMS: u64 = if common::OPTIMISED { 20_000 } else { 1_600 };

/// Items per iteration for a capacity: a tenth with capacity 1, where every
/// item may cost a sleep and a wake-up, so that the suite stays short.
fn items(cap: Cap) -> u64 {
    if cap == Cap::Bounded(1) {
        ITEMS / 10
    } else {
        ITEMS
    }
}
// ANCHOR_END: items

/// Adds `C`'s bench to the group, if `C` has the capacity.
fn add<C: Channel>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    cap: Cap,
    producers: usize,
    consumers: usize,
    threads: usize,
) {
    if C::open(cap, producers, consumers).is_none() {
        return;
    }
    group.bench_with_input(BenchmarkId::new(C::NAME, threads), &threads, |b, _| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    transfer::<C>(cap, producers, consumers, items(cap)).expect("checked above")
                })
                .sum()
        })
    });
}

// ANCHOR: shape
fn shape(c: &mut Criterion, name: &str, counts: &[(usize, usize)]) {
    for cap in Cap::ALL {
        let mut group = c.benchmark_group(format!("{name}_{}", cap.label()));
        group.sampling_mode(common::SAMPLING);
        group.throughput(Throughput::Elements(items(cap)));
        for &(producers, consumers) in counts {
            let threads = producers.max(consumers);
            add::<Polling>(&mut group, cap, producers, consumers, threads);
            add::<Blocking>(&mut group, cap, producers, consumers, threads);
            add::<Bounded>(&mut group, cap, producers, consumers, threads);
            add::<Closable>(&mut group, cap, producers, consumers, threads);
            add::<Fast>(&mut group, cap, producers, consumers, threads);
            add::<Ring>(&mut group, cap, producers, consumers, threads);
            add::<Crossbeam>(&mut group, cap, producers, consumers, threads);
            add::<Flume>(&mut group, cap, producers, consumers, threads);
            add::<Kanal>(&mut group, cap, producers, consumers, threads);
            add::<Std>(&mut group, cap, producers, consumers, threads);
        }
        group.finish();
    }
}
// ANCHOR_END: shape

fn spsc(c: &mut Criterion) {
    shape(c, "spsc", &[(1, 1)]);
}

fn mpsc(c: &mut Criterion) {
    shape(c, "mpsc", &[(2, 1), (4, 1), (8, 1)]);
}

fn mpmc(c: &mut Criterion) {
    shape(c, "mpmc", &[(2, 2), (4, 4), (8, 8)]);
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = spsc, mpsc, mpmc
}
criterion_main!(benches);
