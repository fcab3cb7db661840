//! The cases of `closable_api.rs`, written once for every closable queue:
//! `ClosableQueue` is whichever step the parent module imports. The cases
//! where the bound is the point sit inside `bounded_cases!`, which step 7's
//! driver defines to leave them out. The cases whose contract holds only
//! in one process sit inside `in_process_cases!`, which the driver of
//! `RedisQueue` (`redis_contract.rs`) defines to leave them out.

use std::panic;
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use queuelab::{Closed, GetTimeoutError, TaskDoneError, TryGetError};

use super::*;
use crate::common::{panic_message, spawn_until_blocked};

bounded_cases! {
use queuelab::{PutTimeoutError, Queue, TryPutError};
use crate::common::assert_zero_capacity_panic;
}

in_process_cases! {
use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use crate::common::within_deadline;
}

/// A time limit that never runs out while a test is running, so a timed
/// wait that returns was woken by the event under test.
const LONG: Duration = Duration::from_secs(3600);

// ---------------------------------------------------------------------------
// Construction, capacity, len
// ---------------------------------------------------------------------------

bounded_cases! {
#[test]
fn capacity_is_the_bound() {
    assert_eq!(ClosableQueue::<u8>::bounded(1).capacity(), Some(1));
    assert_eq!(ClosableQueue::<u8>::bounded(3).capacity(), Some(3));
}

#[test]
fn zero_capacity_panics_with_a_message_that_says_why() {
    assert_zero_capacity_panic(panic::catch_unwind(|| ClosableQueue::<u8>::bounded(0)));
}

#[test]
fn len_and_is_empty_follow_puts_and_gets() {
    let q = ClosableQueue::bounded(2);
    assert_eq!((q.len(), q.is_empty()), (0, true));
    q.put('a').unwrap();
    assert_eq!((q.len(), q.is_empty()), (1, false));
    q.put('b').unwrap();
    assert_eq!(q.len(), 2);
    q.try_put('c').unwrap_err(); // full: not counted
    assert_eq!(q.len(), 2);
    q.get().unwrap();
    assert_eq!(q.len(), 1);
    q.close();
    assert_eq!(q.len(), 1); // closing keeps the items
    q.get().unwrap();
    assert_eq!((q.len(), q.is_empty()), (0, true));
}
}

