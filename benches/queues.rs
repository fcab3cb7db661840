//! Every queue of the ladder against crossbeam-channel and std's channels:
//! `producers` threads send `items(cap)` items in total (20,000; 2,000 with
//! capacity 1), `consumers` threads receive them, and one iteration is the
//! time from the start signal until every item has been received.
//!
//! Groups are named `{spsc,mpsc,mpmc}_{cap1,cap64,cap1024,unbounded}`; in
//! each, the bench id is `implementation/threads`, where `threads` is the
//! number of producers (mpsc, mpmc) and of consumers (mpmc). Queues without a
//! capacity of that kind are skipped: the polling and blocking queues are
//! unbounded only, the bounded queue is bounded only.
//!
//! Full run: `cargo bench --bench queues`; smoke test: `cargo test --bench queues`
//! (debug build, each bench once, fewer items).

use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/mod.rs"]
mod common;
use common::{Cap, Channel, Crossbeam, Ladder, Std};

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

// ANCHOR: transfer
/// Moves `items(cap)` items from `producers` to `consumers` threads, `iters`
/// times, and returns the total time. Threads are spawned before the clock
/// starts and released together by a barrier; the clock stops when the last
/// consumer has its last item. `None` if `C` has no such capacity.
fn transfer<C: Channel>(
    cap: Cap,
    producers: usize,
    consumers: usize,
    iters: u64,
) -> Option<Duration> {
    let items = items(cap);
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let (txs, rxs) = C::open(cap, producers, consumers)?;
        let per_producer = items / producers as u64;
        let per_consumer = items / consumers as u64;
        let start_line = Barrier::new(producers + consumers + 1);
        total += thread::scope(|s| {
            let start_line = &start_line;
            for (p, tx) in txs.into_iter().enumerate() {
                s.spawn(move || {
                    start_line.wait();
                    let first = p as u64 * per_producer;
                    for item in first..first + per_producer {
                        C::send(&tx, black_box(item));
                    }
                });
            }
            let ends: Vec<_> = rxs
                .into_iter()
                .map(|mut rx| {
                    s.spawn(move || {
                        start_line.wait();
                        let mut sum = 0u64;
                        for _ in 0..per_consumer {
                            sum += C::recv(&mut rx);
                        }
                        (Instant::now(), sum)
                    })
                })
                .collect();
            start_line.wait();
            let start = Instant::now();
            let (mut last, mut sum) = (start, 0);
            for end in ends {
                let (at, part) = end.join().expect("consumer panicked");
                last = last.max(at);
                sum += part;
            }
            assert_eq!(
                sum,
                items * (items - 1) / 2,
                "an item was lost or duplicated"
            );
            last - start
        });
    }
    Some(total)
}
// ANCHOR_END: transfer

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
            transfer::<C>(cap, producers, consumers, iters).expect("checked above")
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
