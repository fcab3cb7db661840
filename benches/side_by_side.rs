//! Step 5 (`fast`) and step 6 (`ring`) against crossbeam-channel, flume,
//! kanal and std's channels, measured side by side in one process.
//!
//! criterion measures one implementation after the other, each in a block of
//! its own; on two shared cores the load drifts between the blocks, and some
//! loads are bimodal (a long run either keeps spinning or falls into
//! sleep/wake cycles). Here every load runs in rounds: in each round every
//! implementation runs once, in an order that rotates from round to round,
//! and the table gives the median over the rounds with the min-max beside
//! it.
//!
//! Loads: `spsc`, `mpsc_4x1`, `mpmc_4x4` (`common::transfer`), each with
//! capacity 64 and 1024, and the pipeline of Effective Python, Item 55, with
//! 3/4/5 workers and capacity 64 (`common::seed`). With `--busy`: that pipeline
//! with 4/3/5 workers, 20,000 items, capacities 1 and 64, for steps 4, 5, 6 and
//! crossbeam-channel, while three `yes > /dev/null` processes compete for the
//! cores; each of those runs is a child process of this binary, killed once it
//! has taken `--limit` seconds. With `--unbounded`: spsc, mpmc_4x4 and
//! Effective Python's 3/4/5 pipeline with no bound, for steps 5 and 7 and
//! the channels.
//!
//! Full run: `scripts/side_by_side.sh`, or
//! `cargo bench --bench side_by_side -- [--rounds R] [--items N] [--busy | --unbounded] [--load NAME...] [--json PATH]`;
//! smoke test: `cargo test --bench side_by_side` (debug build, few items).

use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use clap::{CommandFactory, Parser, error::ErrorKind};

#[path = "common/mod.rs"]
mod common;
use common::seed::{SeedQueue, channel_pipeline, seed_pipeline};
use common::{Cap, Channel, Crossbeam, Flume, Kanal, Ladder, Std, transfer};

type Closable = queuelab::queue::closable::ClosableQueue<u64>;
type Fast = queuelab::queue::fast::ClosableQueue<u64>;
type Ring = queuelab::queue::ring::ClosableQueue<u64>;
type List = queuelab::queue::list::ClosableQueue<u64>;

/// Measures queues side by side, round by round (see the top of benches/side_by_side.rs).
#[derive(Parser)]
#[command(name = "side_by_side")]
struct Args {
    /// Rounds per load; each round runs every implementation once.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// Items moved by one run [default: 1,000,000, with --busy 20,000; a
    /// few thousand in a debug build].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    items: Option<u64>,
    /// Run the busy-machine loads instead, next to `--hogs` processes
    /// `yes > /dev/null`.
    #[arg(long)]
    busy: bool,
    /// Run the unbounded loads instead (steps 5 and 7 against the channels;
    /// step 6 is bounded only).
    #[arg(long, conflicts_with = "busy")]
    unbounded: bool,
    /// With --busy: how many `yes > /dev/null` run beside (0: the same
    /// loads on an idle machine, to compare with).
    #[arg(long, default_value_t = 3, requires = "busy")]
    hogs: usize,
    /// Run only these loads (default: all of the chosen set).
    #[arg(long = "load", value_name = "NAME", num_args = 1..)]
    loads: Vec<String>,
    /// Also write the raw numbers of every run, as JSON, to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// With --busy: seconds after which a run is stopped and reported as
    /// "> limit".
    #[arg(long, default_value_t = 10.0)]
    limit: f64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
    /// Internal (--busy): run this implementation once on the one --load
    /// and print the nanoseconds it took.
    #[arg(long, hide = true, value_name = "IMPL")]
    child: Option<String>,
}

/// What one run does.
#[derive(Clone, Copy)]
enum Shape {
    /// `common::transfer` with this many producers and consumers.
    Transfer(usize, usize),
    /// Effective Python's pipeline (Item 55) with this many workers per stage.
    Pipeline([usize; 3]),
}

struct Load {
    name: String,
    shape: Shape,
    cap: Cap,
}

impl Load {
    fn new(kind: &str, shape: Shape, cap: Cap) -> Self {
        let name = format!("{kind}_{}", cap.label());
        Load { name, shape, cap }
    }

