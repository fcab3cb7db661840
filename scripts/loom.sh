#!/usr/bin/env bash
# Runs loom models, by default with NO preemption bound: the exhaustive check
# that .ci/run (which sets LOOM_MAX_PREEMPTIONS=3) cannot afford. Each model
# prints how many interleavings loom explored and how long that took.
#
#   scripts/loom.sh loom_closable close_wakes_blocked_consumers   # one model
#   scripts/loom.sh loom_closable                                 # every model in the file
#   scripts/loom.sh -p 3 loom_closable                            # bounded, as in .ci/run
#
# Some models may take a very long time unbounded: see book/src/loom/timings.md
# for measured times.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: $0 [-p PREEMPTIONS] TEST_FILE [MODEL]   (TEST_FILE: a tests/loom_*.rs file without .rs, e.g. loom_closable)" >&2
    exit 2
}

bound=
if [[ ${1:-} == -p ]]; then
    [[ $# -ge 2 ]] || usage
    bound=$2
    shift 2
fi
[[ $# -ge 1 && $# -le 2 ]] || usage
file=$1
model=${2:-}

if [[ -n $bound ]]; then
    export LOOM_MAX_PREEMPTIONS=$bound
else
    unset LOOM_MAX_PREEMPTIONS
fi

filter=()
if [[ -n $model ]]; then
    filter=(--exact "$model")
fi

RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test --release --test "$file" -- --nocapture --test-threads=1 "${filter[@]}"
