//! What the benches share: one adapter trait that every channel under test
//! implements, the ladder's queues plugged into it through `queuelab::Queue`,
//! crossbeam-channel, flume, kanal and std's channels as peers, the body that
//! moves items through one of them, the pipeline of Effective Python, Item 55
//! (`seed`), and the bench settings.
//!
//! Included by each bench with `#[path = "common/mod.rs"] mod common;`.
#![allow(dead_code)] // each bench uses a different part

pub mod seed;

use std::hint::black_box;
use std::marker::PhantomData;
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use queuelab::Queue;

/// The capacity a bench asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cap {
    Bounded(usize),
    Unbounded,
}

impl Cap {
    /// The capacities of the queue benches: 1, 64, 1024 and unbounded.
    pub const ALL: [Cap; 4] = [
        Cap::Bounded(1),
        Cap::Bounded(64),
        Cap::Bounded(1024),
        Cap::Unbounded,
    ];

    /// A name usable in a criterion group: `cap64`, `unbounded`.
    pub fn label(self) -> String {
        match self {
            Cap::Bounded(n) => format!("cap{n}"),
            Cap::Unbounded => "unbounded".to_string(),
        }
    }

    pub fn bound(self) -> Option<usize> {
        match self {
            Cap::Bounded(n) => Some(n),
            Cap::Unbounded => None,
        }
    }
}

// ANCHOR: channel
/// The sending ends (one per producer) and receiving ends (one per
/// consumer) of one channel.
pub type Ends<C> = (Vec<<C as Channel>::Tx>, Vec<<C as Channel>::Rx>);

/// A channel under test, in the shape the bench bodies need: it hands out
/// one sending end per producer and one receiving end per consumer.
pub trait Channel: Sized + 'static {
    /// The name in the bench ids and the results tables.
    const NAME: &'static str;
    type Tx: Send + 'static;
    type Rx: Send + 'static;
    /// `None` when this channel has no such capacity (the bench skips it).
    fn open(cap: Cap, producers: usize, consumers: usize) -> Option<Ends<Self>>;
    /// Sends, waiting for room if the channel is bounded.
    fn send(tx: &Self::Tx, item: u64);
    /// Receives, waiting for an item. `None` once no item can come: every
    /// sending end is gone (channels), or the queue is closed and drained
    /// (the ladder's closable queues).
    fn recv(rx: &mut Self::Rx) -> Option<u64>;
}
// ANCHOR_END: channel

// ANCHOR: build
/// How a ladder queue is built for a capacity; `None` if it has no such
/// capacity.
pub trait Build: Queue<u64> + Sized + 'static {
    const NAME: &'static str;
    fn build(cap: Cap) -> Option<Self>;
}
// ANCHOR_END: build

impl Build for queuelab::PollingQueue<u64> {
    const NAME: &'static str = "polling";
    fn build(cap: Cap) -> Option<Self> {
        (cap == Cap::Unbounded).then(Self::new)
    }
}

impl Build for queuelab::BlockingQueue<u64> {
    const NAME: &'static str = "blocking";
    fn build(cap: Cap) -> Option<Self> {
        (cap == Cap::Unbounded).then(Self::new)
    }
}

impl Build for queuelab::BoundedQueue<u64> {
    const NAME: &'static str = "bounded";
    fn build(cap: Cap) -> Option<Self> {
        cap.bound().map(Self::new)
    }
}

impl Build for queuelab::queue::closable::ClosableQueue<u64> {
    const NAME: &'static str = "closable";
    fn build(cap: Cap) -> Option<Self> {
        Some(match cap {
            Cap::Bounded(n) => Self::bounded(n),
            Cap::Unbounded => Self::unbounded(),
        })
    }
}

// ANCHOR: build_fast
impl Build for queuelab::queue::fast::ClosableQueue<u64> {
    const NAME: &'static str = "fast";
    fn build(cap: Cap) -> Option<Self> {
        Some(match cap {
            Cap::Bounded(n) => Self::bounded(n),
            Cap::Unbounded => Self::unbounded(),
        })
    }
}
// ANCHOR_END: build_fast

impl Build for queuelab::queue::ring::ClosableQueue<u64> {
    const NAME: &'static str = "ring";
    fn build(cap: Cap) -> Option<Self> {
        cap.bound().map(Self::bounded)
    }
}

