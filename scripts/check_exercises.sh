#!/usr/bin/env bash
# Checks the exercises at the end of the book's chapters 12 (the interlude on
# atomics), 13 (step 6, the ring) and 14 (step 7, the list): for each one, makes a scratch copy of
# the committed code (HEAD), makes the change the exercise asks for, runs the
# loom model the exercise names, as the book words it, and checks that loom
# says what the solution in the appendix says it does: whether the test
# passes or fails, and the phrase loom prints.
#
#   scripts/check_exercises.sh              # every exercise
#   scripts/check_exercises.sh --ci         # the one per chapter that .ci/run checks
#   scripts/check_exercises.sh ch12-3 ch13-2  # these only
#
# The copies share one target dir, target/loom-exercises, so only the first
# build compiles loom and the other dependencies. Each copy is compiled
# afresh: its files get new times, so cargo cannot mistake it for the last
# copy built there.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
shared=$repo/target/loom-exercises

usage() {
    echo "usage: $0 [--ci | NAME...]   (NAME: $(printf '%s ' "${all[@]}"))" >&2
    exit 2
}

all=(ch12-1 ch12-2 ch12-3 ch12-4 ch13-1 ch13-2 ch13-3 ch14-1 ch14-2)
ci=(ch12-2 ch13-2 ch14-1)

scratch_root=$(mktemp -d)
trap 'rm -rf "$scratch_root"' EXIT

# copy NAME: a fresh copy of HEAD in $copy, with its target/loom (where
# scripts/loom.sh builds) pointing at the shared target dir.
copy() {
    copy=$scratch_root/$1
    rm -rf "$copy"
    mkdir -p "$copy/target" "$shared"
    # -m: the files get the time of extraction, newer than any earlier build.
    git archive HEAD | tar -x -m -C "$copy"
    ln -s "$shared" "$copy/target/loom"
}

# edit FILE SCOPE OLD NEW: in the copy's FILE, replaces OLD, which must occur
# exactly once inside SCOPE, with NEW. SCOPE narrows the file down to a block:
# texts separated by " > ", each of which must be on exactly one line of the
# block before it; that line's block runs to the line that closes it (the
# same indentation, then "}"). An empty SCOPE is the whole file.
edit() {
    python3 - "$copy/$1" "$2" "$3" "$4" <<'PY'
import sys

path, scope, old, new = sys.argv[1:]
name = path.split("/", 4)[-1]
lines = open(path).read().splitlines(keepends=True)


def fail(why):
    sys.exit(f"check_exercises: {name}: {why}")


start, end = 0, len(lines)
for part in filter(None, scope.split(" > ")):
    hits = [i for i in range(start, end) if part in lines[i]]
    if len(hits) != 1:
        fail(f"{part!r} is on {len(hits)} lines of the block, not 1")
    i = hits[0]
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    close = [j for j in range(i + 1, end) if lines[j].rstrip("\n") == indent + "}"]
    if not close:
        fail(f"no closing brace for {part!r}")
    start, end = i, close[0] + 1
block = "".join(lines[start:end])
if block.count(old) != 1:
    fail(f"{old!r} occurs {block.count(old)} times in {scope or 'the file'!r}, not once")
text = "".join(lines[:start]) + block.replace(old, new) + "".join(lines[end:])
open(path, "w").write(text)
PY
}

# expect OUTCOME PHRASE COMMAND...: runs COMMAND (a scripts/loom.sh command,
# as the book prints it) in the copy, and checks its one test's OUTCOME
# (passed, failed, or aborted: the test binary killed by SIGABRT) and that
# the output contains PHRASE. loom's messages are kept plain: no source
# locations (LOOM_LOCATION) and no log (LOOM_LOG).
expect() {
    local outcome=$1 phrase=$2
    shift 2
    local log=$copy.log start=$SECONDS
    (cd "$copy" && env -u LOOM_LOCATION -u LOOM_LOG RUST_BACKTRACE=0 "$@") >"$log" 2>&1 || true
    local got="without a result (its output follows)"
    if grep -q '^test result: ok\. 1 passed' "$log"; then
        got=passed
    elif grep -q '^test result: FAILED\. 0 passed; 1 failed' "$log"; then
        got=failed
    elif grep -q 'SIGABRT' "$log"; then
        got=aborted
    fi
    local said
    said=$(grep -oE 'model [^ ]+: (loom found the failure in interleaving [0-9]+|loom explored [0-9]+ interleavings|passed; loom explored [0-9]+ interleavings|FAILED in interleaving [0-9]+)' "$log" | head -1 || true)
    echo "    \$ $*"
    echo "    test $got, $((SECONDS - start)) s: ${said:-no line from the model}"
    if [[ $got != "$outcome" ]] || ! grep -qF -- "$phrase" "$log"; then
        tail -n 40 "$log" | sed 's/^/    | /'
        echo "    expected: test $outcome, and \"$phrase\" in the output"
        return 1
    fi
}