    fn describe(&self) -> String {
        let cap = match self.cap.bound() {
            Some(n) => n.to_string(),
            None => "unbounded".to_string(),
        };
        match self.shape {
            Shape::Transfer(p, c) => {
                format!("producers: {p}, consumers: {c}, capacity {cap}")
            }
            Shape::Pipeline([a, b, c]) => {
                format!("Effective Python's pipeline, {a}/{b}/{c} workers, capacity {cap}")
            }
        }
    }
}

/// Which loads and implementations a run measures.
#[derive(Clone, Copy, PartialEq)]
enum Set {
    Default,
    Busy,
    Unbounded,
}

impl Set {
    fn of(args: &Args) -> Self {
        match (args.busy, args.unbounded) {
            (true, _) => Set::Busy,
            (false, true) => Set::Unbounded,
            (false, false) => Set::Default,
        }
    }

    fn flag(self) -> &'static str {
        match self {
            Set::Default => "without --busy or --unbounded",
            Set::Busy => "with --busy",
            Set::Unbounded => "with --unbounded",
        }
    }
}

/// The loads of a set.
fn loads(set: Set) -> Vec<Load> {
    let caps = |ns: [usize; 2]| ns.map(Cap::Bounded);
    if set == Set::Busy {
        let shape = Shape::Pipeline([4, 3, 5]);
        return caps([1, 64])
            .into_iter()
            .map(|cap| Load::new("busy_pipeline_4-3-5", shape, cap))
            .collect();
    }
    if set == Set::Unbounded {
        return vec![
            Load::new("spsc", Shape::Transfer(1, 1), Cap::Unbounded),
            Load::new("mpmc_4x4", Shape::Transfer(4, 4), Cap::Unbounded),
            Load::new("pipeline_3-4-5", Shape::Pipeline([3, 4, 5]), Cap::Unbounded),
        ];
    }
    let mut loads = Vec::new();
    for (kind, shape) in [
        ("spsc", Shape::Transfer(1, 1)),
        ("mpsc_4x1", Shape::Transfer(4, 1)),
        ("mpmc_4x4", Shape::Transfer(4, 4)),
    ] {
        for cap in caps([64, 1024]) {
            loads.push(Load::new(kind, shape, cap));
        }
    }
    loads.push(Load::new(
        "pipeline_3-4-5",
        Shape::Pipeline([3, 4, 5]),
        Cap::Bounded(64),
    ));
    loads
}

/// One implementation, and how it runs each shape.
#[derive(Clone, Copy)]
struct Impl {
    name: &'static str,
    transfer: fn(Cap, usize, usize, u64) -> Option<Duration>,
    pipeline: fn([usize; 3], Cap, u64) -> Option<Duration>,
}

/// A closable queue of the ladder: Effective Python's pipeline closes and
/// joins it.
fn ladder<Q: SeedQueue>() -> Impl {
    Impl {
        name: Q::NAME,
        transfer: transfer::<Ladder<Q>>,
        pipeline: seed_pipeline::<Q>,
    }
}

/// A channel: the pipeline stops a stage by dropping its senders.
fn channel<C: Channel>() -> Impl {
    Impl {
        name: C::NAME,
        transfer: transfer::<C>,
        pipeline: channel_pipeline::<C>,
    }
}

/// The implementations of a set.
fn impls(set: Set) -> Vec<Impl> {
    match set {
        Set::Busy => vec![
            ladder::<Closable>(),
            ladder::<Fast>(),
            ladder::<Ring>(),
            channel::<Crossbeam>(),
        ],
        Set::Default => vec![
            ladder::<Fast>(),
            ladder::<Ring>(),
            channel::<Crossbeam>(),
            channel::<Flume>(),
            channel::<Kanal>(),
            channel::<Std>(),
        ],
        Set::Unbounded => vec![
            ladder::<Fast>(),
            ladder::<List>(),
            channel::<Crossbeam>(),
            channel::<Flume>(),
            channel::<Kanal>(),
            channel::<Std>(),
        ],
    }
}

