//! The pipeline of Effective Python (2nd edition), Item 55, "Use Queue to
//! Coordinate Work Between Threads" (the module's name `seed` is the
//! project's old name for that source): its stage functions, its first,
//! polling pipeline, and its last pipeline (download -> resize -> upload) over
//! the ladder's closable queues and over channels; shared by `benches/pipeline.rs`,
//! `benches/side_by_side.rs` and `benches/polling_cost.rs`.
#![allow(dead_code)] // each bench uses a different part

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use queuelab::PollingQueue;

use super::{Build, Cap, Channel};

/// Item 55's stage functions, as no-ops the optimiser cannot remove.
pub fn download(item: u64) -> u64 {
    black_box(item)
}
pub fn resize(item: u64) -> u64 {
    black_box(item)
}
pub fn upload(item: u64) -> u64 {
    black_box(item)
}

/// Item 55's first program: `MyQueue` (here `PollingQueue`), one worker
/// per stage that polls its queue and sleeps `sleep` whenever it is empty,
/// and a main thread that spins on the done queue's length until all
/// `items` are there. Returns the time from the start until the last item
/// reached the done queue (the workers' last sleep before they see the stop
/// flag is not counted) and how many polls the workers made (the study notes
/// on Item 55 report 3,009 for 1,000 items).
pub fn polling_pipeline(items: u64, sleep: Duration) -> (Duration, u64) {
    let start = Instant::now();
    let queues: [PollingQueue<u64>; 4] = Default::default();
    let stop = AtomicBool::new(false);
    let polls = AtomicU64::new(0);
    let funcs: [fn(u64) -> u64; 3] = [download, resize, upload];
    let elapsed = thread::scope(|s| {
        for (stage, func) in funcs.into_iter().enumerate() {
            let (in_queue, out_queue) = (&queues[stage], &queues[stage + 1]);
            let (stop, polls) = (&stop, &polls);
            s.spawn(move || {
                let mut polled = 0;
                // Item 55's workers never stop; these stop when told, so
                // that the run can end.
                while !stop.load(Ordering::Relaxed) {
                    polled += 1;
                    match in_queue.try_get() {
                        Some(item) => out_queue.put(func(item)),
                        None => thread::sleep(sleep),
                    }
                }
                polls.fetch_add(polled, Ordering::Relaxed);
            });
        }
        for item in 0..items {
            queues[0].put(item);
        }
        while (queues[3].len() as u64) < items {
            // Item 55 waits like this too ("do something useful meanwhile").
            std::hint::spin_loop();
        }
        let elapsed = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        elapsed
    });
    (elapsed, polls.into_inner())
}

/// What Item 55's pipeline (Effective Python) needs from a closable queue,
/// beyond `Build` (and so `queuelab::Queue`, whose `len` it uses), so that
/// steps 4, 5 and 6 share one body.
pub trait SeedQueue: Build + Send + Sync {
    fn put(&self, item: u64);
    /// Item 55's `StoppableWorker.run`: `for item in in_queue: out_queue.put(func(item))`.
    fn work(&self, func: fn(u64) -> u64, out: &Self);
    fn close(&self);
    fn join(&self);
}

macro_rules! seed_queue {
    ($queue:ty) => {
        impl SeedQueue for $queue {
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
        }
    };
}
seed_queue!(queuelab::queue::closable::ClosableQueue<u64>);
seed_queue!(queuelab::queue::fast::ClosableQueue<u64>);
seed_queue!(queuelab::queue::ring::ClosableQueue<u64>);
seed_queue!(queuelab::queue::list::ClosableQueue<u64>);

// ANCHOR: seed_pipeline
/// Item 55's `start_threads`: `count` workers moving items from `in_queue`
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

