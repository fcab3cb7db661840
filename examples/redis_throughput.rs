//! What crossing a machine boundary costs: items per second through
//! `queuelab::redis::RedisQueue`, next to the in-process
//! `queuelab::ClosableQueue` under the same load (feature `redis`).
//!
//! For each T in `--threads`, T producers put small items (`u64`) into an
//! unbounded queue and T consumers each take one with `get`, add it up and
//! call `task_done`, until the queue is closed and drained. A run's time
//! ends with the last `task_done`, so the 50 ms in which a `RedisQueue`
//! consumer notices the close is not counted. Every run checks that each
//! item arrived exactly once, and uses a fresh queue.
//!
//! `--items` items go through Redis; the in-process queue carries 100 times
//! as many, because its runs would otherwise be too short to time: compare
//! items per second, not times. Each configuration runs `--runs` times,
//! the two queues interleaved; the table shows the median and the range.
//!
//! Without `--redis-url` the example starts its own `redis-server` (found
//! on `PATH`) on a free loopback port, without persistence, in a temporary
//! directory, and kills it at the end, also when a run fails.
//!
//! ```text
//! cargo run --release --features redis --example redis_throughput
//! cargo run --release --features redis --example redis_throughput -- --items 500 --threads 1,2
//! cargo run --release --features redis --example redis_throughput -- --redis-url redis://127.0.0.1:6379/
//! ```

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use clap::builder::RangedI64ValueParser;
use queuelab::ClosableQueue;
use queuelab::redis::RedisQueue;

#[path = "common/cli.rs"]
mod cli;
#[path = "common/redis_server.rs"]
mod redis_server;

type BoxError = Box<dyn Error + Send + Sync>;

/// How many more items the in-process queue carries than Redis.
const LOCAL_FACTOR: u64 = 100;

/// Items per second through RedisQueue and through ClosableQueue.
#[derive(Parser)]
#[command(name = "redis_throughput")]
struct Args {
    /// Items through RedisQueue per run; the in-process queue carries 100
    /// times as many (1 to 1000000)
    #[arg(long, value_name = "N", default_value_t = 5000, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<u64>::new().range(1..=1_000_000))]
    items: u64,
    /// Producers, and as many consumers, comma-separated (each 1 to 256)
    #[arg(long, value_name = "T,T,...", default_value = "1,4,16", value_parser = threads)]
    threads: Threads,
    /// Runs of each configuration; the median is shown (1 to 99)
    #[arg(long, value_name = "R", default_value_t = 5, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(1..=99))]
    runs: usize,
    /// A running Redis server (as redis://host:port/db); without it the
    /// example starts its own redis-server
    #[arg(long, value_name = "URL")]
    redis_url: Option<String>,
}

#[derive(Clone)]
struct Threads(Vec<usize>);

/// Parses `--threads`.
fn threads(text: &str) -> Result<Threads, String> {
    cli::whole_numbers(text, 1..=256, "a thread count").map(Threads)
}

/// The three calls the load makes, on either queue.
trait Load: Sync {
    fn put(&self, item: u64) -> Result<(), BoxError>;
    /// `get`, then `task_done`; `None` once the queue is closed and drained.
    fn take(&self) -> Result<Option<u64>, BoxError>;
    fn close(&self) -> Result<(), BoxError>;
}

impl Load for ClosableQueue<u64> {
    fn put(&self, item: u64) -> Result<(), BoxError> {
        ClosableQueue::put(self, item).map_err(|_| "put on a closed queue".into())
    }

    fn take(&self) -> Result<Option<u64>, BoxError> {
        let Some(item) = self.get() else {
            return Ok(None);
        };
        self.task_done()?;
        Ok(Some(item))
    }

    fn close(&self) -> Result<(), BoxError> {
        ClosableQueue::close(self);
        Ok(())
    }
}

impl Load for RedisQueue<u64> {
    fn put(&self, item: u64) -> Result<(), BoxError> {
        RedisQueue::put(self, item).map_err(|e| e.to_string().into())
    }

    fn take(&self) -> Result<Option<u64>, BoxError> {
        let Some(item) = self.get()? else {
            return Ok(None);
        };
        self.task_done()?;
        Ok(Some(item))
    }

    fn close(&self) -> Result<(), BoxError> {
        RedisQueue::close(self)?;
        Ok(())
    }
}

