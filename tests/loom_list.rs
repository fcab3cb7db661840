#![cfg(loom)]
//! Loom models of step 7, `queue::list::ClosableQueue`: step 4's models
//! (`tests/loom_closable/cases.rs`, without those where the bound is the
//! point), plus models of what is new in the list of blocks. Under loom a
//! block has 2 slots, so three items cross a block's end:
//! - two producers and one consumer across a block's end: the put that
//!   claims a block's last slot links the next block while the other put
//!   waits for it;
//! - a consumer finishes a block (reads its last slot) while the producer of
//!   that slot is still writing it, and while another consumer is still
//!   reading the block's first slot: the block is freed once, by whichever
//!   reader finishes last, after every access to it;
//! - `close` and `close_now` race the puts that cross a block's end.
//!
//! Blocks are allocated with `loom::alloc` (`src/sync.rs`): a model that
//! ends with a block not freed fails as a leak, and freeing a block touches
//! each slot's item for writing, so loom checks every access to an item
//! against the free.
//!
//! How far loom gets (release build, a 2-core machine shared with other
//! work). With `LOOM_MAX_PREEMPTIONS=2` every model passes, in 58 s in all:
//! `step7::cases::task_done_join_two_workers` takes 47 s (912,842
//! interleavings), `step7::cases::empty_two_blocked_consumers_one_producer`
//! 5 s, `list::two_producers_one_consumer_across_a_block_boundary` 3 s, the
//! others less. With bound 3 the `list::` models pass in 59 s, 52 s of it
//! for the two producers (986,040 interleavings). `.ci/run` runs this file
//! at bound 2, and `task_done_join_two_workers` at bound 1 (1 s).
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom
//! cargo test --release --test loom_list -- --nocapture`

mod loom_common;

/// Step 4's models (`tests/loom_closable/cases.rs`), run on step 7: those
/// where the bound is the point are left out (`bounded_cases!`), and where
/// a model asks for a bounded queue only to have a queue, an unbounded one
/// stands in.
#[path = "loom_closable"]
mod step7 {
    use queuelab::queue::list::ClosableQueue;
    const STEP: &str = "step7";
    fn unbounded<T>() -> ClosableQueue<T> {
        ClosableQueue::unbounded()
    }
    macro_rules! bounded_cases {
        ($($case:item)*) => {};
    }
    /// `ClosableQueue::bounded(capacity)` for step 7: an unbounded queue.
    trait StandIn {
        fn bounded(capacity: usize) -> Self;
    }
    impl<T> StandIn for ClosableQueue<T> {
        fn bounded(_capacity: usize) -> Self {
            ClosableQueue::unbounded()
        }
    }
    #[allow(clippy::duplicate_mod)] // tests/loom_closable.rs loads the same file, on purpose
    mod cases;
}

/// The models of what is new in step 7.
mod list {
    use std::sync::Arc;

    use loom::thread;
    use queuelab::Closed;
    use queuelab::queue::list::ClosableQueue;

    use crate::loom_common::{Outcomes, check};

