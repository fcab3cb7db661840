#!/usr/bin/env bash
# Before/after numbers for each change of the fast step (src/queue/fast.rs).
#
#   scripts/fast_steps.sh [ROUNDS [LABEL...]]   default: 3 rounds of every step
#                                               (about 2 minutes per round)
#   scripts/fast_steps.sh --report              only rewrite the table from the last run
#
# Each change is a commit. For every commit in STEPS this builds the queues
# and pipeline bench binaries as they were at that commit (in git worktrees
# under target/fast-steps/), then runs them in turns, ROUNDS times, so that
# whatever else the machine is doing weighs on every version alike. Each run
# measures the `fast` queue and crossbeam-channel in the same process; the
# table shows the median over the rounds of fast's median time, and of the
# ratio fast / crossbeam measured in the same run. Writes
# book/src/results/fast_steps_data.md (chapter 9 of the book is the prose around it).
set -euo pipefail
cd "$(dirname "$0")/.."

report_only=false
if [ "${1:-}" = --report ]; then report_only=true; shift; fi
rounds=${1:-3}
shift || true
# label=commit: the commits where src/queue/fast.rs took each step.
ALL_STEPS=(
    "0-step4-copy=d25a8db"
    "1-sleeper-counts=8c99dcc"
    "2-spin-backoff=8bb07f5"
    "3-iter-one-lock=12d08c9"
    "4-watch-changes=28ef9cc"
    "5-padded-counter=2547f96"
    "6-no-sleeper-counts=816aaa7"
)
STEPS=()
for step in "${ALL_STEPS[@]}"; do
    if [ $# -eq 0 ] || [[ " $* " == *" ${step%%=*} "* ]]; then STEPS+=("$step"); fi
done
QUEUES_FILTER='^(spsc_cap(64|1024)/(fast|crossbeam)/1|mpmc_cap(64|1024)/(fast|crossbeam)/4)$'
PIPELINE_FILTER='^pipeline_3-4-5/(fast|crossbeam)/cap64$'

work=target/fast-steps
mkdir -p "$work/bin" book/src/results
export CARGO_TARGET_DIR=$PWD/$work/build

$report_only || for step in "${STEPS[@]}"; do
    label=${step%%=*}
    rev=$(git rev-parse --short "${step#*=}")
    tree=$work/tree-$rev
    if [ ! -e "$work/bin/$label-pipeline" ]; then
        echo "==> build $label ($rev)" >&2
        rm -rf "$tree"
        git worktree prune
        git worktree add --detach --force "$tree" "$rev" >/dev/null 2>&1
        (cd "$tree" && cargo bench --no-run --bench queues --bench pipeline --message-format=json 2>/dev/null) |
            python3 -c '
import json, sys, shutil
label, dest = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["target"]["kind"] == ["bench"]:
        name = msg["target"]["name"]
        shutil.copy(msg["executable"], f"{dest}/{label}-{name}")
' "$label" "$work/bin"
        git worktree remove --force "$tree"
        echo "$rev" >"$work/bin/$label.rev"
    fi
done

$report_only || rm -rf "$work/criterion"
$report_only || echo "load before: $(uptime)" >"$work/uptime.txt"
$report_only || for round in $(seq "$rounds"); do
    for step in "${STEPS[@]}"; do
        label=${step%%=*}
        echo "==> round $round: $label" >&2
        export CRITERION_HOME=$PWD/$work/criterion/$label/$round
        "$work/bin/$label-queues" --bench "$QUEUES_FILTER" >/dev/null 2>&1
        "$work/bin/$label-pipeline" --bench "$PIPELINE_FILTER" >/dev/null 2>&1
    done
done
$report_only || echo "load after: $(uptime)" >>"$work/uptime.txt"

python3 - "$work" "${STEPS[@]}" >book/src/results/fast_steps_data.md <<'EOF'
import glob, json, os, statistics, subprocess, sys
work, steps = sys.argv[1], sys.argv[2:]
benches = [("spsc_cap64", "1"), ("spsc_cap1024", "1"), ("mpmc_cap64", "4"), ("mpmc_cap1024", "4"),
           ("pipeline_3-4-5", "cap64")]

def median_ns(path):
    return json.load(open(path))["median"]["point_estimate"]

print("<!-- Written by scripts/fast_steps.sh: do not edit by hand. -->")
load = open(os.path.join(work, "uptime.txt")).read().split("\n")
cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
date = subprocess.run(["date", "-u", "+%Y-%m-%d %H:%M UTC"], capture_output=True, text=True).stdout.strip()
rounds = len(glob.glob(os.path.join(work, "criterion", steps[0].split("=")[0], "*")))
steps = [s for s in steps if os.path.isdir(os.path.join(work, "criterion", s.split("=")[0]))]
print(f"*{date}, {os.cpu_count()} cores ({cpu}); {rounds} rounds; "
      f"load average before / after: {load[0].split('load average:')[1].split(',')[0].strip()} / "
      f"{load[1].split('load average:')[1].split(',')[0].strip()}. Command: `scripts/fast_steps.sh {rounds}`.*\n")
print("Median time of one iteration of the `fast` queue (20,000 items for spsc/mpmc, 10,000 through "
      "the pipeline), and in brackets fast's time / crossbeam-channel's time in the same run "
      "(below 1.00x: faster than crossbeam).\n")
print("| change (commit) | " + " | ".join(f"{g} ({p})" for g, p in benches) + " |")
print("|---|" + "---:|" * len(benches))
for step in steps:
    label, rev = step.split("=")
    rev = open(os.path.join(work, "bin", label + ".rev")).read().strip()
    cells = []
    for group, param in benches:
        times, ratios = [], []
        for rnd in glob.glob(os.path.join(work, "criterion", label, "*")):
            fast = os.path.join(rnd, group, "fast", param, "new", "estimates.json")
            cb = os.path.join(rnd, group, "crossbeam", param, "new", "estimates.json")
            if os.path.exists(fast) and os.path.exists(cb):
                times.append(median_ns(fast))
                ratios.append(median_ns(fast) / median_ns(cb))
        if times:
            t = statistics.median(times) / 1e6
            cells.append(f"{t:.2f} ms ({statistics.median(ratios):.2f}x)")
        else:
            cells.append("—")
    print(f"| {label} (`{rev}`) | " + " | ".join(cells) + " |")
EOF
cat book/src/results/fast_steps_data.md
