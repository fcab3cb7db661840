#!/usr/bin/env bash
# Runs the Rust examples (and two tests and one loom test file) that chapters
# 4 to 15 show, and writes what each printed to book/src/output/ch0N-<name>.txt.
# Every file starts with the command and ends with where and when it ran, so
# no output in the book is typed by hand. Timings change from run to run; the
# chapters say which numbers do.
#
#   bash book/examples_output.sh          # all of them (about a minute once built)
#   bash book/examples_output.sh ch06     # only those whose name starts so
#
# The Python transcripts are written by book/python/run_examples.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

out=book/src/output
mkdir -p "$out"
only=${1:-}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain -- src examples tests Cargo.toml Cargo.lock 2>/dev/null) ]]; then
    commit="$commit + uncommitted changes"
fi

wanted() { [[ -z $only || $1 == "$only"* ]]; }

where() {
    echo "# $(rustc --version | cut -d' ' -f1-2), $(nproc) cores, $(date -u +%Y-%m-%d), commit $commit"
}

# capture NAME COMMAND...: runs COMMAND into $out/NAME.txt, after a line that
# shows it. A command that fails has its exit status written down.
capture() {
    local name=$1
    shift
    wanted "$name" || return 0
    echo "running $name" >&2
    {
        echo "\$ $*"
        local status=0
        "$@" 2>&1 || status=$?
        [[ $status -eq 0 ]] || echo "exit status: $status"
        where
    } >"$out/$name.txt"
}

# Build first, so that cargo's own lines stay out of the transcripts.
cargo build --quiet --release --examples

# capture_parts NAME "K..." COMMAND...: like capture, for producer_consumer,
# whose output has one section per demonstration ("== 1. ..."): writes
# section K to $out/NAME-K.txt, with the command line and the machine line.
capture_parts() {
    local name=$1 parts=$2
    shift 2
    wanted "$name" || return 0
    echo "running $name" >&2
    local all
    all=$("$@" 2>&1)
    for k in $parts; do
        {
            echo "\$ $*"
            printf '%s\n' "$all" | awk -v k="$k." '/^== / { on = ($2 == k) } on && NF { print }'
            where
        } >"$out/$name-$k.txt"
    done
}

# Chapter 4's worker that panics, stopped the way that cannot hang: one
# test, run with its output shown. The test harness's own lines and the panic
# hook's note about RUST_BACKTRACE are left out; no backtrace, whatever the
# environment says.
if wanted ch04-stop-all; then
    echo "running ch04-stop-all" >&2
    {
        cmd=(env RUST_BACKTRACE=0 cargo test --quiet --test stoppable_worker a_sole_worker -- --nocapture)
        echo "\$ ${cmd[*]}"
        "${cmd[@]}" 2>&1 |
            grep -v -e '^running [0-9]' -e '^test result:' -e '^\.$' -e '^$' -e '^note: run with'
        where
    } >"$out/ch04-stop-all.txt"
fi

# Chapter 15: a consumer process killed with SIGKILL while it holds an item
# of a RedisQueue (tests/redis_queue.rs; the test starts its own
# redis-server). Only the test's own lines are kept.
if wanted ch15-redis-killed-worker; then
    echo "running ch15-redis-killed-worker" >&2
    {
        cmd=(cargo test --quiet --features redis --test redis_queue a_consumer_killed -- --nocapture)
        echo "\$ ${cmd[*]}"
        "${cmd[@]}" 2>&1 |
            grep -v -e '^running [0-9]' -e '^test result:' -e '^\.$' -e '^$'
        where
    } >"$out/ch15-redis-killed-worker.txt"
fi

capture_parts ch05-producer-consumer "1 2 3" \
    cargo run --quiet --release --example producer_consumer
capture_parts ch05-producer-consumer-capacity "2" \
    cargo run --quiet --release --example producer_consumer -- --items 4 --capacity 2

capture ch06-busy-polling \
    cargo run --quiet --release --example busy_polling
capture ch06-busy-polling-latency \
    cargo run --quiet --release --example busy_polling -- --latency-us 100
capture ch06-pipeline \
    cargo run --quiet --release --example pipeline
capture ch06-thumbnails \
    cargo run --quiet --release --example thumbnails

# Chapter 15: the pipe trap (examples/pipe_deadlock.rs). The second one hangs
# until the example's watchdog kills its child, and exits with status 1.
capture ch15-pipe-fits \
    cargo run --quiet --release --example pipe_deadlock -- --bytes 1000
capture ch15-pipe-hang \
    cargo run --quiet --release --example pipe_deadlock
capture ch15-pipe-reader-thread \
    cargo run --quiet --release --example pipe_deadlock -- --mode reader-thread

# Chapter 13: what a yield costs, on an idle machine and next to three
# CPU-bound processes (the example starts and stops them).
capture ch13-yield-cost-idle \
    cargo run --quiet --release --example yield_cost
capture ch13-yield-cost-busy \
    cargo run --quiet --release --example yield_cost -- --hogs 3

# The thumbnails job on a folder with one file that is not a PNG image: 20
# of the test images drawn by the run above, and a text file named like them.
if wanted ch06-thumbnails-broken; then
    images=$(
        cargo run --quiet --release --example thumbnails -- --count 20 --output target/book-thumbs >/dev/null
        echo "${TMPDIR:-/tmp}/queuelab-thumbnails/test-images-1024x768"
    )
    broken=target/book-broken
    rm -rf "$broken"
    mkdir -p "$broken/input"
    cp "$images"/test-0{0,1}?.png "$broken/input/"
    echo "this is not a PNG image" >"$broken/input/test-010-broken.png"
    echo "running ch06-thumbnails-broken" >&2
    {
        echo "\$ ls $broken/input"
        ls "$broken/input" | tr '\n' ' ' | fold -s -w 78
        echo
        echo "\$ cat $broken/input/test-010-broken.png"
        cat "$broken/input/test-010-broken.png"
        cmd=(cargo run --quiet --release --example thumbnails -- --input "$broken/input" --output "$broken/thumbs")
        echo "\$ ${cmd[*]}"
        status=0
        "${cmd[@]}" 2>&1 || status=$?
        echo "exit status: $status"
        echo "\$ ls $broken/thumbs | wc -l"
        ls "$broken/thumbs" | wc -l
        where
    } >"$out/ch06-thumbnails-broken.txt"
    {
        cmd=(cargo run --quiet --release --example thumbnails -- --input "$broken/input" --output "$broken/thumbs-fail-fast" --fail-fast)
        echo "\$ ${cmd[*]}"
        status=0
        "${cmd[@]}" 2>&1 || status=$?
        echo "exit status: $status"
        where
    } >"$out/ch06-thumbnails-fail-fast.txt"
fi

# What loom prints when every model passes: one file of models, bounded as in
# CI. (The failures of the broken variants are in book/src/loom/, written by
# scripts/loom_book.sh.)
if wanted ch07-loom-closable; then
    echo "running ch07-loom-closable" >&2
    {
        echo "\$ scripts/loom.sh -p 3 loom_closable"
        # cargo's Compiling/Finished/Running lines go to stderr and are left out.
        scripts/loom.sh -p 3 loom_closable 2>/dev/null | grep -v '^$'
        where
    } >"$out/ch07-loom-closable.txt"
fi
