#!/usr/bin/env bash
# Re-measures how step 6's waiting got where it is: each version below is
# checked out into a scratch worktree (with one edit for the version that never
# was a commit of its own), and benches/side_by_side.rs runs there on the busy
# set (Effective Python's 4/3/5 pipeline at capacity 1 and 64 next to three
# `yes` processes) and on the idle pipeline_3-4-5_cap64 load. Tables go to
# book/src/results/waiting/<version>-{busy,idle}.md; the step-6 chapter of the
# book includes them. About 15 minutes on 2 cores.
#
#   scripts/waiting_history.sh                 every version
#   scripts/waiting_history.sh timed-yields    one of them
set -euo pipefail
cd "$(dirname "$0")/.."

repo=$PWD
out=$repo/book/src/results/waiting
target=$repo/target/history
mkdir -p "$out"

# version commit: what each version changed is said in the book.
versions=(
    "first-attempt 7d90b0f"              # Backoff's spins and yields, then sleep
    "timed-yields 268b890"               # one long yield stops yielding for 50 ms
    "windows f0f07fe notify_under_lock"  # judged in windows of 64, notify still under the lock
    "notify-after f0f07fe"               # notify after letting go of the lock
    "final ee07236"                      # only yields that gave the core to another program count
)

# The one edit: notify while holding the sleepers' lock, as every version
# before 947c00d did.
notify_under_lock() {
    python3 - src/queue/sleepers.rs <<'EOF'
import sys
path = sys.argv[1]
text = open(path).read()
old = "drop(self.lock.lock());"
if text.count(old) != 2:
    sys.exit(f"{path}: expected 2 x {old!r}")
open(path, "w").write(text.replace(old, "let _guard = self.lock.lock();"))
EOF
}

only=${1:-}
scratch=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$scratch/tree" 2>/dev/null || true; rm -rf "$scratch"' EXIT
for version in "${versions[@]}"; do
    read -r name commit edit <<<"$version"
    [[ -z $only || $only == "$name" ]] || continue
    echo "--- $name ($commit${edit:+ + $edit})" >&2
    git worktree remove --force "$scratch/tree" 2>/dev/null || true
    git worktree add --quiet --detach "$scratch/tree" "$commit"
    (
        cd "$scratch/tree"
        [[ -z $edit ]] || "$edit"
        export CARGO_TARGET_DIR=$target
        cargo bench --quiet --no-run --bench side_by_side 2>/dev/null
        cargo bench --quiet --bench side_by_side -- --busy --rounds 3 >"$out/$name-busy.md.tmp"
        cargo bench --quiet --bench side_by_side -- --load mpmc_4x4_cap1024 pipeline_3-4-5_cap64 --rounds 5 \
            >"$out/$name-idle.md.tmp"
    )
    for kind in busy idle; do
        {
            echo "<!-- Written by scripts/waiting_history.sh: do not edit by hand. -->"
            # The old commits' benches call the pipeline by the name of the
            # notes it came from; today's bench names its source.
            sed "s/the seed's pipeline/Effective Python's pipeline/g" "$out/$name-$kind.md.tmp"
        } >"$out/$name-$kind.md"
        rm "$out/$name-$kind.md.tmp"
    done
done
echo "waiting_history.sh: see $out" >&2
