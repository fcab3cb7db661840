#![cfg(not(loom))]
//! Conservation under contention, written once over the `Queue` trait and
//! run for every queue of the ladder: M producers and N consumers move
//! items through one queue, and afterwards every item must have been
//! received exactly once, each consumer having seen each producer's items in
//! the order they were put.
//!
//! Every closable queue runs: step 4 (`queue::closable`), step 5
//! (`queue::fast`), step 6 (`queue::ring`, bounded only) and step 7
//! (`queue::list`, unbounded only).
//!
//! Steps 1-3 cannot be closed, so consumers are stopped with sentinels: the
//! queue carries `Option`s, and once every producer has finished, one `None`
//! per consumer is pushed.
//!
//! Size: at least 1,000,000 items per queue in release builds
//! (`cargo test --release --test 'stress_*'`), 20,000 in debug builds so
//! that plain `cargo test` stays quick.

mod common;

use std::thread;

use common::assert_each_item_once;
use queuelab::queue::{closable, fast, list, ring};
use queuelab::{BlockingQueue, BoundedQueue, PollingQueue, Queue};

/// An item: (producer, sequence number), or `None` to stop a consumer.
type Msg = Option<(usize, u64)>;

/// Items per queue, spread over all the shapes below.
const ITEMS_PER_QUEUE: u64 = if cfg!(debug_assertions) {
    20_000
} else {
    1_000_000
};

/// (producers, consumers). The machine has 2 cores; most shapes have more
/// threads than that, so threads are preempted in the middle of operations.
const SHAPES: &[(usize, usize)] = &[(1, 1), (1, 8), (8, 1), (2, 2), (3, 5), (8, 8)];

/// Runs every shape on queues made by `new_queue` and returns how many items
/// went through in total.
fn stress<Q: Queue<Msg>>(new_queue: impl Fn() -> Q) -> u64 {
    let per_shape = ITEMS_PER_QUEUE.div_ceil(SHAPES.len() as u64);
    let mut total = 0;
    for &(producers, consumers) in SHAPES {
        let per_producer = per_shape.div_ceil(producers as u64);
        total += conservation(&new_queue(), producers, consumers, per_producer);
    }
    assert!(total >= ITEMS_PER_QUEUE);
    total
}

/// One run: returns the number of items moved.
fn conservation<Q: Queue<Msg>>(
    q: &Q,
    producers: usize,
    consumers: usize,
    per_producer: u64,
) -> u64 {
    let received: Vec<Vec<Vec<u64>>> = thread::scope(|s| {
        let consumer_threads: Vec<_> = (0..consumers)
            .map(|_| s.spawn(|| consume(q, producers)))
            .collect();
        let producer_threads: Vec<_> = (0..producers)
            .map(|p| {
                s.spawn(move || {
                    for seq in 0..per_producer {
                        assert!(q.push(Some((p, seq))).is_ok(), "push refused an item");
                    }
                })
            })
            .collect();
        for t in producer_threads {
            t.join().unwrap();
        }
        // Every item is in (or through) the queue: one sentinel per consumer.
        for _ in 0..consumers {
            assert!(q.push(None).is_ok());
        }
        consumer_threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect()
    });
    assert!(q.is_empty());
    let sizes = assert_each_item_once(producers, per_producer, &received);
    sizes.iter().sum()
}

/// Takes items until a sentinel arrives; returns, per producer, the sequence
/// numbers received, in the order received.
fn consume<Q: Queue<Msg>>(q: &Q, producers: usize) -> Vec<Vec<u64>> {
    let mut seen = vec![Vec::new(); producers];
    loop {
        match q.pop() {
            Some(Some((p, seq))) => seen[p].push(seq),
            Some(None) => return seen,
            None => panic!("pop returned None, but nobody closed the queue"),
        }
    }
}

#[test]
fn polling_queue_conserves_items() {
    let moved = stress(PollingQueue::new);
    println!("PollingQueue: {moved} items");
}

#[test]
fn blocking_queue_conserves_items() {
    let moved = stress(BlockingQueue::new);
    println!("BlockingQueue: {moved} items");
}

#[test]
fn bounded_queue_of_capacity_1_conserves_items() {
    let moved = stress(|| BoundedQueue::new(1));
    println!("BoundedQueue(1): {moved} items");
}

#[test]
fn bounded_queue_of_capacity_64_conserves_items() {
    let moved = stress(|| BoundedQueue::new(64));
    println!("BoundedQueue(64): {moved} items");
}

#[test]
fn step4_unbounded_closable_queue_conserves_items() {
    let moved = stress(closable::ClosableQueue::unbounded);
    println!("step 4, ClosableQueue::unbounded(): {moved} items");
}

#[test]
fn step4_closable_queue_of_capacity_1_conserves_items() {
    let moved = stress(|| closable::ClosableQueue::bounded(1));
    println!("step 4, ClosableQueue::bounded(1): {moved} items");
}

#[test]
fn step4_closable_queue_of_capacity_64_conserves_items() {
    let moved = stress(|| closable::ClosableQueue::bounded(64));
    println!("step 4, ClosableQueue::bounded(64): {moved} items");
}

#[test]
fn step5_unbounded_closable_queue_conserves_items() {
    let moved = stress(fast::ClosableQueue::unbounded);
    println!("step 5, ClosableQueue::unbounded(): {moved} items");
}

#[test]
fn step5_closable_queue_of_capacity_1_conserves_items() {
    let moved = stress(|| fast::ClosableQueue::bounded(1));
    println!("step 5, ClosableQueue::bounded(1): {moved} items");
}

#[test]
fn step5_closable_queue_of_capacity_64_conserves_items() {
    let moved = stress(|| fast::ClosableQueue::bounded(64));
    println!("step 5, ClosableQueue::bounded(64): {moved} items");
}

#[test]
fn step6_closable_queue_of_capacity_1_conserves_items() {
    let moved = stress(|| ring::ClosableQueue::bounded(1));
    println!("step 6, ClosableQueue::bounded(1): {moved} items");
}

#[test]
fn step6_closable_queue_of_capacity_2_conserves_items() {
    let moved = stress(|| ring::ClosableQueue::bounded(2));
    println!("step 6, ClosableQueue::bounded(2): {moved} items");
}

#[test]
fn step6_closable_queue_of_capacity_64_conserves_items() {
    let moved = stress(|| ring::ClosableQueue::bounded(64));
    println!("step 6, ClosableQueue::bounded(64): {moved} items");
}

#[test]
fn step7_unbounded_closable_queue_conserves_items() {
    let moved = stress(list::ClosableQueue::unbounded);
    println!("step 7, ClosableQueue::unbounded(): {moved} items");
}
