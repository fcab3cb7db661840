#![cfg(all(feature = "redis", not(loom)))]
//! `queuelab::redis::RedisQueue` against a real `redis-server`.
//!
//! Each test starts its own server (Debian's `redis-server`, which
//! `.ci/run` installs when it is missing) on a free loopback port, with a
//! temporary directory and no persistence, and stops it when the test
//! ends, also when it fails: [`Server`] kills and waits in `Drop`. Every
//! test runs under `within_deadline`, so a hang fails it instead of CI.
//!
//! Two tests kill their server and start it again: one with an append-only
//! file written at every command, one without persistence. One test runs a consumer in another OS
//! process: this test binary again, running only the ignored test
//! `child_consumer`, which does nothing unless the parent set
//! `QUEUELAB_CHILD_REDIS_URL`.

mod common;
#[path = "../examples/common/redis_server.rs"]
mod redis_server;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::{spawn_until_blocked, within_deadline};
use queuelab::Queue;
use queuelab::redis::{Failure, GetError, PutError, RedisQueue, TaskDoneError};

/// A `redis-server` of this test's own; killed and waited for on drop.
struct Server {
    process: Arc<Process>,
}

/// The server's process. The test's closure may kill or restart it through
/// an `Arc`, while the [`Server`] guard stays with the test's own thread, so
/// that a hang still stops it.
struct Process {
    child: Mutex<Child>,
    port: u16,
    dir: PathBuf,
    appendonly: bool,
}

impl Server {
    /// A server without persistence.
    fn start() -> Server {
        Server::start_with(false)
    }

    /// Starts a server on a free loopback port (see `redis_server::start`),
    /// with an append-only file written at every command if `appendonly`,
    /// and returns once it accepts connections.
    fn start_with(appendonly: bool) -> Server {
        let (child, port, dir) = redis_server::start("redis-server", "queuelab-redis", appendonly)
            .expect("cannot start redis-server: install it (apt-get install redis-server)");
        let process = Process {
            child: Mutex::new(child),
            port,
            dir,
            appendonly,
        };
        Server {
            process: Arc::new(process),
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.process.port)
    }

    fn process(&self) -> Arc<Process> {
        Arc::clone(&self.process)
    }
}

impl Process {
    /// Kills the server with SIGKILL and waits for it.
    fn kill(&self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Kills the server with SIGKILL and starts it again, on the same port
    /// and with the same directory.
    fn restart(&self) {
        let mut child = self.child.lock().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        *child = spawn_server(self.port, &self.dir, self.appendonly)
            .expect("redis-server did not start again");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.process.kill();
        let _ = std::fs::remove_dir_all(&self.process.dir);
    }
}

/// Runs `redis-server` (see `redis_server::spawn`); `None` if its port was
/// taken.
fn spawn_server(port: u16, dir: &Path, appendonly: bool) -> Option<Child> {
    redis_server::spawn("redis-server", port, dir, appendonly)
        .expect("cannot run redis-server: install it (apt-get install redis-server)")
}

/// A handle on the unbounded queue `name`.
fn open<T>(url: &str, name: &str) -> RedisQueue<T> {
    RedisQueue::builder(url, name).open().unwrap()
}

/// A plain connection, to look at the stream or write into it directly.
fn raw(url: &str) -> redis::Connection {
    redis::Client::open(url).unwrap().get_connection().unwrap()
}

const STREAM: &str = "queuelab:{q}:stream";

#[test]
fn items_come_out_in_the_order_they_went_in() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let q = open(&url, "q");
        for n in 0..10 {
            q.put(n).unwrap();
        }
        assert_eq!(q.len().unwrap(), 10);
        let got: Vec<u32> = (0..10).map(|_| q.get().unwrap().unwrap()).collect();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        assert_eq!(q.len().unwrap(), 0);
        assert_eq!(q.unfinished_tasks().unwrap(), 10); // taken, not done
    });
}

#[test]
fn close_is_seen_by_every_handle_and_get_drains_then_ends() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let producer = open(&url, "q");
        let consumer = open::<char>(&url, "q");
        producer.put('a').unwrap();
        producer.put('b').unwrap();
        assert!(consumer.close().unwrap());
        assert!(!producer.close().unwrap());
        assert!(producer.is_closed().unwrap());
        assert!(matches!(producer.put('c'), Err(PutError::Closed('c'))));
        assert_eq!(consumer.get().unwrap(), Some('a'));
        assert_eq!(consumer.get().unwrap(), Some('b'));
        assert_eq!(consumer.get().unwrap(), None);
        assert!(matches!(consumer.try_get(), Err(GetError::Closed)));
        // A time limit too large for an `Instant` means no limit.
        let later = consumer.get_timeout(Duration::MAX);
        assert!(matches!(later, Err(GetError::Closed)));
        let late = producer.put_timeout('d', Duration::MAX);
        assert!(matches!(late, Err(PutError::Closed('d'))));
        consumer.task_done().unwrap();
        consumer.task_done().unwrap();
        assert!(producer.join_timeout(Duration::MAX).unwrap());
    });
}

