#!/usr/bin/env bash
# The thumbnails pipeline across processes (examples/thumbnails/distributed.rs,
# chapter 15): starts a redis-server of its own on a free loopback port in a
# temporary folder, then one process per role, each with 2 workers: source,
# download, two resize processes, upload, sink. Resize A is started with
# --stall-after: after count/8 images, one of its workers hands its next image
# on and then stops before marking it done. The script waits until A says so,
# stops A (SIGSTOP), shows the entries A holds in Redis, and kills A with
# SIGKILL: the kill lands while A holds an item, whatever the timing. Then it
# waits for the others to finish and checks:
#   - every process but A exited with status 0;
#   - the output folder holds exactly one thumbnail per image, no other file;
#   - the sink's log says each image was delivered exactly once, and its
#     record (the Redis set thumbnails-delivered) holds every image;
#   - the image A held reached the sink twice (A had handed it on; resize B
#     took it over after the visibility timeout and made it again), and the
#     sink dropped the repeat.
# Exits nonzero on any failure; on exit, also a failed one, it kills every
# process it started and removes its temporary folder. About 10 s once built.
#
#   scripts/thumbnails_distributed.sh                   64 images of 320x240
#   scripts/thumbnails_distributed.sh --count 8 --width 64 --height 48   (CI)
#   scripts/thumbnails_distributed.sh --out book/src/output/ch15-distributed.txt
#                                       also write the transcript there (on success)
set -euo pipefail
cd "$(dirname "$0")/.."

count=64
width=320
height=240
out=
command_line="scripts/thumbnails_distributed.sh${*:+ $*}"
while [ $# -gt 0 ]; do
    case $1 in
        --count) count=$2 ;;
        --width) width=$2 ;;
        --height) height=$2 ;;
        --out) out=$2 ;;
        *)
            echo "thumbnails_distributed.sh: unknown argument $1" >&2
            exit 2
            ;;
    esac
    shift 2
done
for n in "$count" "$width" "$height"; do
    if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
        echo "thumbnails_distributed.sh: $n is not a whole number from 1 up" >&2
        exit 2
    fi
done
stall_after=$((count / 8))
visibility_ms=1000
# How long each wait may take before the run counts as failed.
patience=120

cargo build --quiet --features redis --example thumbnails
exe=target/debug/examples/thumbnails

