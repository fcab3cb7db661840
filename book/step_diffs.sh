#!/usr/bin/env bash
# Writes the "final code" diffs of chapters 2, 3, 4 and 9: what each step of
# the ladder changes in the code of the step before it, as `diff -u` prints
# it, into book/src/output/diff-<old>-<new>.txt. Comment lines, doc comments
# and the tests module are left out of both files first, so that the diff
# shows only the code; the files themselves are the place to read the rest.
#
#   bash book/step_diffs.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=book/src/output
mkdir -p "$out"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

# code FILE: FILE without comment lines, without its tests module (from a
# `#[cfg(test)]` or `#[cfg(all(test, ...))]` at the start of a line on), and
# with runs of blank lines squeezed to one.
code() {
    awk '/^#\[cfg\((all\()?test/ { exit } /^[[:space:]]*\/\// { next } { print }' "$1" | cat -s
}

for pair in polling:blocking blocking:bounded bounded:closable closable:fast; do
    old=src/queue/${pair%%:*}.rs
    new=src/queue/${pair##*:}.rs
    {
        echo "\$ bash book/step_diffs.sh   # the code of $old against $new, comments and tests left out"
        diff -u --label "$old" --label "$new" <(code "$old") <(code "$new") || true
        echo "# commit $commit, $(date -u +%Y-%m-%d)"
    } >"$out/diff-${pair%%:*}-${pair##*:}.txt"
done