impl Impl {
    /// One run in this thread.
    fn run(&self, load: &Load, items: u64) -> Duration {
        match load.shape {
            Shape::Transfer(p, c) => (self.transfer)(load.cap, p, c, items),
            Shape::Pipeline(workers) => (self.pipeline)(workers, load.cap, items),
        }
        .expect("every implementation has every capacity of these loads")
    }
}

/// A child process that is killed and reaped when this is dropped, also
/// when a panic unwinds.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // It may have exited already; then kill fails and wait reaps it.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `count` CPU-bound `yes > /dev/null` processes; they stop when the
/// returned value is dropped.
fn start_hogs(count: usize) -> Vec<KillOnDrop> {
    (0..count)
        .map(|_| {
            let yes = Command::new("yes")
                .stdout(Stdio::null())
                .spawn()
                .expect("cannot start `yes`");
            KillOnDrop(yes)
        })
        .collect()
}

/// One run of `imp` on `load` in a child process of this binary; `None` if
/// it had not finished after `limit` (it is killed then).
fn run_in_child(load: &Load, imp: &Impl, items: u64, limit: Duration) -> Option<Duration> {
    let exe = std::env::current_exe().expect("the path of this binary");
    let child = Command::new(exe)
        .args(["--busy", "--load", &load.name, "--child", imp.name])
        .args(["--items", &items.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start a child run");
    let mut child = KillOnDrop(child);
    let mut stdout = child.0.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    // Reads until the child exits (or is killed), so the wait below can
    // give up after `limit`.
    thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        let _ = tx.send(out);
    });
    let out = rx.recv_timeout(limit).ok()?;
    let status = child.0.wait().expect("wait for a child run");
    assert!(
        status.success(),
        "child run {} {} failed: {status}",
        load.name,
        imp.name
    );
    let nanos = out.trim().parse().expect("a child run prints nanoseconds");
    Some(Duration::from_nanos(nanos))
}

/// One run: its place in the rounds and its time (`None`: over the limit).
struct Run {
    round: u32,
    implementation: &'static str,
    time: Option<Duration>,
}

/// Million items per second.
fn rate(items: u64, time: Duration) -> f64 {
    items as f64 / time.as_secs_f64() / 1e6
}

/// A time in seconds, in milliseconds below one second.
fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// A rate, or an upper bound for a run that went over the limit.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Rate {
    Below(f64),
    Is(f64),
}

impl Rate {
    fn value(self) -> f64 {
        match self {
            Rate::Below(x) | Rate::Is(x) => x,
        }
    }

    fn show(self) -> String {
        let digits = |x: f64| match x {
            x if x >= 100.0 => format!("{x:.0}"),
            x if x >= 10.0 => format!("{x:.1}"),
            x if x >= 0.1 => format!("{x:.2}"),
            x => format!("{x:.4}"),
        };
        match self {
            Rate::Below(x) => format!("< {}", digits(x)),
            Rate::Is(x) => digits(x),
        }
    }
}

/// The median, min and max rate of one implementation's runs.
struct Summary {
    median: Rate,
    min: Rate,
    max: Rate,
}

fn summarise(rates: &mut [Rate]) -> Summary {
    // `Below` sorts before any `Is`: a run over the limit was the slowest.
    rates.sort_by(|a, b| a.partial_cmp(b).expect("rates are finite"));
    let n = rates.len();
    let median = if n % 2 == 1 {
        rates[n / 2]
    } else {
        match (rates[n / 2 - 1], rates[n / 2]) {
            (Rate::Is(a), Rate::Is(b)) => Rate::Is((a + b) / 2.0),
            (low, _) => low,
        }
    };
    Summary {
        median,
        min: rates[0],
        max: rates[n - 1],
    }
}

/// `ours / theirs`, with the bound when either is over the limit.
fn ratio(ours: Rate, theirs: Rate) -> String {
    let r = ours.value() / theirs.value();
    match (ours, theirs) {
        (Rate::Is(_), Rate::Is(_)) => format!("{r:.2}"),
        (Rate::Below(_), Rate::Is(_)) => format!("< {r:.2}"),
        (Rate::Is(_), Rate::Below(_)) => format!("> {r:.2}"),
        (Rate::Below(_), Rate::Below(_)) => "—".to_string(),
    }
}