#[test]
fn a_get_blocked_in_another_handle_notices_the_close() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let closer = open::<u8>(&url, "q");
        let waiter = open::<u8>(&url, "q");
        thread::scope(|s| {
            let blocked = spawn_until_blocked(s, || waiter.get());
            assert!(!blocked.is_finished());
            closer.close().unwrap();
            assert_eq!(blocked.join().unwrap(), None);
        });
    });
}

#[test]
fn close_now_hands_back_the_items_never_delivered() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let q = open(&url, "q");
        for n in 1..=3 {
            q.put(n).unwrap();
        }
        assert_eq!(q.get().unwrap(), Some(1));
        assert_eq!(q.close_now().unwrap(), vec![2, 3]);
        assert!(q.is_closed().unwrap());
        assert_eq!(q.unfinished_tasks().unwrap(), 1); // item 1, taken
        assert!(matches!(q.put(4), Err(PutError::Closed(4))));
        q.task_done().unwrap();
        assert_eq!(q.unfinished_tasks().unwrap(), 0);
        assert_eq!(q.get().unwrap(), None);
    });
}

#[test]
fn join_returns_once_every_item_is_acked() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let producer = open(&url, "q");
        let worker = open::<u8>(&url, "q");
        assert!(matches!(
            worker.task_done(),
            Err(TaskDoneError::NothingTaken)
        ));
        producer.put(1).unwrap();
        producer.put(2).unwrap();
        thread::scope(|s| {
            let joiner = spawn_until_blocked(s, || producer.join());
            assert_eq!(worker.get().unwrap(), Some(1));
            assert_eq!(worker.get().unwrap(), Some(2));
            worker.task_done().unwrap();
            // `join` polls, so a thread asleep in it may not have looked
            // since the ack: `join_timeout(0)` looks once, with the same
            // test as `join`.
            assert!(
                !producer.join_timeout(Duration::ZERO).unwrap(),
                "item 2 is not acked"
            );
            assert_eq!(producer.unfinished_tasks().unwrap(), 1);
            worker.close().unwrap();
            assert!(
                !producer.join_timeout(Duration::ZERO).unwrap(),
                "close released join"
            );
            assert!(!joiner.is_finished(), "join returned with item 2 unacked");
            worker.task_done().unwrap();
            joiner.join().unwrap();
        });
        assert!(producer.join_timeout(Duration::ZERO).unwrap());
        assert!(matches!(
            worker.task_done(),
            Err(TaskDoneError::NothingTaken)
        ));
    });
}

#[test]
fn the_iterator_acks_each_item_when_the_next_is_asked_for() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let q = open(&url, "q");
        for n in 1..=3u64 {
            q.put(n).unwrap();
        }
        q.close().unwrap();
        let mut sum = 0;
        for (i, n) in q.iter().enumerate() {
            sum += n.unwrap();
            // The items before this one are acked; this one is not yet.
            assert_eq!(q.unfinished_tasks().unwrap(), 3 - i);
        }
        assert_eq!(sum, 6);
        assert_eq!(q.unfinished_tasks().unwrap(), 0);
        q.join().unwrap();
    });
}

#[test]
fn a_full_queue_makes_put_wait_until_an_item_is_taken() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let q = RedisQueue::builder(&url, "q").bounded(2).open().unwrap();
        assert_eq!(q.capacity(), Some(2));
        q.put(1).unwrap();
        q.put(2).unwrap();
        assert!(matches!(q.try_put(3), Err(PutError::Full(3))));
        assert!(matches!(
            q.put_timeout(3, Duration::ZERO),
            Err(PutError::Timeout(3))
        ));
        thread::scope(|s| {
            let blocked = spawn_until_blocked(s, || q.put(3));
            assert!(!blocked.is_finished(), "put did not wait on a full queue");
            assert_eq!(q.get().unwrap(), Some(1)); // taken, not yet acked: room
            blocked.join().unwrap();
        });
        assert_eq!(q.len().unwrap(), 2);
        assert_eq!(q.unfinished_tasks().unwrap(), 3);
        // A put waiting for room is released by a close, with its item.
        thread::scope(|s| {
            let blocked = spawn_until_blocked(s, || q.put(4));
            assert!(!blocked.is_finished());
            q.close().unwrap();
            assert!(matches!(blocked.join(), Err(PutError::Closed(4))));
        });
        // Another handle must ask for the same capacity.
        let other = RedisQueue::<u8>::builder(&url, "q").bounded(3).open();
        assert!(matches!(
            other,
            Err(Failure::CapacityMismatch {
                stored: Some(2),
                asked: Some(3)
            })
        ));
    });
}

