#!/usr/bin/env bash
# Runs the whole measurement suite and writes the results the book includes.
#
#   scripts/results.sh           full run (about 15 minutes on 2 cores) -> book/src/results/
#   scripts/results.sh --quick   rough run (a few minutes) -> target/results-quick/
#   scripts/results.sh --out DIR write somewhere else
#   scripts/results.sh --memory-only   only the memory figure (about a minute)
#
# Steps: criterion benches queues and pipeline (medians are read from
# target/criterion/**/new/estimates.json, not from the printed text), the
# polling-cost table (benches/polling_cost.rs), the memory figure
# (examples/memory.rs), the Python versions of the pipelines of Effective
# Python, Item 55 (book/python/), then scripts/results.py writes the markdown
# and SVG files. Needs cargo and python3. Benchmarks are noisy when anything
# else runs: the load average before and after is written next to the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
memory_only=false
out=book/src/results
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=true; out=target/results-quick ;;
        --out) out=$2; shift ;;
        --memory-only) memory_only=true ;;
        *) echo "usage: $0 [--quick] [--memory-only] [--out DIR]" >&2; exit 2 ;;
    esac
    shift
done

target=${CARGO_TARGET_DIR:-target}
raw=$target/results-raw
mkdir -p "$raw" "$out"
rm -f "$raw"/*

crit_args=()
memory_items=1000000
python_runs=7
if $quick; then
    crit_args=(--quick)
    memory_items=100000
    python_runs=3
fi

step() {
    echo "==> $*" >&2
}

since=$(date +%s)
uptime >"$raw/uptime_before.txt"
rev=$(git rev-parse --short HEAD)
if [ -n "$(git status --porcelain -- src benches Cargo.toml)" ]; then
    rev="$rev (with uncommitted changes in src/ or benches/)"
fi
echo "$rev" >"$raw/commit.txt"
start=$SECONDS

step "build"
$memory_only || cargo bench --no-run --bench queues --bench pipeline --bench polling_cost
cargo build --release --example memory

step "memory"
"$target/release/examples/memory" --items "$memory_items" >"$raw/memory.md"

if ! $memory_only; then
    step "criterion: queues"
    cargo bench --bench queues -- "${crit_args[@]}"

    step "criterion: pipeline"
    cargo bench --bench pipeline -- "${crit_args[@]}"

    step "polling cost"
    cargo bench --bench polling_cost >"$raw/polling_cost.md"

    step "python"
    for items in 1000 10000; do
        python3 book/python/polling_pipeline.py --items "$items" --runs "$python_runs"
    done >"$raw/python.jsonl"
    for capacity in 0 1 64; do
        python3 book/python/closable_pipeline.py --items 10000 --runs "$python_runs" \
            --workers 3,4,5 --capacity "$capacity"
        python3 book/python/closable_pipeline.py --items 10000 --runs "$python_runs" \
            --workers 1,1,1 --capacity "$capacity"
    done >>"$raw/python.jsonl"
fi

uptime >"$raw/uptime_after.txt"

step "write $out"
flags=()
if $quick; then flags+=(--quick); fi
if $memory_only; then flags+=(--memory-only); fi
python3 scripts/results.py --since "$since" --raw "$raw" --out "$out" --target "$target" "${flags[@]}"
echo "results.sh: done in $((SECONDS - start)) s; see $out" >&2