#[test]
fn items_come_out_in_the_order_they_went_in() {
    let q = unbounded();
    for i in 0..10 {
        q.put(i).unwrap();
    }
    q.close();
    assert_eq!(q.iter().collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------
// Error paths that do not block
// ---------------------------------------------------------------------------

#[test]
fn put_on_a_closed_queue_hands_the_item_back() {
    let q = unbounded();
    q.close();
    let err = q.put(String::from("late")).unwrap_err();
    assert_eq!(err, Closed(String::from("late")));
    assert_eq!(err.into_inner(), "late");
    assert!(q.is_empty());
    assert_eq!(q.unfinished_tasks(), 0); // a refused item is no task
}

bounded_cases! {
#[test]
fn try_put_says_full_and_then_closed() {
    let q = ClosableQueue::bounded(1);
    assert_eq!(q.try_put(1), Ok(()));
    let full = q.try_put(2).unwrap_err();
    assert_eq!(full, TryPutError::Full(2));
    assert!(full.is_full() && !full.is_closed());
    q.close();
    // Full *and* closed: closed wins, since waiting for room is pointless.
    let closed = q.try_put(3).unwrap_err();
    assert_eq!(closed, TryPutError::Closed(3));
    assert!(closed.is_closed() && !closed.is_full());
    assert_eq!(q.try_get(), Ok(1)); // the item inside was not disturbed
    assert_eq!(q.try_put(4), Err(TryPutError::Closed(4))); // room, but closed
}

#[test]
fn put_timeout_says_timeout_and_then_closed() {
    let q = ClosableQueue::bounded(1);
    assert_eq!(q.put_timeout(1, Duration::ZERO), Ok(()));
    assert_eq!(
        q.put_timeout(2, Duration::ZERO),
        Err(PutTimeoutError::Timeout(2))
    );
    assert_eq!(
        q.put_timeout(3, Duration::from_millis(1)),
        Err(PutTimeoutError::Timeout(3))
    );
    q.close();
    // Closed answers at once, even with a long time limit on a full queue.
    assert_eq!(q.put_timeout(4, LONG), Err(PutTimeoutError::Closed(4)));
    assert_eq!(q.get(), Some(1));
    assert_eq!(q.put_timeout(5, LONG), Err(PutTimeoutError::Closed(5)));
    assert!(q.is_empty());
}
}

#[test]
fn put_timeout_with_a_huge_limit_does_not_overflow() {
    let q = ClosableQueue::bounded(1);
    assert_eq!(q.put_timeout(1, Duration::MAX), Ok(()));
    assert_eq!(q.get_timeout(Duration::MAX), Ok(1));
}

#[test]
fn try_get_says_empty_and_then_closed() {
    let q = unbounded();
    assert_eq!(q.try_get(), Err(TryGetError::Empty));
    q.put(1).unwrap();
    q.close();
    assert_eq!(q.try_get(), Ok(1)); // closed, but not yet drained
    assert_eq!(q.try_get(), Err(TryGetError::Closed));
}

#[test]
fn get_timeout_says_timeout_and_then_closed() {
    let q = unbounded();
    assert_eq!(q.get_timeout(Duration::ZERO), Err(GetTimeoutError::Timeout));
    assert_eq!(
        q.get_timeout(Duration::from_millis(1)),
        Err(GetTimeoutError::Timeout)
    );
    q.put(1).unwrap();
    q.close();
    assert_eq!(q.get_timeout(LONG), Ok(1));
    // Closed and drained answers at once, whatever the time limit.
    assert_eq!(q.get_timeout(LONG), Err(GetTimeoutError::Closed));
}

#[test]
fn get_on_a_closed_and_drained_queue_returns_none_at_once() {
    let q = ClosableQueue::<u8>::bounded(3);
    q.close();
    assert_eq!(q.get(), None);
    assert_eq!(q.get(), None);
    assert_eq!(q.iter().next(), None);
}

// ---------------------------------------------------------------------------
// close and close_now
// ---------------------------------------------------------------------------

#[test]
fn close_keeps_the_items_inside_gettable() {
    let q = ClosableQueue::bounded(4);
    for i in 1..=4 {
        q.put(i).unwrap();
    }
    q.close();
    assert!(q.is_closed());
    assert_eq!(q.len(), 4);
    assert_eq!(q.get(), Some(1));
    assert_eq!(q.try_get(), Ok(2));
    assert_eq!(q.get_timeout(Duration::ZERO), Ok(3));
    assert_eq!(q.iter().collect::<Vec<_>>(), vec![4]);
    assert_eq!(q.get(), None);
}

#[test]
fn close_returns_true_once_and_then_false() {
    let q = unbounded::<u8>();
    assert!(!q.is_closed());
    assert!(q.close());
    assert!(q.is_closed());
    assert!(!q.close());
    assert!(!q.close());
    assert!(q.is_closed());
}

#[test]
fn of_many_racing_closes_exactly_one_returns_true() {
    const THREADS: usize = 8;
    let q = unbounded::<u8>();
    let start = Barrier::new(THREADS);
    let winners = thread::scope(|s| {
        let closers: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    q.close()
                })
            })
            .collect();
        closers
            .into_iter()
            .map(|c| c.join().unwrap())
            .filter(|&won| won)
            .count()
    });
    assert_eq!(winners, 1);
}

#[test]
fn close_now_hands_back_the_items_oldest_first() {
    let q = unbounded();
    for i in 1..=4 {
        q.put(i).unwrap();
    }
    assert_eq!(q.get(), Some(1)); // taken, not yet done
    assert_eq!(q.unfinished_tasks(), 4);
    assert_eq!(q.close_now(), vec![2, 3, 4]);
    // The handed-back items are no longer tasks; the taken one still is.
    assert_eq!(q.unfinished_tasks(), 1);
    assert!(q.is_closed());
    assert!(q.is_empty());
    assert_eq!(q.get(), None);
    assert_eq!(q.put(5), Err(Closed(5)));
    assert!(!q.close()); // close_now already closed it
    assert_eq!(q.close_now(), Vec::<i32>::new());
}