#[test]
fn a_lost_connection_is_an_error_that_carries_the_item() {
    let server = Server::start();
    let url = server.url();
    let process = server.process();
    within_deadline(move || {
        let q = open(&url, "q");
        q.put(String::from("kept")).unwrap();
        assert_eq!(q.get().unwrap().as_deref(), Some("kept"));
        process.kill();
        match q.put(String::from("precious")) {
            Err(PutError::Failed(item, Failure::Redis(_))) => assert_eq!(item, "precious"),
            other => panic!("put on a dead server: {other:?}"),
        }
        assert!(matches!(q.get(), Err(Failure::Redis(_))));
        // The ack failed: the item is still this handle's to mark.
        assert!(matches!(q.task_done(), Err(TaskDoneError::Failed(_))));
        assert!(matches!(q.task_done(), Err(TaskDoneError::Failed(_))));
    });
}

#[test]
fn a_corrupt_entry_is_reported_with_its_id_and_left_pending() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let q = open::<u32>(&url, "q");
        let mut conn = raw(&url);
        let not_json: String = redis::cmd("XADD")
            .arg(STREAM)
            .arg("*")
            .arg("item")
            .arg("{not json")
            .query(&mut conn)
            .unwrap();
        let no_item: String = redis::cmd("XADD")
            .arg(STREAM)
            .arg("*")
            .arg("other")
            .arg("7")
            .query(&mut conn)
            .unwrap();
        q.put(5).unwrap();
        match q.get() {
            Err(Failure::Corrupt { id, reason }) => {
                assert_eq!(id, not_json);
                assert!(reason.contains("field `item`"), "{reason}");
            }
            other => panic!("got {other:?}"),
        }
        match q.get() {
            Err(Failure::Corrupt { id, reason }) => {
                assert_eq!(id, no_item);
                assert_eq!(reason, "no field `item`");
            }
            other => panic!("got {other:?}"),
        }
        assert_eq!(q.get().unwrap(), Some(5));
        q.task_done().unwrap();
        // Only the good item was counted for task_done.
        assert!(matches!(q.task_done(), Err(TaskDoneError::NothingTaken)));
        // Both corrupt entries are still there, pending.
        let pending: (u64, String, String, redis::Value) = redis::cmd("XPENDING")
            .arg(STREAM)
            .arg("queuelab")
            .query(&mut conn)
            .unwrap();
        assert_eq!((pending.0, pending.1, pending.2), (2, not_json, no_item));
        assert_eq!(q.unfinished_tasks().unwrap(), 2);
    });
}

#[test]
fn a_server_killed_and_restarted_with_its_append_only_file_loses_nothing() {
    let server = Server::start_with(true);
    let url = server.url();
    let process = server.process();
    within_deadline(move || {
        let q = open(&url, "q");
        for n in 0..4u32 {
            q.put(n).unwrap();
        }
        assert_eq!(q.get().unwrap(), Some(0)); // delivered, not acked
        process.restart();
        // The handle's connection broke with the server: the first call may
        // fail, and then hands the item back; the next one connects again.
        if let Err(err) = q.put(4) {
            let PutError::Failed(item, Failure::Redis(_)) = err else {
                panic!("put after a restart: {err:?}");
            };
            q.put(item).unwrap();
        }
        let rest: Vec<u32> = (0..4).map(|_| q.get().unwrap().unwrap()).collect();
        assert_eq!(rest, vec![1, 2, 3, 4]);
        // Item 0 is still pending, and this handle can still ack it.
        assert_eq!(q.unfinished_tasks().unwrap(), 5);
        for _ in 0..5 {
            q.task_done().unwrap();
        }
        assert!(q.join_timeout(Duration::ZERO).unwrap());
    });
}

