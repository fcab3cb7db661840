//! Seed 002's stage functions and its first, polling pipeline, shared by
//! `benches/pipeline.rs` (which times it) and `benches/polling_cost.rs`
//! (which counts its polls).
#![allow(dead_code)] // each bench uses a different part

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use queuelab::PollingQueue;

/// The seed's stage functions, as no-ops the optimiser cannot remove.
pub fn download(item: u64) -> u64 {
    black_box(item)
}
pub fn resize(item: u64) -> u64 {
    black_box(item)
}
pub fn upload(item: u64) -> u64 {
    black_box(item)
}

/// Seed 002's first program: `MyQueue` (here `PollingQueue`), one worker
/// per stage that polls its queue and sleeps `sleep` whenever it is empty,
/// and a main thread that spins on the done queue's length until all
/// `items` are there. Returns the time from the start until the last item
/// reached the done queue (the workers' last sleep before they see the stop
/// flag is not counted) and how many polls the workers made (the seed
/// reports 3,009 for 1,000 items).
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
                // The seed's workers never stop; these stop when told, so
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
            // The seed waits like this too ("do something useful meanwhile").
            std::hint::spin_loop();
        }
        let elapsed = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        elapsed
    });
    (elapsed, polls.into_inner())
}