tmp=$(mktemp -d "${TMPDIR:-/tmp}/queuelab-thumbnails-distributed.XXXXXX")
declare -A pid=()
redis_pid=
cleanup() {
    local p
    for p in "${pid[@]}" $redis_pid; do
        kill -9 "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

transcript=$tmp/transcript.txt
say() { echo "$*" | tee -a "$transcript"; }
die() {
    echo "thumbnails_distributed.sh: FAILED: $*" >&2
    local log
    for log in "$tmp"/*.log; do
        [[ -e $log ]] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
    done
    exit 1
}

# A redis-server on a free loopback port. A port taken between the look-up
# and the start makes the server exit; then another port is tried.
for attempt in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp" --save '' --appendonly no \
        --daemonize no >"$tmp/redis-server.out" 2>&1 &
    redis_pid=$!
    for ((i = 0; i < 100; i++)); do
        [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] && break 2
        kill -0 "$redis_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=
done
[[ -n $redis_pid ]] || die "redis-server did not start on any of five ports"
rcli() { redis-cli -p "$port" "$@"; }

work=$tmp/work
output=$tmp/thumbs
common=(--redis "redis://127.0.0.1:$port/" --name thumbnails --work "$work"
    --visibility-ms "$visibility_ms" --capacity 4 --workers 2,2,2)
# start NAME ARGS...: one role process, its output in $tmp/NAME.log.
start() {
    local name=$1
    shift
    : >"$tmp/$name.log" # before the wait below can look at it
    "$exe" "${common[@]}" "$@" >>"$tmp/$name.log" 2>&1 &
    pid[$name]=$!
}
# lines_in NAME PATTERN: the lines of NAME's log that match.
lines_in() { grep -e "$2" "$tmp/$1.log" || true; }

say "\$ $command_line"
say "$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/redis-server \1/p') on 127.0.0.1:$port;" \
    "$count test images of ${width}x$height; visibility timeout $visibility_ms ms; 2 workers per process"
started=$(date +%s%N)
start sink --role sink
start upload --role upload --output "$output"
start resize-A --role resize --thumb 64 --stall-after "$stall_after"
start resize-B --role resize --thumb 64
start download --role download
start source --role source --count "$count" --width "$width" --height "$height" --output "$output"
say "started: source, download, resize A (pid ${pid[resize-A]}, stalls after handing on $stall_after image(s))," \
    "resize B (pid ${pid[resize-B]}), upload, sink"

# Wait until a worker of resize A holds an image it has handed on and not
# marked done; then kill A.
for ((i = 0; ; i++)); do
    stalled=$(lines_in resize-A 'stalled holding')
    [[ -n $stalled ]] && break
    kill -0 "${pid[resize-A]}" 2>/dev/null || die "resize A ended before it stalled"
    ((i < patience * 20)) || die "resize A did not stall within $patience s"
    sleep 0.05
done
stalled_image=$(sed -n 's/.*stalled holding \([^:]*\):.*/\1/p' <<<"$stalled")
say "$stalled"
# SIGSTOP first, so that the list below is what A holds when it dies.
kill -STOP "${pid[resize-A]}"
stream='queuelab:{thumbnails-resize}:stream'
say "entries of thumbnails-resize that resize A's consumers hold, A stopped:"
while read -r id consumer idle deliveries; do
    [[ $consumer == "pid${pid[resize-A]}-"* ]] || continue
    item=$(rcli XRANGE "$stream" "$id" "$id" | sed -n 's/.*"image":"\([^"]*\)".*/\1/p')
    say "  $id ${item:-(acked meanwhile)}, consumer $consumer, idle $idle ms, delivered $deliveries time(s)"
done < <(rcli XPENDING "$stream" queuelab - + 1000 | paste - - - -)
# (In a group with stderr closed, so that bash does not report the kill.)
{ kill -9 "${pid[resize-A]}" && wait "${pid[resize-A]}"; } 2>/dev/null || true
unset 'pid[resize-A]'
say "killed resize A with SIGKILL"

# Every other process must end, with status 0.
deadline=$((SECONDS + patience))
for name in source download resize-B upload sink; do
    while kill -0 "${pid[$name]}" 2>/dev/null; do
        ((SECONDS < deadline)) || die "$name did not end within $patience s"
        sleep 0.05
    done
    status=0
    wait "${pid[$name]}" || status=$?
    unset "pid[$name]"
    ((status == 0)) || die "$name exited with status $status"
done
ended=$(date +%s%N)
for name in source download resize-B upload sink; do
    say "$(tail -n 1 "$tmp/$name.log")"
done

# The checks.
expected=$(for ((i = 0; i < count; i++)); do printf 'test-%03d.png\n' "$i"; done)
thumbs=$(ls -A "$output")
[[ $thumbs == "$(sed 's/\.png$/-thumb.png/' <<<"$expected")" ]] ||
    die "the output folder holds other files than one thumbnail per image: $(diff <(echo "$expected") <(echo "$thumbs") | head)"
for thumb in $thumbs; do
    [[ -s $output/$thumb ]] || die "$thumb is empty"
done
say "check: $output holds $count thumbnails, one per image, and nothing else"
delivered=$(lines_in sink '^sink: delivered ' | cut -d' ' -f3 | sort)
[[ $delivered == "$expected" ]] ||
    die "the sink's log does not say each image was delivered exactly once: $(diff <(echo "$expected") <(echo "$delivered") | head)"
recorded=$(rcli SMEMBERS thumbnails-delivered | sort)
[[ $recorded == "$expected" ]] ||
    die "the set thumbnails-delivered does not hold every image: $(diff <(echo "$expected") <(echo "$recorded") | head)"
say "check: the sink's log says each of the $count images was delivered exactly once;" \
    "the set thumbnails-delivered holds all $count"
repeats=$(lines_in sink 'dropped a repeat of' | wc -l)
[[ -n $(lines_in sink "dropped a repeat of $stalled_image\$") ]] ||
    die "the sink never saw a repeat of $stalled_image, which resize A had handed on"
say "check: $stalled_image, held by resize A when it was killed, reached the sink twice, recorded once"
say "$repeats repeat(s) dropped by the sink; wall time $(((ended - started) / 1000000)) ms, from the first process started to the last one ended"

commit=$(git rev-parse --short HEAD)
if [[ -n $(git status --porcelain -- src examples Cargo.toml) ]]; then
    commit="$commit + uncommitted changes"
fi
say "# $(rustc --version | cut -d' ' -f1-2), $(nproc) cores, $(date -u +%Y-%m-%d), commit $commit"
if [[ -n $out ]]; then
    mkdir -p "$(dirname "$out")"
    cp "$transcript" "$out"
fi