/// A server restarted without persistence has forgotten the stream, its
/// group and the closed flag. A handle opened before makes the group again
/// on the `NOGROUP` error and goes on: the queue is empty and open, the
/// items of before the restart are gone with the server.
#[test]
fn a_server_restarted_without_persistence_gets_its_group_back() {
    let server = Server::start();
    let url = server.url();
    let process = server.process();
    within_deadline(move || {
        let q = RedisQueue::builder(&url, "q").bounded(4).open().unwrap();
        q.put(1u32).unwrap();
        q.put(2).unwrap();
        assert_eq!(q.get().unwrap(), Some(1)); // delivered, not acked
        q.close().unwrap();
        process.restart();
        // The handle's connection broke with the server: the first call may
        // fail; the next one connects again.
        if let Err(err) = q.len() {
            assert!(
                matches!(err, Failure::Redis(_)),
                "len after a restart: {err:?}"
            );
        }
        assert_eq!(q.len().unwrap(), 0);
        assert!(matches!(q.try_get(), Err(GetError::Empty)));
        assert!(
            !q.is_closed().unwrap(),
            "the closed flag is gone with the server"
        );
        q.put(3).unwrap();
        assert_eq!(q.get().unwrap(), Some(3));
        // Item 1 is gone: its mark acks nothing. Then item 3 is done.
        q.task_done().unwrap();
        assert_eq!(q.unfinished_tasks().unwrap(), 1);
        q.task_done().unwrap();
        assert!(q.join_timeout(Duration::ZERO).unwrap());
        // The group was made again, and other handles read in it.
        let mut conn = raw(&url);
        let groups: Vec<redis::Value> = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(STREAM)
            .query(&mut conn)
            .unwrap();
        assert_eq!(groups.len(), 1);
        // And a handle with the old capacity still opens: it was stored again.
        let other = RedisQueue::<u32>::builder(&url, "q").bounded(4).open();
        assert!(other.is_ok(), "{other:?}");
    });
}

/// The names of the consumers of the queue's group, and how many entries
/// each holds (`XINFO CONSUMERS`).
fn consumers(conn: &mut redis::Connection) -> Vec<(String, u64)> {
    let infos: Vec<std::collections::HashMap<String, redis::Value>> = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg(STREAM)
        .arg("queuelab")
        .query(conn)
        .unwrap();
    let mut found: Vec<(String, u64)> = infos
        .iter()
        .map(|info| {
            let name: String = redis::from_redis_value_ref(&info["name"]).unwrap();
            let pending: u64 = redis::from_redis_value_ref(&info["pending"]).unwrap();
            (name, pending)
        })
        .collect();
    found.sort();
    found
}

/// A dropped handle removes its consumer from the group when it holds no
/// entry; one that holds an entry stays listed, so that the entry is not
/// lost and can be claimed.
#[test]
fn a_dropped_handle_removes_its_consumer_only_when_it_holds_nothing() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let mut conn = raw(&url);
        let idle = open::<u32>(&url, "q");
        let holder = open::<u32>(&url, "q");
        holder.put(1).unwrap();
        holder.put(2).unwrap();
        // A consumer is made by its first read that delivers an entry.
        assert_eq!(idle.get().unwrap(), Some(1));
        idle.task_done().unwrap();
        assert_eq!(holder.get().unwrap(), Some(2));
        let both = consumers(&mut conn);
        assert_eq!(both.len(), 2, "{both:?}");
        let held: Vec<_> = both.iter().filter(|(_, p)| *p == 1).cloned().collect();
        assert_eq!(held.len(), 1, "{both:?}");
        drop(idle);
        assert_eq!(
            consumers(&mut conn),
            held,
            "the idle consumer is still listed"
        );
        drop(holder);
        assert_eq!(
            consumers(&mut conn),
            held,
            "the holder's consumer was removed"
        );
        // Its entry is still pending, for another handle to claim.
        let claimer = RedisQueue::<u32>::builder(&url, "q")
            .visibility_timeout(Duration::ZERO)
            .open()
            .unwrap();
        assert_eq!(claimer.get().unwrap(), Some(2));
    });
}

#[test]
fn the_queue_trait_puts_and_takes() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let q = open(&url, "q");
        q.push(7u8).unwrap();
        assert_eq!(Queue::len(&q), 1);
        assert_eq!(q.pop(), Some(7));
        assert_eq!(q.try_pop(), None);
        q.close().unwrap();
        assert_eq!(q.push(8), Err(8));
    });
}

