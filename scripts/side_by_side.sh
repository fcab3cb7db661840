#!/usr/bin/env bash
# Runs benches/side_by_side.rs in release and writes its tables (with the
# header: machine, date, commit, command, load average) and the raw numbers
# of every run.
#
#   scripts/side_by_side.sh              default loads, 5 rounds of 1,000,000 items
#                                        (about 1 minute on 2 idle cores)
#                                        -> book/src/results/side_by_side.{md,json}
#   scripts/side_by_side.sh --busy       Effective Python's pipeline next to three `yes`
#                                        processes (a few minutes; each run stops
#                                        after 10 s) -> book/src/results/side_by_side_busy.{md,json}
#   scripts/side_by_side.sh --busy --hogs 0
#                                        the same loads on an idle machine, to compare
#                                        -> book/src/results/side_by_side_busy_hogs0.{md,json}
#   scripts/side_by_side.sh --unbounded  spsc, mpmc 4x4 and Effective Python's pipeline with no bound
#                                        -> book/src/results/side_by_side_unbounded.{md,json}
#   scripts/side_by_side.sh --out DIR    write somewhere else
#
# Any other argument goes to the bench: --rounds R, --items N, --load NAME...,
# --limit SECONDS (see `cargo bench --bench side_by_side -- --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

out=book/src/results
name=side_by_side
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2; shift ;;
        --busy) name=side_by_side_busy; args+=("$1") ;;
        --unbounded) name=side_by_side_unbounded; args+=("$1") ;;
        --hogs) [ "$2" = 3 ] || suffix=_hogs$2; args+=("$1" "$2"); shift ;;
        *) args+=("$1") ;;
    esac
    shift
done
name=$name${suffix:-}
mkdir -p "$out"

cargo bench --no-run --bench side_by_side
start=$SECONDS
{
    echo "<!-- Written by scripts/side_by_side.sh: do not edit by hand. -->"
    cargo bench --bench side_by_side -- "${args[@]}" --json "$out/$name.json"
} >"$out/$name.md.tmp"
mv "$out/$name.md.tmp" "$out/$name.md"
echo "side_by_side.sh: done in $((SECONDS - start)) s; see $out/$name.md and $out/$name.json" >&2
