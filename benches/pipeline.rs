//! Seed 002's pipeline, download -> resize -> upload, with no-op stages.
//!
//! One iteration runs the whole program of the seed: start the workers, put
//! `ITEMS` items into the first queue, then stop the stages in order (close
//! the queue, `join` it, join its threads) and check that every item reached
//! the done queue. Thread start-up is inside the clock, as it is in the seed.
//!
//! Groups: `pipeline_1-1-1` and `pipeline_3-4-5` (workers per stage); ids
//! `implementation/capacity`, where the capacity bounds the three queues in
//! front of the stages (the done queue is unbounded, as in the seed).
//! Implementations: `closable` (step 4) and `fast` (step 5), written like the
//! seed's `start_threads`/`stop_threads`; `crossbeam`, where dropping the
//! last sender plays the part of `close`; and, for 1/1/1 unbounded only,
//! `polling-10ms`, the seed's first version: `PollingQueue` with workers that
//! sleep 10 ms whenever their queue is empty, and a main thread that spins on
//! the done queue's length.
//!
//! Full run: `cargo bench --bench pipeline`; smoke test: `cargo test --bench pipeline`.

use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/mod.rs"]
mod common;
#[path = "common/seed.rs"]
mod seed;
use common::Cap;
use seed::{download, resize, upload};

/// Items per run. The seed uses 1,000; 10,000 makes the queues, not thread
/// start-up, the bulk of the time. book/python/ uses the same number.
const ITEMS: u64 = if common::OPTIMISED { 10_000 } else { 1_000 };

/// What the seed's pipeline needs from a closable queue, so that step 4 and
/// step 5 share one body.
trait SeedQueue: Send + Sync + Sized {
    fn new(cap: Cap) -> Self;
    fn put(&self, item: u64);
    /// The seed's `StoppableWorker.run`: `for item in in_queue: out_queue.put(func(item))`.
    fn work(&self, func: fn(u64) -> u64, out: &Self);
    fn close(&self);
    fn join(&self);
    fn len(&self) -> usize;
}

macro_rules! seed_queue {
    ($queue:ty) => {
        impl SeedQueue for $queue {
            fn new(cap: Cap) -> Self {
                match cap {
                    Cap::Bounded(n) => Self::bounded(n),
                    Cap::Unbounded => Self::unbounded(),
                }
            }
            fn put(&self, item: u64) {
                self.put(item).expect("the queue is open while items come");
            }
            fn work(&self, func: fn(u64) -> u64, out: &Self) {
                for item in self {
                    out.put(func(item))
                        .expect("the next queue closes after this one");
                }
            }
            fn close(&self) {
                self.close();
            }
            fn join(&self) {
                self.join();
            }
            fn len(&self) -> usize {
                self.len()
            }
        }
    };
}
seed_queue!(queuelab::queue::closable::ClosableQueue<u64>);
seed_queue!(queuelab::queue::fast::ClosableQueue<u64>);

// ANCHOR: seed_pipeline
/// The seed's `start_threads`: `count` workers moving items from `in_queue`
/// through `func` to `out_queue`.
fn start_threads<'scope, Q: SeedQueue>(
    s: &'scope thread::Scope<'scope, '_>,
    count: usize,
    func: fn(u64) -> u64,
    in_queue: &'scope Q,
    out_queue: &'scope Q,
) -> Vec<thread::ScopedJoinHandle<'scope, ()>> {
    (0..count)
        .map(|_| s.spawn(move || in_queue.work(func, out_queue)))
        .collect()
}

/// The seed's `stop_threads`: close the queue (one `close` instead of one
/// sentinel per thread), wait until every item in it is done, join the
/// threads.
fn stop_threads<Q: SeedQueue>(queue: &Q, threads: Vec<thread::ScopedJoinHandle<'_, ()>>) {
    queue.close();
    queue.join();
    for thread in threads {
        thread.join().expect("worker panicked");
    }
}

