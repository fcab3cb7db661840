#!/usr/bin/env python3
"""Times every loom model, bounded (LOOM_MAX_PREEMPTIONS=3, as in .ci/run) and
unbounded, and writes the table that chapter 7 of the book includes.

    python3 scripts/loom_timings.py [--limit SECONDS] [--out FILE] [--files NAME...]

With --files, only those test files (e.g. loom_ring loom_broken_ring) are
timed. The bounded column uses the bound .ci/run gives the model: 3, but
less for the step-6 copies of the shared models and for step 7 (see ci_bound).

Each model runs alone (`--exact NAME --test-threads=1`) from the loom test
binaries built with RUSTFLAGS="--cfg loom" into target/loom. A model that
runs longer than --limit (default 120 s) is stopped and reported as such.
The interleaving counts are the ones the models print (tests/loom_common).
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build():
    env = dict(os.environ, RUSTFLAGS="--cfg loom", CARGO_TARGET_DIR="target/loom")
    out = subprocess.run(
        ["cargo", "test", "--release", "--test", "loom_*", "--no-run", "--message-format=json"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout
    bins = {}
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            if "test" in msg["target"]["kind"]:
                bins[msg["target"]["name"]] = msg["executable"]
    return dict(sorted(bins.items()))


def models(binary):
    out = subprocess.run([binary, "--list"], capture_output=True, text=True, check=True).stdout
    return [line[: -len(": test")] for line in out.splitlines() if line.endswith(": test")]


# The two step-6 models that .ci/run runs with one preemption; the other
# step6:: models get two.
CI_BOUND_ONE = ("empty_two_blocked_consumers_one_producer", "full_two_blocked_producers_one_consumer")


def ci_bound(name, model):
    """The LOOM_MAX_PREEMPTIONS that .ci/run uses for this model."""
    if name == "loom_ring" and model.startswith("step6::"):
        return 1 if model.endswith(CI_BOUND_ONE) else 2
    if name == "loom_list":
        return 1 if model.endswith("task_done_join_two_workers") else 2
    return 3


def run(binary, model, bound, limit):
    env = dict(os.environ, RUST_BACKTRACE="0")
    if bound is not None:
        env["LOOM_MAX_PREEMPTIONS"] = str(bound)
    else:
        env.pop("LOOM_MAX_PREEMPTIONS", None)
    start = time.monotonic()
    try:
        out = subprocess.run(
            [binary, "--exact", model, "--nocapture", "--test-threads=1"],
            env=env, capture_output=True, text=True, timeout=limit,
        )
    except subprocess.TimeoutExpired:
        return f"stopped after {limit} s", ""
    elapsed = time.monotonic() - start
    text = out.stdout + out.stderr
    if out.returncode != 0:
        return "TEST FAILED", f"{elapsed:.2f} s"
    m = re.search(r"explored (\d+) interleavings", text)
    if m:
        return f"{int(m.group(1)):,}", f"{elapsed:.2f} s"
    m = re.search(r"found the failure in interleaving (\d+)", text)
    if m:
        return f"found in {int(m.group(1)):,}", f"{elapsed:.2f} s"
    return "?", f"{elapsed:.2f} s"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=120)
    parser.add_argument("--out", default=os.path.join(ROOT, "book/src/loom/timings.md"))
    parser.add_argument("--files", nargs="+", help="only these test files")
    args = parser.parse_args()

    rows = []
    for name, binary in build().items():
        if args.files and name not in args.files:
            continue
        for model in models(binary):
            bound = ci_bound(name, model)
            b = run(binary, model, bound, args.limit)
            u = run(binary, model, None, args.limit)
            shown = "" if bound == 3 else f" (bound {bound})"
            rows.append(f"| `{name}` `{model}`{shown} | {b[0]} | {b[1]} | {u[0]} | {u[1]} |")
            print(rows[-1], flush=True)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()[0]
    with open(args.out, "w") as f:
        f.write("<!-- Written by scripts/loom_timings.py; do not edit by hand. -->\n")
        f.write("| model | interleavings, `LOOM_MAX_PREEMPTIONS` as in CI (3 unless shown) | time "
                "| interleavings, no bound | time |\n")
        f.write("|---|---:|---:|---:|---:|\n")
        f.write("\n".join(rows) + "\n\n")
        files = f" --files {' '.join(args.files)}" if args.files else ""
        f.write(f"Measured with `python3 scripts/loom_timings.py --limit {args.limit}{files}` on "
                f"{os.cpu_count()} cores, {datetime.date.today()}, commit {commit} "
                f"(load average {load:.1f} at the end). \"found in N\": the interleaving in which "
                f"loom found the failure of a broken variant.\n")


if __name__ == "__main__":
    main()