#[test]
fn close_now_after_close_still_hands_back_what_is_left() {
    let q = ClosableQueue::bounded(3);
    for i in 1..=3 {
        q.put(i).unwrap();
    }
    assert!(q.close());
    assert_eq!(q.get(), Some(1));
    q.task_done().unwrap();
    assert_eq!(q.close_now(), vec![2, 3]);
    assert_eq!(q.unfinished_tasks(), 0);
}

/// Python lets `task_done` mark an item before a `get` took it; here it is
/// refused, so `close_now` hands back exactly the items still unfinished.
#[test]
fn task_done_before_get_is_refused_and_close_now_stays_exact() {
    let q = unbounded();
    q.put('a').unwrap();
    q.put('b').unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(q.unfinished_tasks(), 2);
    assert_eq!(q.close_now(), vec!['a', 'b']);
    assert_eq!(q.unfinished_tasks(), 0);
    q.join(); // returns at once
}

// ---------------------------------------------------------------------------
// task_done and join
// ---------------------------------------------------------------------------

#[test]
fn task_done_counts_unfinished_tasks_down() {
    let q = unbounded();
    assert_eq!(q.unfinished_tasks(), 0);
    q.put(1).unwrap();
    q.put(2).unwrap();
    assert_eq!(q.unfinished_tasks(), 2);
    q.get().unwrap();
    assert_eq!(q.unfinished_tasks(), 2); // taking an item does not finish it
    q.task_done().unwrap();
    assert_eq!(q.unfinished_tasks(), 1);
    q.get().unwrap();
    q.task_done().unwrap();
    assert_eq!(q.unfinished_tasks(), 0);
}

#[test]
fn task_done_called_too_often_is_an_error_and_changes_nothing() {
    let q = unbounded();
    assert_eq!(q.task_done(), Err(TaskDoneError));
    q.put(1).unwrap();
    q.put(2).unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError)); // nothing taken yet
    assert_eq!(q.get(), Some(1));
    q.task_done().unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(q.task_done(), Err(TaskDoneError));
    // Nothing changed: 2 is still inside and unfinished, and the counter did
    // not wrap around (join would hang for ever if it had).
    assert_eq!(q.unfinished_tasks(), 1);
    assert_eq!(q.len(), 1);
    // And the queue goes on working normally.
    assert_eq!(q.get(), Some(2));
    q.task_done().unwrap();
    q.join();
}

// RedisQueue's `task_done` acks the oldest item its handle took, also one
// that an iterator of the handle holds: the misuse is not refused there
// (and RedisQueue has no `close_on_drop` guard).
in_process_cases! {
/// The habit of a `get` loop, carried into a `for` loop: the iterator marks
/// each item itself, so an extra `task_done` is refused instead of spending
/// the mark of an item still being processed (which let `join` return
/// early).
#[test]
fn task_done_inside_a_for_loop_is_refused() {
    let q = unbounded();
    for i in 0..4 {
        q.put(i).unwrap();
    }
    q.close();
    for (seen, _item) in q.iter().enumerate() {
        assert_eq!(q.task_done(), Err(TaskDoneError));
        // This item and the ones behind it are all still unfinished (and
        // step 6's iterator may still hold the marks of earlier ones).
        assert!(q.unfinished_tasks() >= 4 - seen);
    }
    assert_eq!(q.unfinished_tasks(), 0);
}

/// Two consumers iterate and call `task_done` by mistake; a `join` must
/// still wait for every item, so it sees all of them counted as processed.
#[test]
fn join_waits_for_every_item_even_when_consumers_misuse_task_done() {
    const ITEMS: usize = 8;
    let (processed_at_join, refused) = within_deadline(|| {
        let q = unbounded();
        let processed = AtomicUsize::new(0);
        let refused = AtomicUsize::new(0);
        let processed_at_join = thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _item in &q {
                        if q.task_done().is_err() {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                        processed.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            // However this block ends, the consumers' loops end with it.
            let _closer = q.close_on_drop();
            for i in 0..ITEMS {
                q.put(i).unwrap();
            }
            q.join();
            processed.load(Ordering::Relaxed)
        });
        (processed_at_join, refused.into_inner())
    });
    assert_eq!(processed_at_join, ITEMS, "join returned early");
    assert_eq!(refused, ITEMS);
}
}