/// Seed 002's last program over `Q`.
fn seed_pipeline<Q: SeedQueue>(workers: [usize; 3], cap: Cap) {
    let download_queue = Q::new(cap);
    let resize_queue = Q::new(cap);
    let upload_queue = Q::new(cap);
    let done_queue = Q::new(Cap::Unbounded);
    thread::scope(|s| {
        let download_threads =
            start_threads(s, workers[0], download, &download_queue, &resize_queue);
        let resize_threads = start_threads(s, workers[1], resize, &resize_queue, &upload_queue);
        let upload_threads = start_threads(s, workers[2], upload, &upload_queue, &done_queue);
        for item in 0..ITEMS {
            download_queue.put(item);
        }
        stop_threads(&download_queue, download_threads);
        stop_threads(&resize_queue, resize_threads);
        stop_threads(&upload_queue, upload_threads);
    });
    assert_eq!(done_queue.len() as u64, ITEMS, "an item was lost");
}
// ANCHOR_END: seed_pipeline

// ANCHOR: crossbeam_pipeline
/// The same pipeline over crossbeam-channel: a stage ends when every sender
/// of its input channel is gone, so "stop" is dropping the senders and
/// joining the threads.
fn crossbeam_pipeline(workers: [usize; 3], cap: Cap) {
    let channel = || match cap {
        Cap::Bounded(n) => crossbeam_channel::bounded(n),
        Cap::Unbounded => crossbeam_channel::unbounded(),
    };
    let (download_tx, download_rx) = channel();
    let (resize_tx, resize_rx) = channel();
    let (upload_tx, upload_rx) = channel();
    let (done_tx, done_rx) = crossbeam_channel::unbounded();
    thread::scope(|s| {
        let start = |count,
                     func: fn(u64) -> u64,
                     rx: &crossbeam_channel::Receiver<u64>,
                     tx: &crossbeam_channel::Sender<u64>| {
            (0..count)
                .map(|_| {
                    let (rx, tx) = (rx.clone(), tx.clone());
                    s.spawn(move || {
                        for item in rx {
                            tx.send(func(item))
                                .expect("the next stage outlives this one");
                        }
                    })
                })
                .collect::<Vec<_>>()
        };
        let stages = [
            start(workers[0], download, &download_rx, &resize_tx),
            start(workers[1], resize, &resize_rx, &upload_tx),
            start(workers[2], upload, &upload_rx, &done_tx),
        ];
        // Only the workers may keep the later stages' senders alive.
        drop((resize_tx, upload_tx, done_tx));
        for item in 0..ITEMS {
            download_tx.send(item).expect("workers are running");
        }
        drop(download_tx);
        for threads in stages {
            for thread in threads {
                thread.join().expect("worker panicked");
            }
        }
    });
    assert_eq!(done_rx.len() as u64, ITEMS, "an item was lost");
}
// ANCHOR_END: crossbeam_pipeline

fn time(iters: u64, mut run: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        run();
    }
    start.elapsed()
}

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
            group.bench_function(BenchmarkId::new("closable", &label), |b| {
                b.iter_custom(|iters| {
                    time(iters, || {
                        seed_pipeline::<queuelab::queue::closable::ClosableQueue<u64>>(workers, cap)
                    })
                })
            });
            group.bench_function(BenchmarkId::new("fast", &label), |b| {
                b.iter_custom(|iters| {
                    time(iters, || {
                        seed_pipeline::<queuelab::queue::fast::ClosableQueue<u64>>(workers, cap)
                    })
                })
            });
            group.bench_function(BenchmarkId::new("crossbeam", &label), |b| {
                b.iter_custom(|iters| time(iters, || crossbeam_pipeline(workers, cap)))
            });
            if workers == [1, 1, 1] && cap == Cap::Unbounded {
                group.bench_function(BenchmarkId::new("polling-10ms", &label), |b| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| seed::polling_pipeline(ITEMS, Duration::from_millis(10)).0)
                            .sum()
                    })
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