    /// Two producers put three items (one puts 0 and 1, the other 2) while a
    /// consumer takes three: the items fill the first block and cross into the
    /// second, whichever put claims the first block's last slot. Every item
    /// arrives once, each producer's in the order it put them.
    #[test]
    fn two_producers_one_consumer_across_a_block_boundary() {
        check(
            "list::two_producers_one_consumer_across_a_block_boundary",
            || {
                let q = Arc::new(ClosableQueue::unbounded());
                let producers: Vec<_> = [vec![0, 1], vec![2]]
                    .into_iter()
                    .map(|items| {
                        let q = Arc::clone(&q);
                        thread::spawn(move || {
                            for item in items {
                                q.put(item).unwrap();
                            }
                        })
                    })
                    .collect();
                let got: Vec<i32> = (0..3).map(|_| q.get().unwrap()).collect();
                for p in producers {
                    p.join().unwrap();
                }
                let first = got.iter().position(|&item| item == 0).unwrap();
                let second = got.iter().position(|&item| item == 1).unwrap();
                assert!(first < second, "one producer's items out of order: {got:?}");
                let mut sorted = got.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, [0, 1, 2]);
                assert!(q.is_empty());
            },
        );
    }

    /// The first block holds item 0; a producer puts item 1 into its last slot
    /// (and links the next block) while two consumers each take one item. The
    /// consumer of item 1 may finish the block while its put is still writing,
    /// or before the consumer of item 0 has read it: the block is freed by
    /// whichever reader finishes last, after every access to it (a free that
    /// comes too early is a race loom reports, and a block never freed a leak).
    #[test]
    fn a_consumer_finishes_a_block_while_its_last_slot_is_written() {
        check(
            "list::a_consumer_finishes_a_block_while_its_last_slot_is_written",
            || {
                let q = Arc::new(ClosableQueue::unbounded());
                q.put(0).unwrap();
                let producer = {
                    let q = Arc::clone(&q);
                    thread::spawn(move || q.put(1).unwrap())
                };
                let consumers: Vec<_> = (0..2)
                    .map(|_| {
                        let q = Arc::clone(&q);
                        thread::spawn(move || q.get().unwrap())
                    })
                    .collect();
                let mut got: Vec<i32> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
                producer.join().unwrap();
                got.sort_unstable();
                assert_eq!(got, [0, 1]);
                assert_eq!(q.len(), 0);
            },
        );
    }

    /// A producer puts items 1 and 2 behind item 0, crossing into the second
    /// block, while the queue is closed. Each item is either handed out after
    /// the close (in order) or handed back to the producer, never both, never
    /// neither; and once one put is refused, so is every later one.
    #[test]
    fn close_races_puts_across_a_block_boundary() {
        let outcomes = Outcomes::default();
        let seen = outcomes.clone();
        check(
            "list::close_races_puts_across_a_block_boundary",
            move || {
                let q = Arc::new(ClosableQueue::unbounded());
                q.put(0).unwrap();
                let producer = {
                    let q = Arc::clone(&q);
                    thread::spawn(move || {
                        [1, 2]
                            .into_iter()
                            .filter_map(|item| q.put(item).err().map(Closed::into_inner))
                            .collect::<Vec<i32>>()
                    })
                };
                q.close();
                let got: Vec<i32> = q.iter().collect();
                let handed_back = producer.join().unwrap();
                seen.saw(match (got.as_slice(), handed_back.as_slice()) {
                    ([0, 1, 2], []) => "both in",
                    ([0, 1], [2]) => "1 in, 2 back",
                    ([0], [1, 2]) => "both back",
                    other => panic!("an item lost, doubled or out of order: {other:?}"),
                });
                assert_eq!(q.unfinished_tasks(), 0);
            },
        );
        outcomes.assert_exactly(&["both in", "1 in, 2 back", "both back"]);
    }

    /// `close_now` races a producer that puts items 1 and 2 behind item 0,
    /// across the first block's end: `close_now` hands back every item that got
    /// in (waiting for a put still writing), the producer gets the others back,
    /// and nothing is left unfinished.
    #[test]
    fn close_now_races_puts_across_a_block_boundary() {
        let outcomes = Outcomes::default();
        let seen = outcomes.clone();
        check(
            "list::close_now_races_puts_across_a_block_boundary",
            move || {
                let q = Arc::new(ClosableQueue::unbounded());
                q.put(0).unwrap();
                let producer = {
                    let q = Arc::clone(&q);
                    thread::spawn(move || {
                        [1, 2]
                            .into_iter()
                            .filter_map(|item| q.put(item).err().map(Closed::into_inner))
                            .collect::<Vec<i32>>()
                    })
                };
                let returned = q.close_now();
                let handed_back = producer.join().unwrap();
                seen.saw(match (returned.as_slice(), handed_back.as_slice()) {
                    ([0, 1, 2], []) => "both returned",
                    ([0, 1], [2]) => "1 returned, 2 back",
                    ([0], [1, 2]) => "both back",
                    other => panic!("an item lost, doubled or out of order: {other:?}"),
                });
                assert_eq!(q.unfinished_tasks(), 0);
                assert_eq!(q.get(), None);
            },
        );
        outcomes.assert_exactly(&["both returned", "1 returned, 2 back", "both back"]);
    }

    /// Three items put, one taken, and the queue dropped with the other two
    /// inside, one in each block: both blocks are freed (loom reports a leak
    /// otherwise) and the items dropped with them.
    #[test]
    fn dropped_with_items_in_two_blocks() {
        check("list::dropped_with_items_in_two_blocks", || {
            let q = Arc::new(ClosableQueue::unbounded());
            let producer = {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    for item in 0..3 {
                        q.put(Arc::new(item)).unwrap();
                    }
                })
            };
            let first = q.get().unwrap();
            producer.join().unwrap();
            assert_eq!(*first, 0);
            let inside = Arc::new(7);
            q.put(Arc::clone(&inside)).unwrap();
            drop(q);
            assert_eq!(Arc::strong_count(&inside), 1, "an item not dropped");
        });
    }
}