impl Build for queuelab::queue::list::ClosableQueue<u64> {
    const NAME: &'static str = "list";
    fn build(cap: Cap) -> Option<Self> {
        (cap == Cap::Unbounded).then(Self::unbounded)
    }
}

// ANCHOR: ladder
/// A queue of the ladder, shared through an `Arc` and used through the
/// `queuelab::Queue` trait (the polling queue polls with `Backoff`).
pub struct Ladder<Q>(PhantomData<Q>);

impl<Q: Build> Channel for Ladder<Q> {
    const NAME: &'static str = Q::NAME;
    type Tx = Arc<Q>;
    type Rx = Arc<Q>;

    fn open(cap: Cap, producers: usize, consumers: usize) -> Option<Ends<Self>> {
        let q = Arc::new(Q::build(cap)?);
        Some((
            vec![Arc::clone(&q); producers],
            vec![Arc::clone(&q); consumers],
        ))
    }

    fn send(tx: &Arc<Q>, item: u64) {
        if tx.push(item).is_err() {
            panic!("the bench never closes its queue");
        }
    }

    fn recv(rx: &mut Arc<Q>) -> Option<u64> {
        rx.pop()
    }
}
// ANCHOR_END: ladder

// ANCHOR: crossbeam
/// crossbeam-channel: `bounded(n)` or `unbounded()`.
pub struct Crossbeam;

impl Channel for Crossbeam {
    const NAME: &'static str = "crossbeam";
    type Tx = crossbeam_channel::Sender<u64>;
    type Rx = crossbeam_channel::Receiver<u64>;

    fn open(cap: Cap, producers: usize, consumers: usize) -> Option<Ends<Self>> {
        let (tx, rx) = match cap {
            Cap::Bounded(n) => crossbeam_channel::bounded(n),
            Cap::Unbounded => crossbeam_channel::unbounded(),
        };
        Some((vec![tx; producers], vec![rx; consumers]))
    }

    fn send(tx: &Self::Tx, item: u64) {
        tx.send(item).expect("receivers outlive senders");
    }

    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}
// ANCHOR_END: crossbeam

/// flume: `bounded(n)` or `unbounded()`.
pub struct Flume;

impl Channel for Flume {
    const NAME: &'static str = "flume";
    type Tx = flume::Sender<u64>;
    type Rx = flume::Receiver<u64>;

    fn open(cap: Cap, producers: usize, consumers: usize) -> Option<Ends<Self>> {
        let (tx, rx) = match cap {
            Cap::Bounded(n) => flume::bounded(n),
            Cap::Unbounded => flume::unbounded(),
        };
        Some((vec![tx; producers], vec![rx; consumers]))
    }

    fn send(tx: &Self::Tx, item: u64) {
        tx.send(item).expect("receivers outlive senders");
    }

    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

/// kanal: `bounded(n)` or `unbounded()`.
pub struct Kanal;

impl Channel for Kanal {
    const NAME: &'static str = "kanal";
    type Tx = kanal::Sender<u64>;
    type Rx = kanal::Receiver<u64>;

    fn open(cap: Cap, producers: usize, consumers: usize) -> Option<Ends<Self>> {
        let (tx, rx) = match cap {
            Cap::Bounded(n) => kanal::bounded(n),
            Cap::Unbounded => kanal::unbounded(),
        };
        Some((vec![tx; producers], vec![rx; consumers]))
    }

    fn send(tx: &Self::Tx, item: u64) {
        tx.send(item).expect("receivers outlive senders");
    }

    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

// ANCHOR: std_rx
/// std's channels: `sync_channel(n)` or `channel()`. std's `Receiver` has
/// one owner; with several consumers they share it in an
/// `Arc<Mutex<Receiver>>`, the usual workaround (one consumer at a time
/// waits in `recv` while holding the lock).
pub struct Std;

pub enum StdTx {
    Bounded(mpsc::SyncSender<u64>),
    Unbounded(mpsc::Sender<u64>),
}

pub enum StdRx {
    Own(mpsc::Receiver<u64>),
    Shared(Arc<Mutex<mpsc::Receiver<u64>>>),
}
// ANCHOR_END: std_rx

impl Channel for Std {
    const NAME: &'static str = "std";
    type Tx = StdTx;
    type Rx = StdRx;

