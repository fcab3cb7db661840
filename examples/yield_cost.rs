//! How long does `thread::yield_now()` take? On an idle machine, a few
//! microseconds: the core goes to another runnable thread of ours, or comes
//! straight back. Next to programs that keep the cores busy, a yield can hand
//! the core to one of them for a whole time slice. Step 6's waiting
//! (`Patience`, in `src/queue/sleepers.rs`) is built on this measurement.
//! It also reads the process's CPU clock, as step 6 does to tell its own
//! threads from other programs, and prints what one reading costs.
//!
//! ```console
//! $ cargo run --release --example yield_cost                # 12 threads, idle machine
//! $ cargo run --release --example yield_cost -- --hogs 3    # next to three `yes > /dev/null`
//! ```

#[path = "common/cli.rs"]
mod cli;

use std::hint::black_box;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;

/// Times every `thread::yield_now()` of a few threads that do nothing else.
#[derive(Parser)]
#[command(name = "yield_cost")]
struct Args {
    /// Threads that yield at the same time (Effective Python's pipeline with 3/4/5 workers has 12).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=1024))]
    threads: u32,
    /// Yields per thread.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..))]
    yields: u32,
    /// CPU-bound `yes > /dev/null` processes to start beside them (and stop at the end).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=64))]
    hogs: u32,
}

/// A `yes > /dev/null` that is killed and reaped when dropped.
struct Hog(Child);

impl Drop for Hog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The CPU time used so far by every thread of this process.
#[cfg(unix)]
fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec` for the call to fill in.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// How long one reading of the process's CPU clock takes, averaged over
/// 1,000 readings.
#[cfg(unix)]
fn cpu_clock_cost() -> Option<Duration> {
    let start = Instant::now();
    for _ in 0..1000 {
        black_box(process_cpu_time());
    }
    Some(start.elapsed() / 1000)
}

#[cfg(not(unix))]
fn cpu_clock_cost() -> Option<Duration> {
    None
}

fn main() {
    let args: Args = cli::parse();
    let _hogs: Vec<Hog> = (0..args.hogs)
        .map(|_| {
            let child = Command::new("yes")
                .stdout(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    eprintln!("yield_cost: cannot start `yes`: {e}");
                    std::process::exit(1)
                });
            Hog(child)
        })
        .collect();

    let yields = args.yields;
    // Each thread also times the CPU clock once it is done yielding, while
    // the others may still run: the kernel adds up every thread's time.
    let (mut times, mut clock_costs): (Vec<Duration>, Vec<Option<Duration>>) = thread::scope(|s| {
        let threads: Vec<_> = (0..args.threads)
            .map(|_| {
                s.spawn(move || {
                    let times = (0..yields)
                        .map(|_| {
                            let start = Instant::now();
                            thread::yield_now();
                            start.elapsed()
                        })
                        .collect::<Vec<_>>();
                    (times, cpu_clock_cost())
                })
            })
            .collect();
        let mut times = Vec::new();
        let mut costs = Vec::new();
        for t in threads {
            let (mine, cost) = t.join().expect("a yielding thread panicked");
            times.extend(mine);
            costs.push(cost);
        }
        (times, costs)
    });
    times.sort();
    clock_costs.sort();

    let n = times.len();
    let at = |q: f64| times[((n - 1) as f64 * q).round() as usize];
    println!(
        "{} threads x {} yields, next to {} busy processes",
        args.threads, args.yields, args.hogs
    );
    println!(
        "median {:?}   90th percentile {:?}   99th percentile {:?}   longest {:?}",
        at(0.5),
        at(0.9),
        at(0.99),
        times[n - 1]
    );
    for limit_us in [100, 500, 2000] {
        let over = times
            .iter()
            .filter(|t| **t > Duration::from_micros(limit_us))
            .count();
        println!(
            "longer than {:>5} us: {over:>6} of {n} ({:.1} %)",
            limit_us,
            100.0 * over as f64 / n as f64
        );
    }
    match clock_costs[clock_costs.len() / 2] {
        Some(cost) => {
            println!("reading the process's CPU clock: {cost:?} (median over the threads)")
        }
        None => println!("reading the process's CPU clock: not measured on this system"),
    }
}
