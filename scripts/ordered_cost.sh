#!/usr/bin/env bash
# Measures what ordered output costs (examples/ordered_cost.rs) and writes the
# table to book/src/results/ordered_cost.md, with the machine and the command.
# It takes a few seconds once built. The stages sleep, so the figures are
# mostly waiting, not CPU; a debug build keeps the command quick to build.
#
#   bash scripts/ordered_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=book/src/results/ordered_cost.md
cmd=(cargo run --quiet --example ordered_cost)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain -- src examples Cargo.toml 2>/dev/null) ]]; then
    commit="$commit + uncommitted changes"
fi
cargo build --quiet --example ordered_cost
table=$("${cmd[@]}")
{
    echo "<!-- Written by scripts/ordered_cost.sh: do not edit by hand. -->"
    echo "*$(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$commit\`. Machine: $(nproc) cores" \
        "($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || echo unknown CPU))," \
        "$(uname -sr), $(rustc --version | cut -d' ' -f1-2). Load average before the run:" \
        "$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown). Command: \`${cmd[*]}\` (debug build).*"
    echo
    echo "$table"
} >"$out"
cat "$out"