    fn open(cap: Cap, producers: usize, consumers: usize) -> Option<Ends<Self>> {
        let (txs, rx) = match cap {
            Cap::Bounded(n) => {
                let (tx, rx) = mpsc::sync_channel(n);
                let txs = (0..producers).map(|_| StdTx::Bounded(tx.clone())).collect();
                (txs, rx)
            }
            Cap::Unbounded => {
                let (tx, rx) = mpsc::channel();
                let txs = (0..producers)
                    .map(|_| StdTx::Unbounded(tx.clone()))
                    .collect();
                (txs, rx)
            }
        };
        let rxs = if consumers == 1 {
            vec![StdRx::Own(rx)]
        } else {
            let shared = Arc::new(Mutex::new(rx));
            (0..consumers)
                .map(|_| StdRx::Shared(Arc::clone(&shared)))
                .collect()
        };
        Some((txs, rxs))
    }

    fn send(tx: &StdTx, item: u64) {
        let sent = match tx {
            StdTx::Bounded(tx) => tx.send(item).is_ok(),
            StdTx::Unbounded(tx) => tx.send(item).is_ok(),
        };
        assert!(sent, "receivers outlive senders");
    }

    fn recv(rx: &mut StdRx) -> Option<u64> {
        let got = match rx {
            StdRx::Own(rx) => rx.recv(),
            StdRx::Shared(rx) => rx.lock().unwrap().recv(),
        };
        got.ok()
    }
}

// ANCHOR: transfer
/// Moves `items` items from `producers` to `consumers` threads through a new
/// `C` and returns the time it took. Threads are spawned before the clock
/// starts and released together by a barrier; the clock runs from the first
/// thread's release until the last consumer has its last item. (It starts
/// in the threads, not in the thread that spawned them: on a busy machine
/// that one may be scheduled again only after the others are done.) `None`
/// if `C` has no such capacity.
pub fn transfer<C: Channel>(
    cap: Cap,
    producers: usize,
    consumers: usize,
    items: u64,
) -> Option<Duration> {
    let (txs, rxs) = C::open(cap, producers, consumers)?;
    // Share `0..items` out as evenly as the counts allow.
    let share = |i: usize, of: usize| items * i as u64 / of as u64;
    let start_line = Barrier::new(producers + consumers);
    let (start, end, sum) = thread::scope(|s| {
        let start_line = &start_line;
        let senders: Vec<_> = txs
            .into_iter()
            .enumerate()
            .map(|(p, tx)| {
                s.spawn(move || {
                    start_line.wait();
                    let start = Instant::now();
                    for item in share(p, producers)..share(p + 1, producers) {
                        C::send(&tx, black_box(item));
                    }
                    start
                })
            })
            .collect();
        let receivers: Vec<_> = rxs
            .into_iter()
            .enumerate()
            .map(|(c, mut rx)| {
                s.spawn(move || {
                    start_line.wait();
                    let start = Instant::now();
                    let mut sum = 0u64;
                    for _ in share(c, consumers)..share(c + 1, consumers) {
                        sum += C::recv(&mut rx).expect("senders outlive receivers");
                    }
                    (start, Instant::now(), sum)
                })
            })
            .collect();
        let mut starts = Vec::new();
        for sender in senders {
            starts.push(sender.join().expect("producer panicked"));
        }
        let (mut end, mut sum) = (None, 0);
        for receiver in receivers {
            let (start, at, part) = receiver.join().expect("consumer panicked");
            starts.push(start);
            end = end.max(Some(at));
            sum += part;
        }
        (starts.into_iter().min(), end, sum)
    });
    assert_eq!(
        sum,
        items * items.saturating_sub(1) / 2,
        "an item was lost or duplicated"
    );
    Some(end.expect("one consumer or more") - start.expect("one thread or more"))
}
// ANCHOR_END: transfer

// ANCHOR: criterion
/// Whether this is an optimised build (`cargo bench`) rather than the
/// debug smoke test (`cargo test --benches`).
pub const OPTIMISED: bool = !cfg!(debug_assertions);

/// The criterion settings of every bench: 2 cores and a suite that must
/// finish in minutes, so few samples of short, flat-sampled iterations.
/// Command-line flags (`--quick`, `--sample-size`, ...) still override them.
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args()
}

/// Sampling mode for the benches: every iteration moves thousands of items
/// across threads, so each takes milliseconds.
pub const SAMPLING: SamplingMode = SamplingMode::Flat;
// ANCHOR_END: criterion
