#!/usr/bin/env python3
"""Turns a bench run into the markdown (and SVG) results the book includes.

Called by scripts/results.sh, which runs the benches first. Reads:
- criterion's medians: <target>/criterion/**/new/{benchmark,estimates}.json
  (only those written since --since, so stale results are never quoted);
- the raw outputs results.sh saved in --raw: polling_cost.md, memory.md,
  python.jsonl, uptime_before.txt, uptime_after.txt.
Writes into --out: summary.md, queues.md, pipeline.md, polling_cost.md,
memory.md, python_vs_rust.md, queues.svg, pipeline.svg, and medians.json (the
numbers every table was made from).

Standard library only.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
from html import escape

QUEUE_IMPLS = ["polling", "blocking", "bounded", "closable", "fast", "ring", "crossbeam", "flume", "kanal", "std"]
PIPE_IMPLS = ["closable", "fast", "ring", "crossbeam", "flume", "kanal", "polling-10ms"]
CAPS = ["cap1", "cap64", "cap1024", "unbounded"]
COLORS = {
    "polling": "#bbbbbb",
    "blocking": "#999999",
    "bounded": "#777777",
    "closable": "#4e79a7",
    "fast": "#f28e2b",
    "ring": "#edc948",
    "crossbeam": "#59a14f",
    "flume": "#76b7b2",
    "kanal": "#9c755f",
    "std": "#e15759",
    "polling-10ms": "#b07aa1",
}


def read(path, default=""):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return default


def collect(target, since):
    """Medians of every criterion bench whose estimates were written after `since`."""
    rows = []
    pattern = os.path.join(target, "criterion", "**", "new", "estimates.json")
    for est_path in glob.glob(pattern, recursive=True):
        if os.path.getmtime(est_path) < since:
            continue
        bench = json.load(open(os.path.join(os.path.dirname(est_path), "benchmark.json")))
        est = json.load(open(est_path))
        elements = (bench.get("throughput") or {}).get("Elements")
        rows.append({
            "group": bench["group_id"],
            "impl": bench["function_id"],
            "param": bench["value_str"],
            "median_ns": est["median"]["point_estimate"],
            "median_low_ns": est["median"]["confidence_interval"]["lower_bound"],
            "median_high_ns": est["median"]["confidence_interval"]["upper_bound"],
            "elements": elements,
        })
    rows.sort(key=lambda r: (r["group"], r["impl"], r["param"]))
    return rows


def machine():
    cpu = "unknown CPU"
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    cores = os.cpu_count()
    mem = ""
    for line in read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{cores} cores ({cpu}){mem}, {platform.system()} {platform.release()}, {rustc}"


def commit(raw):
    """The commit the run started at (results.sh notes it), else HEAD now."""
    noted = read(os.path.join(raw, "commit.txt")).strip()
    if noted:
        return noted
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "benches", "Cargo.toml"],
                           capture_output=True, text=True).stdout.strip()
    return rev + (" (with uncommitted changes in src/ or benches/)" if dirty else "")


def header(ctx, title, command):
    return (
        f"<!-- Written by scripts/results.sh: do not edit by hand. -->\n"
        f"### {title}\n\n"
        f"*{ctx['date']}, commit `{ctx['commit']}`{ctx['mode_note']}. Machine: {ctx['machine']}. "
        f"Load average before / after the run: {ctx['load_before']} / {ctx['load_after']}. "
        f"Command: `{command}`.*\n\n"
    )


def load_avg(text):
    """'load average: 1.60, 1.55, 0.92' -> '1.60'."""
    if "load average:" not in text:
        return "?"
    return text.split("load average:")[1].split(",")[0].strip()


def fmt_time(ns):
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.1f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.2f} s"


def melem(row):
    return row["elements"] / (row["median_ns"] / 1e9) / 1e6


def index(rows):
    return {(r["group"], r["impl"], r["param"]): r for r in rows}


def cell(row):
    if row is None:
        return "—"
    return f"{melem(row):.2f} ({fmt_time(row['median_ns'])})"


def queues_md(ctx, rows):
    idx = index(rows)
    out = [header(ctx, "Queues: every step of the ladder vs crossbeam-channel and std",
                  "cargo bench --bench queues" + ctx["crit_args"])]
    out.append(
        "Each cell: million items per second, from the median time of one iteration (in "
        "brackets) that moves the items from the producers to the consumers. Higher is "
        "better. `threads` is the number of producers (mpsc) or of producers and of consumers "
        "each (mpmc). A queue that has no such capacity is not in that capacity's table; a "
        "dash marks a measurement that is missing. std's `Receiver` cannot be shared, so "
        "with several consumers they take turns through an `Arc<Mutex<Receiver>>`.\n")
    for shape, params in [("spsc", ["1"]), ("mpsc", ["2", "4", "8"]), ("mpmc", ["2", "4", "8"])]:
        for cap in CAPS:
            group = f"{shape}_{cap}"
            impls = [i for i in QUEUE_IMPLS if any((group, i, p) in idx for p in params)]
            if not impls:
                continue
            out.append(f"\n#### `{group}`\n")
            out.append("| implementation | " + " | ".join(f"threads = {p}" for p in params) + " |")
            out.append("|---|" + "---:|" * len(params))
            for impl in impls:
                out.append(f"| {impl} | " + " | ".join(cell(idx.get((group, impl, p))) for p in params) + " |")
    return "\n".join(out) + "\n"


def ratio_vs(idx, group, impl, param, peer="crossbeam"):
    mine, theirs = idx.get((group, impl, param)), idx.get((group, peer, param))
    if not mine or not theirs:
        return None
    return mine["median_ns"] / theirs["median_ns"]


def headline_md(ctx, rows):
    """The side-by-side table the issue asks for, with time ratios to crossbeam."""
    idx = index(rows)
    lines = ["| bench | closable (step 4) | fast (step 5) | ring (step 6) | crossbeam-channel "
             "| flume | kanal | std | step 4 / crossbeam | step 5 / crossbeam | step 6 / crossbeam |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def ratio(group, impl, param):
        r = ratio_vs(idx, group, impl, param)
        return f"{r:.2f}x" if r else "—"

    def line(name, group, param, impls):
        cells = [cell(idx.get((group, i, param))) if i else "—" for i in impls]
        ratios = [ratio(group, i, param) for i in ("closable", "fast", "ring")]
        lines.append(f"| {name} | " + " | ".join(cells + ratios) + " |")

    for cap in ("cap64", "cap1024"):
        for shape, param in [("spsc", "1"), ("mpmc", "2"), ("mpmc", "4"), ("mpmc", "8")]:
            group = f"{shape}_{cap}"
            if (group, "crossbeam", param) in idx:
                name = f"{shape} {cap}" + (f", {param}+{param} threads" if shape == "mpmc" else "")
                line(name, group, param, ["closable", "fast", "ring", "crossbeam", "flume", "kanal", "std"])
    for cap in ("cap64", "cap1", "unbounded"):
        if ("pipeline_3-4-5", "crossbeam", cap) in idx:
            line(f"pipeline 3/4/5 {cap}", "pipeline_3-4-5", cap,
                 ["closable", "fast", "ring", "crossbeam", "flume", "kanal", None])
    return "\n".join(lines) + "\n"


def pipeline_md(ctx, rows):
    idx = index(rows)
    out = [header(ctx, "Effective Python's pipeline: ClosableQueue vs crossbeam-channel",
                  "cargo bench --bench pipeline" + ctx["crit_args"])]
    out.append(
        "download → resize → upload with no-op stages; one iteration is the whole program "
        "(start the workers, put the items, stop each stage in order). Each cell: million items "
        "per second through the whole pipeline (median time of one run in brackets). The "
        "capacity bounds the three stage queues; the done queue is unbounded as in Effective Python. "
        "`polling-10ms` is Effective Python's first version (PollingQueue, workers sleep 10 ms when "
        "their queue is empty), 1/1/1 unbounded only.\n")
    for group in ("pipeline_1-1-1", "pipeline_3-4-5"):
        caps = ["cap1", "cap64", "unbounded"]
        out.append(f"\n#### `{group}`\n")
        out.append("| implementation | " + " | ".join(caps) + " |")
        out.append("|---|" + "---:|" * len(caps))
        for impl in PIPE_IMPLS:
            if any((group, impl, c) in idx for c in caps):
                out.append(f"| {impl} | " + " | ".join(cell(idx.get((group, impl, c))) for c in caps) + " |")
    return "\n".join(out) + "\n"


def python_md(ctx, rows, python_lines):
    idx = index(rows)
    runs = {}
    for line in python_lines:
        r = json.loads(line)
        key = (r["pipeline"], tuple(r["workers"]), r["capacity"], r["items"])
        runs.setdefault(key, []).append(r)
    out = [header(ctx, "Effective Python's pipelines: Python vs Rust",
                  "python3 book/python/polling_pipeline.py / closable_pipeline.py (see results.sh), "
                  "cargo bench --bench pipeline" + ctx["crit_args"])]
    out.append(
        "The same programs with the same item counts and no-op stages: median wall time of "
        f"the Python runs ({python_lines and json.loads(python_lines[0])['python']} with its "
        "GIL; `book/python/`) next to the criterion median of the Rust bench. Python's "
        "`ClosableQueue` closes with one sentinel per worker, as in Effective Python.\n")
    out.append("| pipeline | items | Python | Rust step 4 | Rust step 5 | Rust crossbeam | Python polls |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for (kind, workers, capacity, items), rs in sorted(runs.items(), key=lambda kv: str(kv[0])):
        py = statistics.median(r["seconds"] for r in rs) * 1e9
        polls = statistics.median(r["polls"] for r in rs) if "polls" in rs[0] else None
        cap = f"cap{capacity}" if capacity else "unbounded"
        group = "pipeline_" + "-".join(map(str, workers))
        name = f"{kind} {'/'.join(map(str, workers))}, {cap}"
        if kind == "polling":
            rust = [idx.get((group, "polling-10ms", cap)), None, None]
        else:
            rust = [idx.get((group, i, cap)) for i in ("closable", "fast", "crossbeam")]
        same_items = [r for r in rust if r and r["elements"] == items]
        cells = [fmt_time(r["median_ns"]) if r in same_items else "—" for r in rust]
        if kind == "polling" and rust[0] in same_items:
            cells[0] += " (polling-10ms)"
        polls_cell = f"{polls:.0f}" if polls is not None else "—"
        out.append(f"| {name} | {items} | {fmt_time(py)} | " + " | ".join(cells) + f" | {polls_cell} |")
    return "\n".join(out) + "\n"


DISPLAY = {"closable": "step 4 (closable)", "fast": "step 5 (fast)", "ring": "step 6 (ring)"}


def bars_svg(title, groups, series, value_label):
    """A horizontal grouped bar chart: groups = [(label, {series: value})]."""
    bar_h, gap, left, width = 14, 12, 270, 760
    plot_w = width - left - 80
    vmax = max((v for _, vals in groups for v in vals.values() if v), default=1)
    height = 60 + sum(len([s for s in series if vals.get(s)]) * bar_h + gap for _, vals in groups) + 30
    y = 50
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">{escape(title)}</text>',
             f'<text x="{width / 2}" y="38" text-anchor="middle" fill="#555">{escape(value_label)}</text>']
    for label, vals in groups:
        shown = [s for s in series if vals.get(s)]
        if not shown:
            continue
        group_h = len(shown) * bar_h
        parts.append(f'<text x="{left - 125}" y="{y + group_h / 2 + 4}" text-anchor="end" '
                     f'font-weight="bold">{escape(label)}</text>')
        for s in shown:
            v = vals[s]
            w = plot_w * v / vmax
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{COLORS.get(s, "#333")}"/>')
            parts.append(f'<text x="{left - 5}" y="{y + bar_h - 4}" text-anchor="end" '
                         f'fill="#333">{escape(DISPLAY.get(s, s))}</text>')
            parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 4}" fill="#333">{v:.2f}</text>')
            y += bar_h
        y += gap
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def charts(rows):
    idx = index(rows)
    series = ["closable", "fast", "crossbeam", "std"]
    groups = []
    for cap in ("cap64", "cap1024"):
        for shape, param in [("spsc", "1"), ("mpmc", "2"), ("mpmc", "4"), ("mpmc", "8")]:
            vals = {s: melem(idx[(f"{shape}_{cap}", s, param)]) for s in series
                    if (f"{shape}_{cap}", s, param) in idx}
            name = f"{shape} {cap}" + (f" {param}x{param}" if shape == "mpmc" else "")
            groups.append((name, vals))
    queues = bars_svg("Queues: throughput (higher is better)", groups, series, "million items per second, median")
    pgroups = []
    for workers in ("1-1-1", "3-4-5"):
        for cap in ("cap1", "cap64", "unbounded"):
            vals = {s: melem(idx[(f"pipeline_{workers}", s, cap)]) for s in PIPE_IMPLS
                    if (f"pipeline_{workers}", s, cap) in idx}
            pgroups.append((f"{workers.replace('-', '/')} {cap}", vals))
    pipeline = bars_svg("The pipeline of Effective Python, Item 55: throughput (higher is better)",
                        pgroups, PIPE_IMPLS, "million items per second through all three stages, median")
    return queues, pipeline


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--since", type=float, required=True, help="unix time the run started")
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--target", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--memory-only", action="store_true", help="write memory.md only")
    args = ap.parse_args()

    started = datetime.datetime.fromtimestamp(args.since, datetime.timezone.utc)
    ctx = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(args.raw),
        "machine": machine(),
        "load_before": load_avg(read(os.path.join(args.raw, "uptime_before.txt"))),
        "load_after": load_avg(read(os.path.join(args.raw, "uptime_after.txt"))),
        "mode_note": ", **quick mode: rough numbers, do not quote**" if args.quick else "",
        "crit_args": " -- --quick" if args.quick else "",
    }
    os.makedirs(args.out, exist_ok=True)

    def write(name, text):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write(text)

    memory = read(os.path.join(args.raw, "memory.md"))
    mem_cmd = "cargo run --release --example memory" + (" -- --items 100000" if args.quick else "")
    write("memory.md", header(ctx, "Memory: unbounded vs bounded", mem_cmd) + memory)
    if args.memory_only:
        print(f"results.py: memory.md -> {args.out}")
        return

    rows = collect(args.target, args.since)
    with open(os.path.join(args.out, "medians.json"), "w") as f:
        json.dump({"context": ctx, "benches": rows}, f, indent=1)
        f.write("\n")
    write("queues.md", queues_md(ctx, rows))
    write("pipeline.md", pipeline_md(ctx, rows))
    write("summary.md", header(ctx, "Summary: ours vs crossbeam-channel vs std", "scripts/results.sh" + (" --quick" if args.quick else ""))
          + "Million items per second (median time of one iteration in brackets); the last two "
            "columns are our time divided by crossbeam-channel's (below 1: faster). Queue "
            "benches move 20,000 items per iteration (2,000 with capacity 1); pipeline runs "
            "move 10,000 items through three stages. Full tables: queues.md, pipeline.md.\n\n"
          + headline_md(ctx, rows))
    polling = read(os.path.join(args.raw, "polling_cost.md"))
    write("polling_cost.md", header(ctx, "What polling costs", "cargo bench --bench polling_cost") + polling)
    py_lines = [l for l in read(os.path.join(args.raw, "python.jsonl")).splitlines() if l.strip()]
    write("python_vs_rust.md", python_md(ctx, rows, py_lines))
    try:
        queues_svg, pipeline_svg = charts(rows)
        write("queues.svg", queues_svg)
        write("pipeline.svg", pipeline_svg)
    except KeyError as missing:
        print(f"results.py: no chart, missing bench {missing}")
    print(f"results.py: {len(rows)} criterion medians -> {args.out}")


if __name__ == "__main__":
    main()