/// The consumer process of the next test: takes one item, says which on
/// stdout, and holds it unacked until it is killed (or until its parent is
/// gone: then its stdin ends). Without the parent's variable, it does
/// nothing.
#[test]
#[ignore = "run as a child process by a_consumer_killed_holding_an_item_..."]
fn child_consumer() {
    let Ok(url) = std::env::var("QUEUELAB_CHILD_REDIS_URL") else {
        return;
    };
    let q = open::<u32>(&url, "q");
    let item = q.get_timeout(Duration::from_secs(60)).unwrap();
    let mut out = std::io::stdout();
    writeln!(out, "holding {item}").unwrap();
    out.flush().unwrap();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

#[test]
fn a_consumer_killed_holding_an_item_loses_nothing_and_it_is_acked_once() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let producer = open(&url, "q");
        for n in 0..5u32 {
            producer.put(n).unwrap();
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["child_consumer", "--exact", "--ignored", "--nocapture"])
            .env("QUEUELAB_CHILD_REDIS_URL", &url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let held = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map(Result::unwrap)
            // libtest may print the test's name on the same line first.
            .find_map(|line| line.split_once("holding ").map(|(_, n)| n.to_owned()))
            .expect("the child said nothing");
        assert_eq!(held, "0");
        println!("child process {} took item {held}", child.id());
        child.kill().unwrap(); // SIGKILL: no chance to ack or clean up
        child.wait().unwrap();
        producer.close().unwrap();
        let mut conn = raw(&url);
        // The extended form: [[id, consumer, idle ms, deliveries], ...].
        let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
            .arg(STREAM)
            .arg("queuelab")
            .arg("-")
            .arg("+")
            .arg(10)
            .query(&mut conn)
            .unwrap();
        assert_eq!(pending.len(), 1);
        let (id, consumer, _, deliveries) = &pending[0];
        println!(
            "child killed (SIGKILL), queue closed; pending: entry {id}, consumer {consumer}, delivered {deliveries} time(s)"
        );

        // A worker that claims items idle for 100 ms: it takes 1..=4, then
        // waits (the queue is closed, but another consumer holds item 0),
        // then claims item 0.
        let worker = RedisQueue::builder(&url, "q")
            .visibility_timeout(Duration::from_millis(100))
            .open()
            .unwrap();
        let mut got: Vec<u32> = worker.iter().map(Result::unwrap).collect();
        println!("the worker got, in this order: {got:?}");
        got.sort();
        assert_eq!(got, vec![0, 1, 2, 3, 4], "each item exactly once");
        producer.join().unwrap();
        let len: u64 = redis::cmd("XLEN").arg(STREAM).query(&mut conn).unwrap();
        let pending: (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
            .arg(STREAM)
            .arg("queuelab")
            .query(&mut conn)
            .unwrap();
        assert_eq!((len, pending.0), (0, 0), "every item acked and deleted");
        println!("join returned; stream length {len}, pending {}", pending.0);
    });
}

/// The producer process of the next test: puts 0..100 into the bounded
/// queue "q" (capacity 4), then closes it. Without the parent's variable,
/// it does nothing.
#[test]
#[ignore = "run as a child process by producer_and_consumer_in_two_processes"]
fn child_producer() {
    let Ok(url) = std::env::var("QUEUELAB_CHILD_PRODUCER_URL") else {
        return;
    };
    let q = RedisQueue::builder(&url, "q").bounded(4).open().unwrap();
    for n in 0..100u32 {
        q.put(n).unwrap();
    }
    q.close().unwrap();
}

/// A producer and a consumer in two OS processes: the producer (a child
/// process) puts 100 items into a queue of capacity 4, so that it must wait
/// for the consumer (this process) again and again, then closes it; the
/// consumer's loop gets every item once, in order, and ends on the close;
/// `join` returns once all are acked.
#[test]
fn producer_and_consumer_in_two_processes() {
    let server = Server::start();
    let url = server.url();
    within_deadline(move || {
        let consumer: RedisQueue<u32> = RedisQueue::builder(&url, "q").bounded(4).open().unwrap();
        let mut producer = Command::new(std::env::current_exe().unwrap())
            .args(["child_producer", "--exact", "--ignored"])
            .env("QUEUELAB_CHILD_PRODUCER_URL", &url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let got: Vec<u32> = consumer.iter().map(Result::unwrap).collect();
        assert!(
            producer.wait().unwrap().success(),
            "the producer process failed"
        );
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        consumer.join().unwrap();
        assert_eq!(consumer.unfinished_tasks().unwrap(), 0);
    });
}