/// One run: `threads` producers put `0..items`, `threads` consumers take
/// them. Returns items per second, from the start to the last `task_done`.
fn run(queue: &impl Load, threads: usize, items: u64) -> Result<f64, BoxError> {
    let start_line = Barrier::new(2 * threads + 1);
    let (done, sum) = (AtomicU64::new(0), AtomicU64::new(0));
    let last = Mutex::new(None);
    let start = thread::scope(|s| -> Result<Instant, BoxError> {
        let (start_line, done, sum, last) = (&start_line, &done, &sum, &last);
        let producers: Vec<_> = (0..threads)
            .map(|p| {
                s.spawn(move || -> Result<(), BoxError> {
                    start_line.wait();
                    for n in (p as u64..items).step_by(threads) {
                        queue.put(n)?;
                    }
                    Ok(())
                })
            })
            .collect();
        let consumers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || -> Result<(), BoxError> {
                    start_line.wait();
                    while let Some(n) = queue.take()? {
                        sum.fetch_add(n, Ordering::Relaxed);
                        if done.fetch_add(1, Ordering::Relaxed) + 1 == items {
                            *last.lock().unwrap() = Some(Instant::now());
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        start_line.wait();
        let start = Instant::now();
        // Close even when a producer failed, so that the consumers end.
        let put: Result<(), BoxError> = producers.into_iter().try_for_each(|p| {
            p.join()
                .map_err(|_| BoxError::from("a producer panicked"))?
        });
        let closed = queue.close();
        for c in consumers {
            c.join().map_err(|_| "a consumer panicked")??;
        }
        put?;
        closed?;
        Ok(start)
    })?;
    let (done, sum) = (done.into_inner(), sum.into_inner());
    let expected = items * (items - 1) / 2;
    if done != items || sum != expected {
        return Err(format!(
            "{done} items arrived, {items} expected (sum {sum}, expected {expected})"
        )
        .into());
    }
    let end = last
        .into_inner()
        .unwrap()
        .expect("the last item was counted");
    Ok(items as f64 / (end - start).as_secs_f64())
}

/// One run through a fresh `RedisQueue`, whose keys are deleted afterwards.
fn run_redis(url: &str, name: &str, threads: usize, items: u64) -> Result<f64, BoxError> {
    let queue = RedisQueue::<u64>::builder(url, name).open()?;
    let result = run(&queue, threads, items);
    // The key names are in the module docs of `queuelab::redis`.
    let keys = ["stream", "closed", "capacity"].map(|k| format!("queuelab:{{{name}}}:{k}"));
    let mut conn = redis::Client::open(url)?.get_connection()?;
    redis::cmd("DEL").arg(&keys).exec(&mut conn)?;
    result
}

/// A `redis-server` of this example's own; killed, waited for and its
/// directory removed on drop, also when a run fails.
struct Server {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Server {
    /// Starts `redis-server` on a free loopback port, without persistence,
    /// and returns once it accepts connections. A port taken between the
    /// look-up and the start makes the server exit; then another is tried.
    fn start() -> Result<Server, BoxError> {
        let exe = on_path("redis-server").ok_or(
            "redis-server is not on PATH: install it (Debian: apt-get install redis-server) \
             or pass --redis-url",
        )?;
        let (child, port, dir) = redis_server::start(&exe, "queuelab-redis-throughput", false)
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        Ok(Server { child, dir, port })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The first file named `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|file| Path::is_file(file))
}

/// Median, fastest and slowest of the runs, in items per second.
fn summary(mut rates: Vec<f64>) -> (f64, f64, f64) {
    rates.sort_by(f64::total_cmp);
    (rates[rates.len() / 2], rates[0], rates[rates.len() - 1])
}

/// `1234567.8` as `1,234,568`.
fn grouped(x: f64) -> String {
    let digits = format!("{x:.0}");
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn main() {
    if let Err(e) = measure(cli::parse()) {
        eprintln!("redis_throughput: {e}");
        std::process::exit(1);
    }
}

/// Runs everything and prints the table.
fn measure(args: Args) -> Result<(), BoxError> {
    // The server, if this example starts one, lives until this returns,
    // also by an error or a panic: dropping it kills it.
    let (server, url) = match &args.redis_url {
        Some(url) => (None, url.clone()),
        None => {
            let server = Server::start()?;
            let url = server.url();
            (Some(server), url)
        }
    };
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let prefix = format!("throughput-{}-{stamp}", std::process::id());
    let local_items = args.items * LOCAL_FACTOR;

    let configs = &args.threads.0;
    let mut redis_rates = vec![Vec::new(); configs.len()];
    let mut local_rates = vec![Vec::new(); configs.len()];
    for r in 0..args.runs {
        for (i, &t) in configs.iter().enumerate() {
            let name = format!("{prefix}-{t}-{r}");
            redis_rates[i].push(run_redis(&url, &name, t, args.items)?);
            local_rates[i].push(run(&ClosableQueue::unbounded(), t, local_items)?);
        }
    }

    let server_note = match &server {
        Some(_) => "a redis-server this example started on loopback, without persistence",
        None => "the Redis server at --redis-url",
    };
    println!(
        "{} items per run through RedisQueue ({server_note}), {local_items} through \
         ClosableQueue; unbounded queues; median of {} runs, fastest and slowest in \
         brackets. Threads per side: that many producers and as many consumers, each \
         consumer doing get + task_done.\n",
        args.items, args.runs
    );
    println!(
        "| threads per side | RedisQueue items/s | ClosableQueue items/s | ClosableQueue / RedisQueue |"
    );
    println!("|---:|---:|---:|---:|");
    for (i, &t) in configs.iter().enumerate() {
        let (rm, rmin, rmax) = summary(redis_rates[i].clone());
        let (lm, lmin, lmax) = summary(local_rates[i].clone());
        println!(
            "| {t} | {} ({} – {}) | {} ({} – {}) | {:.0}× |",
            grouped(rm),
            grouped(rmin),
            grouped(rmax),
            grouped(lm),
            grouped(lmin),
            grouped(lmax),
            lm / rm
        );
    }
    println!(
        "\nRound trips to the server per item, for RedisQueue: put 1 (one script: \
         the closed flag, XADD), get 1 when an item is waiting (one script: \
         XAUTOCLAIM, XREADGROUP) and 2 or more when none is (the script, then \
         XREADGROUP BLOCK, which wakes when an item arrives), task_done 1 (one \
         script: XACK, XDEL); the item is encoded to JSON once and decoded once."
    );
    Ok(())
}