cmd=(scripts/loom.sh -p 3 loom_broken_ring)
# loom's deadlock messages: the model's thread asleep, and the other thread
# finished or asleep too.
one_blocked="deadlock; threads = [(Id(0), Blocked(Location(None))), (Id(1), Terminated)]"
two_blocked="deadlock; threads = [(Id(0), Blocked(Location(None))), (Id(1), Blocked(Location(None)))]"
broken=tests/loom_broken_ring.rs
ring=src/queue/ring.rs

# Chapter 12, exercise 1: a Release store needs Acquire loads.
exercise_ch12_1() {
    copy ch12-1
    edit $broken "mod relaxed_stamp {" \
        "store(pos + 1, Ordering::Relaxed)" "store(pos + 1, Ordering::Release)"
    edit $broken "mod relaxed_stamp { > fn try_pop(" \
        "self.slot.stamp.load(Ordering::Acquire)" "self.slot.stamp.load(Ordering::Relaxed)"
    edit $broken "mod relaxed_stamp { > fn read(" \
        "self.slot.stamp.load(Ordering::Acquire)" "self.slot.stamp.load(Ordering::Relaxed)"
    expect passed "Causality violation: Concurrent read and write accesses." \
        "${cmd[@]}" relaxed_stamp_races_on_the_slot
    # Both loads back to Acquire, the Release store kept.
    copy ch12-1b
    edit $broken "mod relaxed_stamp {" \
        "store(pos + 1, Ordering::Relaxed)" "store(pos + 1, Ordering::Release)"
    expect failed "found no failure" "${cmd[@]}" relaxed_stamp_races_on_the_slot
}

# Chapter 12, exercise 2: SeqCst on all four accesses, which loom cannot
# tell from AcqRel.
exercise_ch12_2() {
    copy ch12-2
    edit $broken "mod sleepers_check_with_load { > fn item_or_closed(" \
        "self.tail.load(Ordering::Acquire)" "self.tail.load(Ordering::SeqCst)"
    edit $broken "mod sleepers_check_with_load { > fn put(" \
        "Ordering::AcqRel, Ordering::Acquire" "Ordering::SeqCst, Ordering::SeqCst"
    edit $broken "mod sleepers { > fn sleep_unless(" \
        "fetch_add(1, Ordering::AcqRel)" "fetch_add(1, Ordering::SeqCst)"
    edit $broken "mod sleepers { > fn notify_one(" \
        "self.count.load(Ordering::Relaxed)" "self.count.load(Ordering::SeqCst)"
    expect passed "$one_blocked" "${cmd[@]}" sleepers_check_with_load_deadlocks
}

# Chapter 12, exercise 3: a fence(SeqCst) on each side, which loom models.
exercise_ch12_3() {
    copy ch12-3
    edit $broken "mod sleepers_check_with_load { > fn item_or_closed(" \
        $'-> bool {\n' $'-> bool {\n            loom::sync::atomic::fence(Ordering::SeqCst);\n'
    edit $broken "mod sleepers_check_with_load { > fn write(" \
        "            self.getters.notify_one();" \
        $'            loom::sync::atomic::fence(Ordering::SeqCst);\n            self.getters.notify_one();'
    expect failed "found no failure" "${cmd[@]}" sleepers_check_with_load_deadlocks
}

# Chapter 12, exercise 4: mark_done with Release only.
exercise_ch12_4() {
    copy ch12-4
    edit $ring "fn mark_done(" \
        "fetch_add(n, Ordering::AcqRel)" "fetch_add(n, Ordering::Release)"
    expect failed "$two_blocked" "${cmd[@]}" ring_passes_join_while_the_worker_waits
}

