#!/usr/bin/env bash
# Measures Effective Python's claim (Item 55) that more workers help stages
# that wait for I/O: `thumbnails --http`, whose loopback server answers every
# GET and PUT after a latency, on small test images, with 1/1/1 and then
# 3/4/5 workers (download/resize/upload), several runs of each, interleaved
# so that a change in the machine's load touches both alike. Writes the wall
# times (median, min-max) and the pipeline report of each one's median run,
# with machine, date, commit and command.
#
#   scripts/thumbnails_http.sh                defaults: 100 images of 64x48,
#                                             20 ms, 5 runs of each (about
#                                             20 s once built)
#                                             -> book/src/results/thumbnails_http.md
#   scripts/thumbnails_http.sh --out DIR      write somewhere else
#   scripts/thumbnails_http.sh --runs R --count N --latency-ms MS
#                                             R must be odd, so that the median
#                                             is one of the runs
set -euo pipefail
cd "$(dirname "$0")/.."

out=book/src/results
runs=5
count=100
latency=20
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=$2 ;;
        --runs) runs=$2 ;;
        --count) count=$2 ;;
        --latency-ms) latency=$2 ;;
        *)
            echo "thumbnails_http.sh: unknown argument $1" >&2
            exit 2
            ;;
    esac
    shift 2
done
if ! [[ $runs =~ ^[0-9]+$ ]] || ((runs % 2 == 0)); then
    echo "thumbnails_http.sh: --runs takes an odd number, not $runs" >&2
    exit 2
fi
mkdir -p "$out"

cargo build --quiet --release --example thumbnails
exe=target/release/examples/thumbnails
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
images=(--count "$count" --width 64 --height 48)
configs=(1,1,1 3,4,5)
load_before=$(cut -d' ' -f1 /proc/loadavg)

# Draws the test images (once; later runs reuse them) outside the timed runs.
"$exe" "${images[@]}" --output "$tmp/thumbs" >/dev/null

# Runs 1..R, each configuration once per run. times: "config run ms".
for ((run = 1; run <= runs; run++)); do
    for config in "${configs[@]}"; do
        rm -rf "$tmp/thumbs"
        start=$(date +%s%N)
        "$exe" --http --latency-ms "$latency" "${images[@]}" --output "$tmp/thumbs" \
            --workers "$config" >"$tmp/$config-$run.txt"
        end=$(date +%s%N)
        grep -q "^$count items in, $count out" "$tmp/$config-$run.txt" || {
            echo "thumbnails_http.sh: run $run of $config did not deliver $count thumbnails:" >&2
            cat "$tmp/$config-$run.txt" >&2
            exit 1
        }
        echo "$config $run $(((end - start) / 1000000))" >>"$tmp/times"
        echo "run $run, workers $config: $(((end - start) / 1000000)) ms" >&2
    done
done
load_after=$(cut -d' ' -f1 /proc/loadavg)

seconds() { awk -v ms="$1" 'BEGIN { printf "%.2f s", ms / 1000 }'; }
# The runs of one configuration, fastest first: "run ms" lines.
sorted() { awk -v c="$1" '$1 == c { print $2, $3 }' "$tmp/times" | sort -k2,2n; }

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1024 / 1024 }' /proc/meminfo)
commit=$(git rev-parse --short HEAD)
if [[ -n $(git status --porcelain -- src examples Cargo.toml) ]]; then
    commit="$commit (with uncommitted changes in src/, examples/ or Cargo.toml)"
fi
command="thumbnails --http --latency-ms $latency --count $count --width 64 --height 48 --workers D,R,U"
{
    echo "<!-- Written by scripts/thumbnails_http.sh: do not edit by hand. -->"
    echo "*$(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$commit\`. Machine: $(nproc) cores (${cpu:-unknown CPU}), $mem, $(uname -sr), $(rustc --version | cut -d' ' -f1-2)." \
        "Load average before / after: $load_before / $load_after." \
        "Command: \`scripts/thumbnails_http.sh\`, which runs \`$command\` (release build), $runs times for each D,R,U, interleaved.*"
    echo
    echo "| workers (download/resize/upload) | wall time, median | fastest – slowest | speed-up of the medians |"
    echo "|---|---:|---:|---:|"
    base=
    for config in "${configs[@]}"; do
        median=$(sorted "$config" | sed -n "$(((runs + 1) / 2))p" | cut -d' ' -f2)
        fastest=$(sorted "$config" | head -1 | cut -d' ' -f2)
        slowest=$(sorted "$config" | tail -1 | cut -d' ' -f2)
        base=${base:-$median}
        speedup=$(awk -v b="$base" -v m="$median" 'BEGIN { printf "%.1f×", b / m }')
        echo "| ${config//,//} | $(seconds "$median") | $(seconds "$fastest") – $(seconds "$slowest") | $speedup |"
    done
    echo
    echo "The pipeline's report of each median run:"
    for config in "${configs[@]}"; do
        run=$(sorted "$config" | sed -n "$(((runs + 1) / 2))p" | cut -d' ' -f1)
        echo
        echo "\`\`\`text"
        echo "workers ${config//,//}"
        sed -n '/^stage /,/ items in, /p' "$tmp/$config-$run.txt"
        echo "\`\`\`"
    done
} >"$out/thumbnails_http.md.tmp"
mv "$out/thumbnails_http.md.tmp" "$out/thumbnails_http.md"
echo "thumbnails_http.sh: see $out/thumbnails_http.md" >&2