/// Item 55's `stop_threads`: close the queue (one `close` instead of one
/// sentinel per thread), wait until every item in it is done, join the
/// threads.
fn stop_threads<Q: SeedQueue>(queue: &Q, threads: Vec<thread::ScopedJoinHandle<'_, ()>>) {
    queue.close();
    queue.join();
    for thread in threads {
        thread.join().expect("worker panicked");
    }
}

/// Item 55's last program (Effective Python's closable pipeline) over `Q`, with
/// `workers` threads per stage and `items` items; returns the time from
/// starting the workers until the last stage stopped. The capacity bounds the
/// three stage queues; the done queue never fills: it is unbounded, or, for a
/// queue that is bounded only, has room for every item (made before the clock
/// starts, as it allocates every slot at once). `None` if `Q` has no such
/// capacity.
pub fn seed_pipeline<Q: SeedQueue>(workers: [usize; 3], cap: Cap, items: u64) -> Option<Duration> {
    let download_queue = Q::build(cap)?;
    let resize_queue = Q::build(cap)?;
    let upload_queue = Q::build(cap)?;
    let done_queue = Q::build(Cap::Unbounded)
        .or_else(|| Q::build(Cap::Bounded(items as usize)))
        .expect("a queue has one capacity or the other");
    let start = Instant::now();
    thread::scope(|s| {
        let download_threads =
            start_threads(s, workers[0], download, &download_queue, &resize_queue);
        let resize_threads = start_threads(s, workers[1], resize, &resize_queue, &upload_queue);
        let upload_threads = start_threads(s, workers[2], upload, &upload_queue, &done_queue);
        for item in 0..items {
            download_queue.put(item);
        }
        stop_threads(&download_queue, download_threads);
        stop_threads(&resize_queue, resize_threads);
        stop_threads(&upload_queue, upload_threads);
    });
    let elapsed = start.elapsed();
    assert_eq!(done_queue.len() as u64, items, "an item was lost");
    Some(elapsed)
}
// ANCHOR_END: seed_pipeline

// ANCHOR: channel_pipeline
/// The same pipeline over a channel that has no `close` and no `join`
/// (crossbeam-channel, flume, kanal, std): a stage ends when every sender of
/// its input channel is gone, so "stop" is dropping the senders and joining
/// the threads. Each worker holds one receiving end of its input and one
/// sending end of its output. Timed like `seed_pipeline`. `None` if `C` has
/// no such capacity.
pub fn channel_pipeline<C: Channel>(workers: [usize; 3], cap: Cap, items: u64) -> Option<Duration> {
    let (download_tx, download_rx) = C::open(cap, 1, workers[0])?;
    let (resize_tx, resize_rx) = C::open(cap, workers[0], workers[1])?;
    let (upload_tx, upload_rx) = C::open(cap, workers[1], workers[2])?;
    let (done_tx, mut done_rx) = C::open(Cap::Unbounded, workers[2], 1)?;
    let start = Instant::now();
    thread::scope(|s| {
        let start = |func: fn(u64) -> u64, rxs: Vec<C::Rx>, txs: Vec<C::Tx>| {
            rxs.into_iter()
                .zip(txs)
                .map(|(mut rx, tx)| {
                    s.spawn(move || {
                        while let Some(item) = C::recv(&mut rx) {
                            C::send(&tx, func(item));
                        }
                    })
                })
                .collect::<Vec<_>>()
        };
        let stages = [
            start(download, download_rx, resize_tx),
            start(resize, resize_rx, upload_tx),
            start(upload, upload_rx, done_tx),
        ];
        for item in 0..items {
            C::send(&download_tx[0], item);
        }
        drop(download_tx);
        for threads in stages {
            for thread in threads {
                thread.join().expect("worker panicked");
            }
        }
    });
    let elapsed = start.elapsed();
    let done = std::iter::from_fn(|| C::recv(&mut done_rx[0])).count();
    assert_eq!(done as u64, items, "an item was lost");
    Some(elapsed)
}
// ANCHOR_END: channel_pipeline