#[test]
fn join_returns_at_once_when_nothing_is_unfinished() {
    let q = unbounded::<u8>();
    q.join();
    q.put(1).unwrap();
    q.get().unwrap();
    q.task_done().unwrap();
    q.join();
}

#[test]
fn join_blocks_until_the_last_task_is_done() {
    let q = unbounded();
    q.put('a').unwrap();
    q.put('b').unwrap();
    q.get().unwrap();
    q.get().unwrap();
    thread::scope(|s| {
        let joiner = spawn_until_blocked(s, || {
            q.join();
            q.unfinished_tasks()
        });
        assert!(
            !joiner.is_finished(),
            "join returned with 2 tasks unfinished"
        );

        q.task_done().unwrap();
        joiner.wait_until_blocked();
        assert!(
            !joiner.is_finished(),
            "join returned with 1 task unfinished"
        );

        q.task_done().unwrap();
        assert_eq!(joiner.join(), 0);
    });
}

#[test]
fn join_wakes_every_joiner() {
    let q = unbounded();
    q.put(1).unwrap();
    thread::scope(|s| {
        let joiners: Vec<_> = (0..3)
            .map(|_| spawn_until_blocked(s, || q.join()))
            .collect();
        assert!(joiners.iter().all(|j| !j.is_finished()));
        q.get().unwrap();
        q.task_done().unwrap();
        for j in joiners {
            j.join();
        }
    });
}

#[test]
fn close_does_not_release_join() {
    let q = unbounded();
    q.put(1).unwrap();
    thread::scope(|s| {
        let joiner = spawn_until_blocked(s, || q.join());
        assert!(q.close());
        joiner.wait_until_blocked();
        assert!(!joiner.is_finished(), "close released join");
        // The item inside is still a task: a worker drains and finishes it.
        assert_eq!(q.get(), Some(1));
        q.task_done().unwrap();
        joiner.join();
    });
}

#[test]
fn close_now_releases_a_join_that_waits_only_for_items_inside() {
    let q = unbounded();
    q.put(1).unwrap();
    q.put(2).unwrap();
    thread::scope(|s| {
        let joiner = spawn_until_blocked(s, || q.join());
        assert!(!joiner.is_finished());
        assert_eq!(q.close_now(), vec![1, 2]);
        joiner.join();
    });
    assert_eq!(q.unfinished_tasks(), 0);
}

#[test]
fn close_now_leaves_join_waiting_for_items_already_taken() {
    let q = unbounded();
    q.put(1).unwrap();
    q.put(2).unwrap();
    assert_eq!(q.get(), Some(1)); // a worker is busy with 1
    thread::scope(|s| {
        let joiner = spawn_until_blocked(s, || q.join());
        assert_eq!(q.close_now(), vec![2]);
        joiner.wait_until_blocked();
        assert!(
            !joiner.is_finished(),
            "join returned while 1 was in progress"
        );
        q.task_done().unwrap(); // the worker finishes 1
        joiner.join();
    });
}

// ---------------------------------------------------------------------------
// Blocking paths: a sleeping put is woken by get or close
// ---------------------------------------------------------------------------

