#!/usr/bin/env bash
# Compiles each program in book/compile_fail/, which must NOT compile, and
# writes rustc's error to book/src/output/rustc-<name>.txt: the command first, then
# what rustc printed, its exit status, and where and when it ran. Chapter 1
# shows these errors, so they are rustc's own words, not typed by hand.
#
#   bash book/compiler_output.sh
#
# It fails if a program compiles: then the chapter's lesson is wrong.
set -euo pipefail
cd "$(dirname "$0")/.."

out=book/src/output
mkdir -p "$out" target/compile_fail
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

# The programs use queuelab, so build it first (cargo's own lines left out).
cargo build --quiet --lib

for program in book/compile_fail/*.rs; do
    name=$(basename "$program" .rs)
    echo "compiling $name" >&2
    cmd=(rustc --edition 2024 --emit metadata -o "target/compile_fail/$name.rmeta"
        --extern queuelab=target/debug/libqueuelab.rlib -L dependency=target/debug/deps
        "$program")
    status=0
    printed=$("${cmd[@]}" 2>&1) || status=$?
    if [[ $status -eq 0 ]]; then
        echo "compiler_output.sh: $program compiled, but it is there to show an error" >&2
        exit 1
    fi
    {
        echo "\$ ${cmd[*]}"
        printf '%s\n' "$printed"
        echo "exit status: $status"
        echo "# $(rustc --version | cut -d' ' -f1-2), $(date -u +%Y-%m-%d), commit $commit"
    } >"$out/rustc-$name.txt"
done