# Chapter 13, exercise 1: the stamp stored with Release, loaded in read's
# loop with Relaxed.
exercise_ch13_1() {
    copy ch13-1
    edit $broken "mod relaxed_stamp {" \
        "store(pos + 1, Ordering::Relaxed)" "store(pos + 1, Ordering::Release)"
    edit $broken "mod relaxed_stamp { > fn read(" \
        "self.slot.stamp.load(Ordering::Acquire)" "self.slot.stamp.load(Ordering::Relaxed)"
    expect passed "Causality violation: Concurrent read and write accesses." \
        "${cmd[@]}" relaxed_stamp_races_on_the_slot
}

# Chapter 13, exercise 2: the real ring's sleeping get checks with a load.
exercise_ch13_2() {
    copy ch13-2
    edit $ring "fn item_or_closed(" \
        "self.tail.fetch_add(0, Ordering::AcqRel)" "self.tail.load(Ordering::Acquire)"
    expect failed "$one_blocked" "${cmd[@]}" ring_passes_one_put_one_get
}

# Chapter 13, exercise 3: the real iterator publishes its marks only at the
# end. loom finds the deadlock; then, as loom unwinds the worker, the
# iterator's Drop publishes its marks, which calls into loom again, and that
# panic during a panic aborts the test binary.
exercise_ch13_3() {
    copy ch13-3
    local old new
    old=$(
        cat <<'EOF'
            Err(_) => {
                // About to wait, or the end: nobody may wait for our marks.
                self.publish();
                self.queue.pop_waiting(&Deadline::NEVER).ok()?
            }
EOF
    )
    new=$(
        cat <<'EOF'
            Err(TryGetError::Closed) => {
                self.publish();
                return None;
            }
            Err(TryGetError::Empty) => self.queue.pop_waiting(&Deadline::NEVER).ok()?,
EOF
    )
    edit $ring "Iterator for Iter<" "$old" "$new"
    expect aborted "$two_blocked" "${cmd[@]}" ring_passes_join_while_the_worker_waits
}

list=src/queue/list.rs

# Chapter 14, exercise 1: the count of finished reads with Release only.
# The last reader's free is then not ordered after the other reader's read.
exercise_ch14_1() {
    copy ch14-1
    edit $list "fn read(" \
        "reads.fetch_add(1, Ordering::AcqRel)" "reads.fetch_add(1, Ordering::Release)"
    expect failed "Causality violation: Concurrent read and write accesses" \
        scripts/loom.sh -p 3 loom_broken_list list_passes_two_readers_of_one_block
}

# Chapter 14, exercise 2: a put that lost the race for a block's last slot
# keeps its spare block when it succeeds further on.
exercise_ch14_2() {
    copy ch14-2
    edit $list "fn try_push(" \
        $'                    self.write(block, pos, item);\n                    Block::discard(spare);' \
        $'                    self.write(block, pos, item);'
    expect failed "Allocation leaked." \
        scripts/loom.sh -p 2 loom_list list::two_producers_one_consumer_across_a_block_boundary
}

runs=()
if [[ $# -eq 0 ]]; then
    runs=("${all[@]}")
elif [[ $1 == --ci && $# -eq 1 ]]; then
    runs=("${ci[@]}")
else
    for name in "$@"; do
        [[ " ${all[*]} " == *" $name "* ]] || usage
        runs+=("$name")
    done
fi

echo "checking the exercises against HEAD ($(git rev-parse --short HEAD)), target dir $shared"
failed=()
for name in "${runs[@]}"; do
    echo "--- $name"
    # In a subshell, and not as an `if` or `||` condition (which would turn
    # `set -e` off inside it): the exercise stops at its first failing step,
    # such as an edit that does not apply.
    set +e
    (
        set -e
        "exercise_${name//-/_}"
    )
    status=$?
    set -e
    if [[ $status -eq 0 ]]; then
        echo "PASS $name"
    else
        echo "FAIL $name"
        failed+=("$name")
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "check_exercises: ${#failed[@]} of ${#runs[@]} exercises do not match the book: ${failed[*]}" >&2
    exit 1
fi
echo "check_exercises: all ${#runs[@]} exercises match the book"
