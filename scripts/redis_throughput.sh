#!/usr/bin/env bash
# Measures what crossing a machine boundary costs: items per second through
# queuelab::redis::RedisQueue next to the in-process ClosableQueue, with 1, 4
# and 16 producers and as many consumers (examples/redis_throughput.rs, which
# starts its own redis-server on a free loopback port). Writes the table with
# machine, date, commit, command and load average. About 10 s once built.
#
#   scripts/redis_throughput.sh               -> book/src/results/redis_throughput.md
#   scripts/redis_throughput.sh --out DIR     write somewhere else
#   scripts/redis_throughput.sh -- ARGS...    pass ARGS to the example
#                                             (--items N --threads T,T --runs R)
set -euo pipefail
cd "$(dirname "$0")/.."

out=book/src/results
while [ $# -gt 0 ]; do
    case $1 in
        --out)
            out=$2
            shift 2
            ;;
        --)
            shift
            break
            ;;
        *)
            echo "redis_throughput.sh: unknown argument $1" >&2
            exit 2
            ;;
    esac
done
mkdir -p "$out"

cargo build --quiet --release --features redis --example redis_throughput
exe=target/release/examples/redis_throughput
load_before=$(cut -d' ' -f1 /proc/loadavg)
table=$("$exe" "$@")
load_after=$(cut -d' ' -f1 /proc/loadavg)

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1024 / 1024 }' /proc/meminfo)
commit=$(git rev-parse --short HEAD)
if [[ -n $(git status --porcelain -- src examples Cargo.toml) ]]; then
    commit="$commit (with uncommitted changes in src/, examples/ or Cargo.toml)"
fi
server=$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/redis-server \1/p')
command="redis_throughput${*:+ $*}"
{
    echo "<!-- Written by scripts/redis_throughput.sh: do not edit by hand. -->"
    echo "*$(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$commit\`. Machine: $(nproc) cores (${cpu:-unknown CPU}), $mem, $(uname -sr), $(rustc --version | cut -d' ' -f1-2), $server." \
        "Load average before / after: $load_before / $load_after." \
        "Command: \`scripts/redis_throughput.sh\`, which runs \`$command\` (release build, feature \`redis\`).*"
    echo
    echo "$table"
} >"$out/redis_throughput.md.tmp"
mv "$out/redis_throughput.md.tmp" "$out/redis_throughput.md"
cat "$out/redis_throughput.md"