bounded_cases! {
#[test]
fn blocked_put_is_woken_by_get() {
    let q = ClosableQueue::bounded(1);
    q.put(1).unwrap();
    thread::scope(|s| {
        let producer = spawn_until_blocked(s, || q.put(2));
        assert!(!producer.is_finished(), "put did not wait on a full queue");
        assert_eq!(q.get(), Some(1));
        assert_eq!(producer.join(), Ok(()));
    });
    assert_eq!(q.get(), Some(2));
}

#[test]
fn blocked_put_timeout_is_woken_by_get() {
    let q = ClosableQueue::bounded(1);
    q.put(1).unwrap();
    thread::scope(|s| {
        let producer = spawn_until_blocked(s, || q.put_timeout(2, LONG));
        assert!(!producer.is_finished());
        assert_eq!(q.try_get(), Ok(1));
        assert_eq!(producer.join(), Ok(()));
    });
    assert_eq!(q.get(), Some(2));
}

#[test]
fn blocked_put_is_woken_by_close_and_gets_its_item_back() {
    let q = ClosableQueue::bounded(1);
    q.put(1).unwrap();
    thread::scope(|s| {
        let producer = spawn_until_blocked(s, || q.put(2));
        assert!(!producer.is_finished());
        q.close();
        assert_eq!(producer.join(), Err(Closed(2)));
    });
    // Only the item put before the close is inside.
    assert_eq!(q.iter().collect::<Vec<_>>(), vec![1]);
}

#[test]
fn blocked_put_timeout_is_woken_by_close_and_gets_its_item_back() {
    let q = ClosableQueue::bounded(1);
    q.put(1).unwrap();
    thread::scope(|s| {
        let producer = spawn_until_blocked(s, || q.put_timeout(2, LONG));
        assert!(!producer.is_finished());
        q.close();
        assert_eq!(producer.join(), Err(PutTimeoutError::Closed(2)));
    });
    assert_eq!(q.len(), 1);
}

#[test]
fn blocked_put_is_woken_by_close_now() {
    let q = ClosableQueue::bounded(1);
    q.put(1).unwrap();
    thread::scope(|s| {
        let producer = spawn_until_blocked(s, || q.put(2));
        assert!(!producer.is_finished());
        assert_eq!(q.close_now(), vec![1]);
        assert_eq!(producer.join(), Err(Closed(2)));
    });
}

#[test]
fn one_close_wakes_every_blocked_producer() {
    let q = ClosableQueue::bounded(1);
    q.put(0).unwrap();
    let q = &q; // the `move` closures below copy the reference
    thread::scope(|s| {
        let puts: Vec<_> = (1..=3)
            .map(|i| spawn_until_blocked(s, move || q.put(i)))
            .collect();
        let timed_puts: Vec<_> = (4..=5)
            .map(|i| spawn_until_blocked(s, move || q.put_timeout(i, LONG)))
            .collect();
        let all_waited =
            puts.iter().all(|p| !p.is_finished()) && timed_puts.iter().all(|p| !p.is_finished());

        // One call; every producer must wake. (Close before asserting: a
        // failed assertion must not leave the others blocked for ever.)
        assert!(q.close());
        assert!(all_waited, "a put did not wait on a full queue");

        let mut handed_back: Vec<i32> = puts.into_iter().map(|p| p.join().unwrap_err().0).collect();
        handed_back.extend(timed_puts.into_iter().map(|p| match p.join() {
            Err(PutTimeoutError::Closed(i)) => i,
            other => panic!("expected Closed, got {other:?}"),
        }));
        assert_eq!(handed_back, vec![1, 2, 3, 4, 5]);
    });
    assert_eq!(q.iter().collect::<Vec<_>>(), vec![0]);
}
}

// ---------------------------------------------------------------------------
// Blocking paths: a sleeping get is woken by put or close
// ---------------------------------------------------------------------------

#[test]
fn blocked_get_is_woken_by_put() {
    for q in [unbounded(), ClosableQueue::bounded(1)] {
        thread::scope(|s| {
            let consumer = spawn_until_blocked(s, || q.get());
            assert!(
                !consumer.is_finished(),
                "get did not wait on an empty queue"
            );
            q.put(7).unwrap();
            assert_eq!(consumer.join(), Some(7));
        });
    }
}

#[test]
fn blocked_get_timeout_is_woken_by_put() {
    let q = ClosableQueue::bounded(1);
    thread::scope(|s| {
        let consumer = spawn_until_blocked(s, || q.get_timeout(LONG));
        assert!(!consumer.is_finished());
        q.try_put(7).unwrap();
        assert_eq!(consumer.join(), Ok(7));
    });
}

#[test]
fn blocked_iterator_is_woken_by_put() {
    let q = unbounded();
    thread::scope(|s| {
        let consumer = spawn_until_blocked(s, || q.iter().next());
        assert!(!consumer.is_finished());
        q.put(7).unwrap();
        assert_eq!(consumer.join(), Some(7));
    });
    assert_eq!(q.unfinished_tasks(), 0); // the iterator was dropped: 7 is done
}

#[test]
fn blocked_get_is_woken_by_close_and_returns_none() {
    let q = unbounded::<u8>();
    thread::scope(|s| {
        let consumer = spawn_until_blocked(s, || q.get());
        assert!(!consumer.is_finished());
        q.close();
        assert_eq!(consumer.join(), None);
    });
}

