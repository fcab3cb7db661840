#![cfg(not(loom))]
//! The two workers of Effective Python, Item 55: the polling worker stops when
//! told and its counts add up; the stoppable worker ends when its input is
//! closed and drained, and hands back a result it could not deliver.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use queuelab::{ClosableQueue, Closed, PollStrategy, PollingQueue, PollingWorker, StoppableWorker};

const ITEMS: u64 = if cfg!(debug_assertions) { 300 } else { 3000 };

const STRATEGIES: [PollStrategy; 3] = [
    PollStrategy::Sleep(Duration::from_millis(1)),
    PollStrategy::Yield,
    PollStrategy::Backoff,
];

/// Item 55's first pipeline: three polling workers in a row, the main
/// thread polling the done queue until every item is there.
#[test]
fn polling_pipeline_processes_every_item_and_the_counts_add_up() {
    for strategy in STRATEGIES {
        let queues: Vec<Arc<PollingQueue<u64>>> =
            (0..4).map(|_| Arc::new(PollingQueue::new())).collect();
        let workers: Vec<PollingWorker> = (0..3)
            .map(|k| {
                PollingWorker::spawn(
                    Arc::clone(&queues[k]),
                    Arc::clone(&queues[k + 1]),
                    strategy,
                    move |n| n * 2 + k as u64,
                )
            })
            .collect();
        for n in 0..ITEMS {
            queues[0].put(n);
        }
        let mut done = Vec::new();
        while done.len() < ITEMS as usize {
            match queues[3].try_get() {
                Some(n) => done.push(n),
                None => thread::yield_now(),
            }
        }
        let counts: Vec<_> = workers.into_iter().map(PollingWorker::stop).collect();
        for (k, c) in counts.iter().enumerate() {
            assert_eq!(c.work_done, ITEMS, "{strategy:?} worker {k}");
            assert!(c.polls >= c.work_done, "{strategy:?} worker {k}: {c:?}");
            assert_eq!(c.polls, c.work_done + c.empty_polls());
        }
        // One worker per stage: the order is kept.
        let expected: Vec<u64> = (0..ITEMS).map(|n| ((n * 2) * 2 + 1) * 2 + 2).collect();
        assert_eq!(done, expected, "{strategy:?}");
        assert!(queues.iter().all(|q| q.is_empty()));
    }
}

#[test]
fn stop_leaves_untaken_items_in_the_input() {
    for strategy in STRATEGIES {
        let input = Arc::new(PollingQueue::new());
        let output = Arc::new(PollingQueue::new());
        let worker = PollingWorker::spawn(Arc::clone(&input), Arc::clone(&output), strategy, |n| n);
        let counts = worker.stop();
        assert_eq!(counts.work_done, 0);
        // Put after the stop: nobody takes it, and it is not lost.
        input.put(7);
        assert_eq!(input.try_get(), Some(7));
        assert!(output.is_empty());
    }
}

/// Sets its flag when dropped: the worker's closure owns one, so the flag
/// says that the worker's thread has ended.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn dropping_a_polling_worker_stops_and_joins_it() {
    let ended = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(Arc::clone(&ended));
    let q = Arc::new(PollingQueue::<u8>::new());
    // A sleep of an hour: dropping must wake the worker, not wait it out.
    let worker = PollingWorker::spawn(
        Arc::clone(&q),
        Arc::clone(&q),
        PollStrategy::Sleep(Duration::from_secs(3600)),
        move |b| {
            let _keep = &flag;
            b
        },
    );
    // Drop in another thread, so that a drop that waits out the hour fails
    // the test after two minutes instead of blocking CI (a hang check, not a
    // speed check).
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        drop(worker);
        tx.send(()).unwrap();
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("dropping the worker did not wake it from its sleep");
    assert!(
        ended.load(Ordering::SeqCst),
        "the worker's thread was still running"
    );
}

#[test]
fn a_panic_in_a_polling_worker_comes_out_of_stop() {
    let input = Arc::new(PollingQueue::new());
    let output = Arc::new(PollingQueue::<u8>::new());
    let worker = PollingWorker::spawn(
        Arc::clone(&input),
        output,
        PollStrategy::Yield,
        |_: u8| -> u8 { panic!("bad item") },
    );
    input.put(1);
    while !input.is_empty() {
        // The worker has taken the item: its function will panic.
        thread::yield_now();
    }
    let err = panic::catch_unwind(AssertUnwindSafe(|| worker.stop())).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"bad item"));
}

/// Item 55's second pipeline with 3/4/5 stoppable workers, shut down
/// Item 55's way: close a queue, `join` it, join its threads, next stage.
#[test]
fn stoppable_workers_3_4_5_process_every_item() {
    let queues: Vec<Arc<ClosableQueue<u64>>> = (0..4)
        .map(|_| Arc::new(ClosableQueue::bounded(8)))
        .collect();
    let stages: Vec<Vec<StoppableWorker<u64>>> = [3, 4, 5]
        .iter()
        .enumerate()
        .map(|(k, &count)| {
            (0..count)
                .map(|_| {
                    StoppableWorker::spawn(
                        Arc::clone(&queues[k]),
                        Arc::clone(&queues[k + 1]),
                        move |n| n + k as u64,
                    )
                })
                .collect()
        })
        .collect();
    let done = Arc::clone(&queues[3]);
    let collector = thread::spawn(move || done.iter().collect::<Vec<_>>());
    for n in 0..ITEMS {
        queues[0].put(n).unwrap();
    }
    for (k, workers) in stages.into_iter().enumerate() {
        queues[k].close();
        queues[k].join();
        let processed: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
        assert_eq!(processed, ITEMS, "stage {k}");
    }
    queues[3].close();
    let mut out = collector.join().unwrap();
    out.sort_unstable();
    assert_eq!(out, (0..ITEMS).map(|n| n + 3).collect::<Vec<_>>());
}

#[test]
fn a_stoppable_worker_hands_back_what_it_cannot_deliver() {
    let input = Arc::new(ClosableQueue::unbounded());
    let output = Arc::new(ClosableQueue::unbounded());
    output.close();
    let worker = StoppableWorker::spawn(Arc::clone(&input), output, |s: &str| s.to_uppercase());
    input.put("first").unwrap();
    input.put("second").unwrap();
    assert_eq!(worker.join(), Err(Closed("FIRST".to_string())));
    // The item it did not take is still in the input, and the one it took
    // is marked done: only "second" is unfinished.
    assert_eq!(input.try_get(), Ok("second"));
    assert_eq!(input.unfinished_tasks(), 1);
}

#[test]
fn a_panic_in_a_stoppable_worker_comes_out_of_join_and_input_join_does_not_hang() {
    let input = Arc::new(ClosableQueue::unbounded());
    let output = Arc::new(ClosableQueue::<u8>::unbounded());
    let worker = StoppableWorker::spawn(Arc::clone(&input), output, |_: u8| -> u8 {
        panic!("cannot resize")
    });
    input.put(1).unwrap();
    input.join(); // the panicking iteration still marked the item done
    let err = panic::catch_unwind(AssertUnwindSafe(|| worker.join())).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"cannot resize"));
}
