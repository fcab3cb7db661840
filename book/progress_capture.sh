#!/usr/bin/env bash
# Captures the thumbnails example's live progress, as a terminal shows it,
# for chapter 6: runs the example over HTTP with a slow server inside a
# detached tmux session (so that stderr is a terminal and the progress
# lines are drawn), copies the pane's text once every stage has started
# (tmux capture-pane), and writes it to book/src/output/ch06-progress.txt.
#
#   bash book/progress_capture.sh
#
# Needs tmux (apt-get install -y tmux). Takes about ten seconds once built.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v tmux >/dev/null || {
    echo "progress_capture: needs tmux (apt-get install -y tmux)" >&2
    exit 1
}
cargo build --quiet --release --example thumbnails
out=book/src/output/ch06-progress.txt
args=(--http --latency-ms 40 --workers 2,1,2 --count 48 --width 640 --height 480
    --output target/progress-thumbs)
session=queuelab-progress-$$
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT

tmux new-session -d -s "$session" -x 150 -y 16 \
    "target/release/examples/thumbnails ${args[*]}; sleep 60"
# Polls the pane until the upload line has moved (every stage is then
# running); this only picks the moment of the picture.
pane=
for _ in $(seq 200); do
    pane=$(tmux capture-pane -p -t "$session")
    if grep -qE 'upload .* +[1-9][0-9]*/48' <<<"$pane"; then
        break
    fi
    sleep 0.05
done
grep -q 'upload' <<<"$pane" || {
    printf '%s\n' "$pane" >&2
    echo "progress_capture: no progress lines in the pane" >&2
    exit 1
}
{
    echo "\$ cargo run --release --example thumbnails -- ${args[*]}"
    # The pane, without its trailing empty lines.
    printf '%s\n' "$pane" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
    echo "# a copy of the terminal while it ran (tmux capture-pane), $(date -u +%Y-%m-%d)"
} >"$out"
echo "wrote $out"