#[test]
fn blocked_get_timeout_is_woken_by_close_and_says_closed() {
    let q = ClosableQueue::<u8>::bounded(2);
    thread::scope(|s| {
        let consumer = spawn_until_blocked(s, || q.get_timeout(LONG));
        assert!(!consumer.is_finished());
        q.close();
        assert_eq!(consumer.join(), Err(GetTimeoutError::Closed));
    });
}

#[test]
fn blocked_get_is_woken_by_close_now() {
    let q = unbounded::<u8>();
    thread::scope(|s| {
        let consumer = spawn_until_blocked(s, || q.get());
        assert!(!consumer.is_finished());
        assert_eq!(q.close_now(), Vec::<u8>::new());
        assert_eq!(consumer.join(), None);
    });
}

#[test]
fn a_for_loop_over_the_queue_ends_when_it_is_closed_and_drained() {
    let q = unbounded();
    thread::scope(|s| {
        let consumer = spawn_until_blocked(s, || {
            let mut seen = Vec::new();
            for item in &q {
                seen.push(item);
            }
            seen
        });
        q.put(1).unwrap();
        q.put(2).unwrap();
        q.close();
        assert_eq!(consumer.join(), vec![1, 2]);
    });
    assert_eq!(q.unfinished_tasks(), 0);
}

#[test]
fn one_close_wakes_every_blocked_consumer() {
    let q = ClosableQueue::<u8>::bounded(4);
    thread::scope(|s| {
        let gets: Vec<_> = (0..3).map(|_| spawn_until_blocked(s, || q.get())).collect();
        let timed_gets: Vec<_> = (0..2)
            .map(|_| spawn_until_blocked(s, || q.get_timeout(LONG)))
            .collect();
        let loops: Vec<_> = (0..2)
            .map(|_| spawn_until_blocked(s, || q.iter().count()))
            .collect();
        let all_waited = gets.iter().all(|c| !c.is_finished())
            && timed_gets.iter().all(|c| !c.is_finished())
            && loops.iter().all(|c| !c.is_finished());

        // One call; every consumer must wake. (Close before asserting: a
        // failed assertion must not leave the others blocked for ever.)
        assert!(q.close());
        assert!(all_waited, "a get did not wait on an empty queue");

        for c in gets {
            assert_eq!(c.join(), None);
        }
        for c in timed_gets {
            assert_eq!(c.join(), Err(GetTimeoutError::Closed));
        }
        for c in loops {
            assert_eq!(c.join(), 0);
        }
    });
}

// ---------------------------------------------------------------------------
// The iterator marks items done
// ---------------------------------------------------------------------------

#[test]
fn the_iterator_marks_an_item_done_when_the_next_one_is_asked_for() {
    let q = unbounded();
    for i in 1..=3 {
        q.put(i).unwrap();
    }
    q.close();
    let mut it = q.iter();
    assert_eq!(it.next(), Some(1));
    assert_eq!(q.unfinished_tasks(), 3); // 1 is being processed
    // From here on 1 is done. Steps 4 and 5 count its mark at once; step
    // 6's iterator keeps its marks until it must wait or ends.
    assert_eq!(it.next(), Some(2));
    assert!((2..=3).contains(&q.unfinished_tasks()));
    assert_eq!(it.next(), Some(3));
    assert!((1..=3).contains(&q.unfinished_tasks()));
    assert_eq!(it.next(), None);
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(it.next(), None);
    assert_eq!(q.unfinished_tasks(), 0); // not marked twice
}

#[test]
fn dropping_the_iterator_marks_the_held_item_done() {
    let q = unbounded();
    q.put(1).unwrap();
    q.put(2).unwrap();
    let mut it = q.iter();
    assert_eq!(it.next(), Some(1));
    assert_eq!(q.unfinished_tasks(), 2);
    drop(it);
    assert_eq!(q.unfinished_tasks(), 1); // 1 is done; 2 is still inside
    assert_eq!(q.len(), 1);
    // An iterator that never handed out an item marks nothing.
    drop(q.iter());
    assert_eq!(q.unfinished_tasks(), 1);
}