/// The markdown table of one load.
fn table(load: &Load, impls: &[Impl], runs: &[Run], items: u64, limit: Duration) -> String {
    let summary = |name: &str| {
        let mut rates: Vec<Rate> = runs
            .iter()
            .filter(|run| run.implementation == name)
            .map(|run| match run.time {
                Some(time) => Rate::Is(rate(items, time)),
                None => Rate::Below(rate(items, limit)),
            })
            .collect();
        summarise(&mut rates)
    };
    let crossbeam = summary(Crossbeam::NAME).median;
    let mut out = format!(
        "#### `{}`: {}\n\n| implementation | median M items/s | min-max | median time | ratio to crossbeam |\n|---|---:|---:|---:|---:|\n",
        load.name,
        load.describe()
    );
    for imp in impls {
        let s = summary(imp.name);
        let time = match s.median {
            Rate::Is(r) => seconds(items as f64 / r / 1e6),
            Rate::Below(_) => format!("> {} s", limit.as_secs_f64()),
        };
        writeln!(
            out,
            "| {} | {} | {} – {} | {} | {} |",
            imp.name,
            s.median.show(),
            s.min.show(),
            s.max.show(),
            time,
            ratio(s.median, crossbeam)
        )
        .unwrap();
    }
    out
}

/// The output of a command, trimmed; "unknown" if it cannot run.
fn output_of(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The first three fields of /proc/loadavg.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the numbers come from.
struct Context {
    date: String,
    commit: String,
    command: String,
    cores: usize,
    cpu: String,
    load_before: String,
}

impl Context {
    fn now(args: &[String]) -> Self {
        let mut commit = output_of("git", &["rev-parse", "--short", "HEAD"]);
        let dirty = output_of(
            "git",
            &[
                "status",
                "--porcelain",
                "--",
                "src",
                "benches",
                "Cargo.toml",
            ],
        );
        if !dirty.is_empty() && dirty != "unknown" {
            commit.push_str(" (with uncommitted changes in src/, benches/ or Cargo.toml)");
        }
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name")?.split_once(':'))
            .map(|(_, name)| name.trim().to_string())
            .unwrap_or_else(|| "unknown CPU".to_string());
        Context {
            date: output_of("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            commit,
            command: format!("cargo bench --bench side_by_side -- {}", args.join(" "))
                .trim_end()
                .to_string(),
            cores: thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            load_before: load_average(),
        }
    }
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn main() {
    let argv: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let args = Args::parse();
    if !(args.limit.is_finite() && args.limit > 0.0) {
        Args::command()
            .error(
                ErrorKind::InvalidValue,
                "--limit takes a positive number of seconds",
            )
            .exit();
    }
    let debug = !common::OPTIMISED;
    let items = args.items.unwrap_or(match (args.busy, debug) {
        (false, false) => 1_000_000,
        (true, false) => 20_000,
        (false, true) => 4_000,
        (true, true) => 2_000,
    });
    let set = Set::of(&args);
    let mut loads = loads(set);
    if !args.loads.is_empty() {
        for name in &args.loads {
            if !loads.iter().any(|load| &load.name == name) {
                let names: Vec<_> = loads.iter().map(|load| load.name.as_str()).collect();
                Args::command()
                    .error(
                        ErrorKind::InvalidValue,
                        format!("no load {name} {}; loads: {}", set.flag(), names.join(", ")),
                    )
                    .exit();
            }
        }
        loads.retain(|load| args.loads.contains(&load.name));
    }
    let impls = impls(set);

    if let Some(name) = &args.child {
        let imp = impls
            .iter()
            .find(|imp| imp.name == name)
            .expect("known implementation");
        let [load] = &loads[..] else {
            panic!("a child run takes one --load");
        };
        println!("{}", imp.run(load, items).as_nanos());
        return;
    }

    let context = Context::now(&argv);
    let limit = Duration::from_secs_f64(args.limit);
    let hogs = if args.busy {
        start_hogs(args.hogs)
    } else {
        Vec::new()
    };
    let mut results = Vec::new();
    for load in &loads {
        let mut runs = Vec::new();
        for round in 0..args.rounds {
            for k in 0..impls.len() {
                let imp = &impls[(k + round as usize) % impls.len()];
                let time = if args.busy {
                    run_in_child(load, imp, items, limit)
                } else {
                    Some(imp.run(load, items))
                };
                let shown = match time {
                    Some(time) => seconds(time.as_secs_f64()),
                    None => format!("> {} s", args.limit),
                };
                eprintln!("{} round {round}: {} {shown}", load.name, imp.name);
                runs.push(Run {
                    round,
                    implementation: imp.name,
                    time,
                });
            }
        }
        results.push(runs);
    }
    drop(hogs);
    let load_after = load_average();

    let names: Vec<_> = impls.iter().map(|imp| imp.name).collect();
    let mut doc = format!(
        "### Side by side{}: {}\n\n\
         *{}, commit `{}`. Machine: {} cores ({}). Load average before / after: {} / {}. Command: `{}`.*\n\n\
         Rounds: {}; items per run: {}. In each round every implementation runs once, in an order that \
         rotates from round to round. Million items per second: the median over the rounds, and the \
         slowest and fastest round. Ratio: the median over crossbeam-channel's median (above 1: faster).\n",
        match (args.busy, args.hogs) {
            (false, _) if args.unbounded => " without a bound".to_string(),
            (false, _) => String::new(),
            (true, 0) => " on an idle machine, busy set".to_string(),
            (true, _) => " on a busy machine".to_string(),
        },
        names.join(", "),
        context.date,
        context.commit,
        context.cores,
        context.cpu,
        context.load_before,
        load_after,
        context.command,
        args.rounds,
        items,
    );
    if args.busy {
        write!(
            doc,
            "\n{} `yes > /dev/null` processes ran on the same cores all along (the bench starts and \
             stops them). Each run is a child process, killed after {} s (`> {} s`).\n",
            args.hogs, args.limit, args.limit
        )
        .unwrap();
    }
    for (load, runs) in loads.iter().zip(&results) {
        doc.push('\n');
        doc.push_str(&table(load, &impls, runs, items, limit));
    }
    print!("{doc}");

    if let Some(path) = &args.json {
        let mut json = String::from("{\n");
        for (key, value) in [
            ("date", &context.date),
            ("commit", &context.commit),
            ("command", &context.command),
            ("cpu", &context.cpu),
            ("load_average_before", &context.load_before),
            ("load_average_after", &load_after),
        ] {
            writeln!(json, "  {}: {},", json_str(key), json_str(value)).unwrap();
        }
        writeln!(
            json,
            "  \"cores\": {},\n  \"rounds\": {},\n  \"items\": {items},\n  \"busy\": {},\n  \"hogs\": {},\n  \"limit_s\": {},\n  \"loads\": [",
            context.cores,
            args.rounds,
            args.busy,
            if args.busy { args.hogs } else { 0 },
            if args.busy { args.limit.to_string() } else { "null".to_string() },
        )
        .unwrap();
        for (i, (load, runs)) in loads.iter().zip(&results).enumerate() {
            writeln!(
                json,
                "    {{\"name\": {}, \"description\": {}, \"runs\": [",
                json_str(&load.name),
                json_str(&load.describe())
            )
            .unwrap();
            for (j, run) in runs.iter().enumerate() {
                let (seconds, mips) = match run.time {
                    Some(time) => (
                        time.as_secs_f64().to_string(),
                        rate(items, time).to_string(),
                    ),
                    None => ("null".to_string(), "null".to_string()),
                };
                let comma = if j + 1 < runs.len() { "," } else { "" };
                writeln!(
                    json,
                    "      {{\"round\": {}, \"implementation\": {}, \"seconds\": {seconds}, \"m_items_per_s\": {mips}}}{comma}",
                    run.round,
                    json_str(run.implementation)
                )
                .unwrap();
            }
            let comma = if i + 1 < loads.len() { "," } else { "" };
            writeln!(json, "    ]}}{comma}").unwrap();
        }
        json.push_str("  ]\n}\n");
        std::fs::write(path, json).expect("cannot write the JSON file");
    }
}
