#!/usr/bin/env bash
# What step 7's `taken` count costs: the count that lets `task_done` refuse a
# mark that no `get` took. Builds benches/side_by_side.rs twice, as it is and
# from a copy of the crate whose `get`, `try_get` and `get_timeout` in
# src/queue/list.rs no longer add to `taken` (that copy's `task_done` always
# refuses: it is for measuring only), then runs both next to crossbeam-channel,
# round by round, each run in a process of its own. Also counts each run's
# context switches: a run with few of them had its two ends take turns on one
# core, and such runs are faster on this 2-core machine (chapter 14).
#
#   bash scripts/taken_cost.sh [--rounds R] [--items N] [--out FILE]
#        defaults: 21 rounds of 1,000,000 items -> book/src/results/taken_cost.md
#
# Run it on a quiet machine; it takes about a minute once both are built.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: bash scripts/taken_cost.sh [--rounds R] [--items N] [--out FILE]" >&2
    [ -z "${1:-}" ] || echo "taken_cost.sh: $1" >&2
    exit 2
}
rounds=21 items=1000000 out=book/src/results/taken_cost.md
while [ $# -gt 0 ]; do
    case $1 in
        --rounds | --items | --out) [ $# -ge 2 ] || usage "$1 needs a value" ;;
        *) usage "unknown argument: $1" ;;
    esac
    case $1 in
        --rounds) rounds=$2 ;;
        --items) items=$2 ;;
        --out) out=$2 ;;
    esac
    shift 2
done
[[ $rounds =~ ^[1-9][0-9]*$ && $items =~ ^[1-9][0-9]*$ ]] ||
    usage "--rounds and --items take whole numbers above 0"

# The bench binary that `cargo bench --no-run` builds, for the crate in $1.
bench_binary() {
    (cd "$1" && cargo bench --no-run --bench side_by_side --message-format=json 2>/dev/null) |
        python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "side_by_side" and m.get("executable"):
        print(m["executable"])'
}

copy=target/taken-cost/crate
rm -rf "$copy" && mkdir -p "$copy"
cp -r Cargo.toml Cargo.lock src benches examples tests "$copy"/
lines=$(grep -c 'self.taken.fetch_add(1, Ordering::Relaxed);' "$copy/src/queue/list.rs" || true)
if [ "$lines" != 3 ]; then
    echo "taken_cost.sh: expected the 3 lines of get, try_get and get_timeout that add to taken in src/queue/list.rs, found $lines" >&2
    exit 1
fi
sed -i '/self.taken.fetch_add(1, Ordering::Relaxed);/d' "$copy/src/queue/list.rs"

# Each binary is copied aside as soon as it is built. The copy builds into a
# target directory of its own (cargo would give its binary the same name as
# the checkout's), seeded with a copy of the checkout's release build so
# that only the crate itself is compiled again.
bins=target/taken-cost/bin
mkdir -p "$bins" target/taken-cost/target
cp "$(bench_binary .)" "$bins/with"
if [ ! -d target/taken-cost/target/release ]; then
    cp -r target/release target/taken-cost/target/
fi
cp "$(CARGO_TARGET_DIR=$PWD/target/taken-cost/target bench_binary "$copy")" "$bins/without"
with=$bins/with without=$bins/without
[ -x "$with" ] && [ -x "$without" ] || { echo "taken_cost.sh: a build failed" >&2; exit 1; }

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain -- src benches Cargo.toml 2>/dev/null) ]]; then
    commit="$commit + uncommitted changes"
fi
mkdir -p "$(dirname "$out")"
python3 - "$with" "$without" "$rounds" "$items" "$commit" >"$out.tmp" <<'EOF'
import os, platform, resource, statistics, subprocess, sys, time

with_bin, without_bin, rounds, items, commit = sys.argv[1:6]
rounds, items = int(rounds), int(items)
runs = [
    ("step 7", with_bin, "list"),
    ("step 7 without `taken`", without_bin, "list"),
    ("crossbeam-channel", with_bin, "crossbeam"),
]
loads = ["spsc_unbounded", "mpmc_4x4_unbounded"]
load_before = open("/proc/loadavg").read().split()[0]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.split()[:2]

# With one producer and one consumer, a run with at most this many context
# switches had its two threads take turns on one core (the script's header).
FEW = 200

def one_run(binary, child, load):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([binary, "--unbounded", "--load", load, "--child", child,
                          "--items", str(items)], capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    switches = (after.ru_nvcsw - before.ru_nvcsw) + (after.ru_nivcsw - before.ru_nivcsw)
    return items / (int(out.strip()) / 1e9) / 1e6, switches

results = {(load, name): [] for load in loads for name, _, _ in runs}
for load in loads:
    for _ in range(rounds):
        for name, binary, child in runs:
            results[(load, name)].append(one_run(binary, child, load))

print("<!-- Written by scripts/taken_cost.sh: do not edit by hand. -->")
print(f"*{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit `{commit}`. "
      f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
      f"{' '.join(rustc)}. Load average before: {load_before}. "
      f"Command: `bash scripts/taken_cost.sh --rounds {rounds} --items {items}`.*")
print()
print(f"{rounds} rounds of {items:,} items per load; in each round every row runs once, in a process "
      "of its own. Million items per second: the median, and the middle half of the rounds; then "
      f"how many runs had at most {FEW} context switches, and the median of those runs and of the others.")
print()
print(f"| load | queue | median | middle half | runs with ≤ {FEW} switches | their median | the others' median |")
print("|---|---|---:|---:|---:|---:|---:|")
def q(v, p):
    return v[round(p * (len(v) - 1))]
for load in loads:
    for name, _, _ in runs:
        rates = sorted(r for r, _ in results[(load, name)])
        few = sorted(r for r, s in results[(load, name)] if s <= FEW)
        many = sorted(r for r, s in results[(load, name)] if s > FEW)
        med = lambda v: f"{statistics.median(v):.1f}" if v else "–"
        print(f"| {load.removesuffix('_unbounded')} | {name} | {statistics.median(rates):.1f} | "
              f"{q(rates, 0.25):.1f}–{q(rates, 0.75):.1f} | {len(few)} of {len(rates)} | {med(few)} | {med(many)} |")
EOF
mv "$out.tmp" "$out"
cat "$out"