#[test]
fn a_consumer_that_panics_in_its_loop_still_marks_its_item_done() {
    let q = unbounded();
    for i in 1..=3 {
        q.put(i).unwrap();
    }
    q.close();
    thread::scope(|s| {
        let crashing = s.spawn(|| {
            for item in &q {
                if item == 2 {
                    panic!("worker crashed on item {item}");
                }
            }
        });
        let payload = crashing.join().unwrap_err();
        assert_eq!(panic_message(&*payload), "worker crashed on item 2");
    });
    // 1 and 2 are done (2 by the unwinding iterator); 3 is still inside.
    assert_eq!(q.unfinished_tasks(), 1);
    assert_eq!(q.iter().collect::<Vec<_>>(), vec![3]);
    q.join(); // does not hang
}

// `catch_unwind` needs the queue to be `RefUnwindSafe`; RedisQueue is not.
in_process_cases! {
#[test]
fn a_panic_caught_in_the_same_thread_leaves_the_queue_usable() {
    let q = unbounded();
    q.put(1).unwrap();
    q.put(2).unwrap();
    // No `AssertUnwindSafe` needed: the queue is `RefUnwindSafe`.
    let caught = panic::catch_unwind(|| {
        for item in &q {
            if item == 1 {
                panic!("worker crashed on item {item}");
            }
        }
    });
    assert!(caught.is_err());
    assert_eq!(q.unfinished_tasks(), 1);
    assert_eq!(q.get(), Some(2));
    q.task_done().unwrap();
    q.join();
}
}

// ---------------------------------------------------------------------------
// Errors: Display, Debug, into_inner, std::error::Error
// ---------------------------------------------------------------------------

bounded_cases! {
#[test]
fn every_error_that_holds_an_item_hands_it_back() {
    let q = ClosableQueue::bounded(1);
    q.put(vec![0]).unwrap();
    assert_eq!(q.try_put(vec![1]).unwrap_err().into_inner(), vec![1]);
    assert_eq!(
        q.put_timeout(vec![2], Duration::ZERO)
            .unwrap_err()
            .into_inner(),
        vec![2]
    );
    q.close();
    assert_eq!(q.put(vec![3]).unwrap_err().into_inner(), vec![3]);
    assert_eq!(q.try_put(vec![4]).unwrap_err().into_inner(), vec![4]);
    assert_eq!(
        q.put_timeout(vec![5], LONG).unwrap_err().into_inner(),
        vec![5]
    );
    // And through the trait: `push` hands the item back in `Err`.
    assert_eq!(Queue::push(&q, vec![6]), Err(vec![6]));
    // Built by hand, too.
    assert_eq!(Closed('a').into_inner(), 'a');
    assert_eq!(TryPutError::Full('b').into_inner(), 'b');
    assert_eq!(TryPutError::Closed('c').into_inner(), 'c');
    assert_eq!(PutTimeoutError::Timeout('d').into_inner(), 'd');
    assert_eq!(PutTimeoutError::Closed('e').into_inner(), 'e');
}
}

// Items that are not `Serialize` (RedisQueue's items cross the wire as
// JSON), and the in-process queues' `Debug` (a snapshot taken under their
// lock; RedisQueue's shows its name and consumer).
in_process_cases! {
/// An item type that implements neither `Debug` nor `PartialEq`.
struct Opaque;

bounded_cases! {
#[test]
fn errors_and_queues_print_with_debug_even_when_the_item_cannot() {
    let q = ClosableQueue::bounded(1);
    q.put(Opaque).unwrap(); // `unwrap` needs `Closed<Opaque>: Debug`
    assert_eq!(format!("{:?}", q.try_put(Opaque).unwrap_err()), "Full(..)");
    assert_eq!(
        format!("{:?}", q.put_timeout(Opaque, Duration::ZERO).unwrap_err()),
        "Timeout(..)"
    );
    assert_eq!(
        format!("{q:?}"),
        "ClosableQueue { len: 1, capacity: Some(1), closed: false, unfinished: 1, .. }"
    );
    q.close();
    assert_eq!(format!("{:?}", q.put(Opaque).unwrap_err()), "Closed(..)");
    assert_eq!(
        format!("{:?}", q.try_put(Opaque).unwrap_err()),
        "Closed(..)"
    );
    assert_eq!(
        format!("{:?}", q.put_timeout(Opaque, LONG).unwrap_err()),
        "Closed(..)"
    );
    let mut it = q.iter();
    assert_eq!(format!("{it:?}"), "Iter { holding: false, .. }");
    assert!(it.next().is_some());
    assert_eq!(format!("{it:?}"), "Iter { holding: true, .. }");
}
}

/// A writer that looks at the queue it is printing, as a logger might.
struct LenWriter {
    queue: Arc<ClosableQueue<u8>>,
    out: String,
}

impl std::fmt::Write for LenWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let _ = self.queue.len(); // deadlocks if `{:?}` holds the lock
        self.out.push_str(s);
        Ok(())
    }
}

/// `Debug` copies the fields under the lock and formats after letting go
/// of it, so a writer that uses the queue does not deadlock. The writer
/// runs in a thread of its own: if it deadlocks, the test fails after a
/// minute and leaves that thread behind.
#[test]
fn debug_formatting_does_not_hold_the_lock_while_writing() {
    use std::fmt::Write;
    let q = Arc::new(ClosableQueue::bounded(2));
    q.put(1).unwrap();
    let (done, finished) = mpsc::channel();
    let writer = LenWriter {
        queue: Arc::clone(&q),
        out: String::new(),
    };
    thread::spawn(move || {
        let mut w = writer;
        write!(w, "{:?}", w.queue.clone()).unwrap();
        done.send(w.out).unwrap();
    });
    let out = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("formatting a ClosableQueue deadlocked");
    let capacity = q.capacity(); // `None` on step 7, which has no bound
    assert_eq!(
        out,
        format!(
            "ClosableQueue {{ len: 1, capacity: {capacity:?}, closed: false, unfinished: 1, .. }}"
        )
    );
}
}

// RedisQueue has no `close_on_drop` guard.
in_process_cases! {
/// A producer that panics before `close` leaves its consumers waiting for
/// ever, and `thread::scope` with them. With a `close_on_drop` guard the
/// panic closes the queue: the consumers drain and end, and the panic
/// reaches the caller of `thread::scope`.
#[test]
fn a_close_on_drop_guard_closes_the_queue_when_the_producer_panics() {
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let q = ClosableQueue::bounded(2);
        let received = AtomicUsize::new(0);
        let run = panic::catch_unwind(|| {
            thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        for _item in &q {
                            received.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
                s.spawn(|| {
                    let _closer = q.close_on_drop();
                    for i in 0..5 {
                        q.put(i).unwrap();
                    }
                    panic!("producer failed after 5 items");
                });
            })
        });
        let message = panic_message(&*run.unwrap_err());
        done.send((message, received.into_inner(), q.is_closed()))
            .unwrap();
    });
    let (message, received, closed) = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("the consumers were left waiting: the queue was never closed");
    assert_eq!(message, "a scoped thread panicked");
    assert_eq!(received, 5);
    assert!(closed);
}

/// The guard also closes on a normal end of its block, and on `?`.
#[test]
fn a_close_on_drop_guard_closes_on_an_early_return() {
    fn produce(q: &ClosableQueue<u32>, items: &[&str]) -> Result<(), std::num::ParseIntError> {
        let _closer = q.close_on_drop();
        for s in items {
            q.put(s.parse()?).unwrap();
        }
        Ok(())
    }
    let q = unbounded();
    assert!(produce(&q, &["1", "two", "3"]).is_err());
    assert!(q.is_closed());
    assert_eq!(q.iter().collect::<Vec<_>>(), [1]);
}
}

// Items that are not `Serialize`: `Opaque` again.
in_process_cases! {
#[test]
fn a_panic_from_unwrap_names_the_error() {
    let q = unbounded();
    q.close();
    let payload = panic::catch_unwind(|| q.put(Opaque).unwrap()).unwrap_err();
    assert!(panic_message(&*payload).contains("Closed(..)"));
}

#[test]
fn errors_convert_into_box_dyn_error_with_question_mark() {
    fn put_one(q: &ClosableQueue<Opaque>) -> Result<(), Box<dyn Error + Send + Sync>> {
        q.put(Opaque)?;
        q.try_put(Opaque)?;
        q.put_timeout(Opaque, Duration::ZERO)?;
        q.try_get()?;
        q.get_timeout(Duration::ZERO)?;
        q.task_done()?;
        Ok(())
    }
    let q = unbounded();
    q.close();
    let err = put_one(&q).unwrap_err();
    assert_eq!(err.to_string(), "queue is closed");
    assert!(err.source().is_none());
}
}
