#!/usr/bin/env bash
# Checks the exercises at the end of the book's chapters: for each one, makes
# a scratch copy of the committed code (HEAD), makes the change the exercise
# asks for, runs the command the exercise names (a loom model, a test, a
# bench's smoke run) as the book words it, and checks that it says what the
# solution in the appendix says: whether the test passes or fails, and the
# phrase it prints.
#
#   scripts/check_exercises.sh              # every exercise
#   scripts/check_exercises.sh --ci         # the one per chapter that .ci/run checks
#   scripts/check_exercises.sh ch12-3 ch13-2  # these only
#
# The copies' loom builds share one target dir, target/loom-exercises, and
# their other builds another, target/exercises-debug, so only the first
# build compiles the dependencies. Not this checkout's target/debug: cargo
# gives a copy's crate the same artifact names as this checkout's, and its
# broken build would then look up to date here. Each copy is compiled
# afresh: its files get new times, so cargo cannot mistake it for the last
# copy built there. The copies live in target/exercise-copies.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
shared=$repo/target/loom-exercises
shared_debug=$repo/target/exercises-debug

usage() {
    echo "usage: $0 [--ci | NAME...]   (NAME: $(printf '%s ' "${all[@]}"))" >&2
    exit 2
}

all=(ch01-1 ch02-1 ch02-2 ch03-1 ch03-2 ch04-1 ch05-1 ch06-1 ch06-3 ch06-4 ch07-1 ch08-1 ch09-1 ch09-2 ch10-1 ch11-1
    ch12-1 ch12-2 ch12-3 ch12-4 ch13-1 ch13-2 ch13-3 ch14-1 ch14-2 ch15-2 ch15-3 ch15-4)
ci=(ch01-1 ch02-1 ch03-1 ch04-1 ch05-1 ch06-4 ch07-1 ch08-1 ch09-1 ch10-1 ch11-1 ch12-2 ch13-2 ch14-1 ch15-2)

scratch_root=$repo/target/exercise-copies
rm -rf "$scratch_root"
trap 'rm -rf "$scratch_root"' EXIT

# copy NAME: a fresh copy of HEAD in $copy, with its target/loom (where
# scripts/loom.sh builds) and its target/debug pointing at the shared
# target dirs.
copy() {
    copy=$scratch_root/$1
    rm -rf "$copy"
    mkdir -p "$copy/target" "$shared" "$shared_debug"
    # -m: the files get the time of extraction, newer than any earlier build.
    git archive HEAD | tar -x -m -C "$copy"
    ln -s "$shared" "$copy/target/loom"
    ln -s "$shared_debug" "$copy/target/debug"
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

# expect OUTCOME PHRASE COMMAND...: runs COMMAND (as the book prints it) in
# the copy, and checks its one test's OUTCOME (passed, failed, or aborted:
# the test binary killed by SIGABRT; or panicked, for a program with no test
# harness; or, for a program that neither panics nor runs a test, "exit
# status N") and that the output contains PHRASE. loom's messages are kept
# plain: no source locations (LOOM_LOCATION) and no log (LOOM_LOG).
expect() {
    local outcome=$1 phrase=$2
    shift 2
    local log=$copy.log start=$SECONDS status=0
    (cd "$copy" && env -u LOOM_LOCATION -u LOOM_LOG RUST_BACKTRACE=0 "$@") >"$log" 2>&1 || status=$?
    local got="exit status $status"
    if grep -q '^test result: ok\. 1 passed' "$log"; then
        got=passed
    elif grep -q '^test result: FAILED\. 0 passed; 1 failed' "$log"; then
        got=failed
    elif grep -q 'SIGABRT' "$log"; then
        got=aborted
    elif grep -q "^thread '.*' (.*) panicked at\|^thread '.*' panicked at" "$log"; then
        got=panicked
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

# The loom message of a deadlock, and of a broken variant that loom found
# no failure in.
deadlock="deadlock; threads = "
no_failure="and found no failure"
# What check() prints for a model that passes.
explored="loom explored"

# Chapter 1, exercise 1: PollingQueue's pop spins without ever yielding.
exercise_ch01_1() {
    copy ch01-1
    edit src/queue/polling.rs "fn pop(&self)" "backoff.snooze();" "backoff.spin();"
    expect failed "Model exceeded maximum number of branches" \
        scripts/loom.sh -p 3 loom_polling pop_with_backoff_passes
}

# Chapter 2, exercise 1: BlockingQueue's get lets go of the lock between its
# check and its wait.
exercise_ch02_1() {
    copy ch02-1
    edit src/queue/blocking.rs "pub fn get(&self) -> T {" \
        $'        let mut state = self.state.lock();\n        loop {\n            if let Some(item) = state.items.pop_front() {\n                return item;\n            }\n            self.not_empty.wait(&mut state);' \
        $'        loop {\n            if let Some(item) = self.state.lock().items.pop_front() {\n                return item;\n            }\n            let mut state = self.state.lock();\n            self.not_empty.wait(&mut state);'
    expect failed "$deadlock" scripts/loom.sh -p 3 loom_blocking put_get_handoff
}

# Chapter 2, exercise 2: put notifies before it pushes, both under the lock.
exercise_ch02_2() {
    copy ch02-2
    edit src/queue/blocking.rs "pub fn put(&self, item: T) {" \
        $'        state.items.push_back(item);\n        self.not_empty.notify_one();' \
        $'        self.not_empty.notify_one();\n        state.items.push_back(item);'
    expect passed "$explored" scripts/loom.sh -p 3 loom_blocking put_get_handoff
}

# Chapter 3, exercise 1: BoundedQueue's get forgets to wake a producer.
exercise_ch03_1() {
    copy ch03-1
    edit src/queue/bounded.rs "pub fn get(&self) -> T {" \
        $'                self.not_full.notify_one();\n' ''
    expect failed "$deadlock" scripts/loom.sh -p 3 loom_bounded full_two_blocked_producers_one_consumer
}

# Chapter 3, exercise 2: put checks for room with `if`, not `while`.
exercise_ch03_2() {
    copy ch03-2
    edit src/queue/bounded.rs "pub fn put(&self, item: T) {" \
        "while state.items.len() >= self.capacity {" "if state.items.len() >= self.capacity {"
    expect failed "capacity exceeded" \
        scripts/loom.sh -p 3 loom_bounded full_two_blocked_producers_one_consumer
}

# Chapter 4, exercise 1: close wakes one sleeping consumer, not all.
exercise_ch04_1() {
    copy ch04-1
    edit src/queue/closable.rs "pub fn close(&self) -> bool {" \
        "self.not_empty.notify_all();" "self.not_empty.notify_one();"
    expect failed "$deadlock" \
        scripts/loom.sh -p 3 loom_closable step4::cases::close_wakes_blocked_consumers
}

# Chapter 5, exercise 1: the last task_done does not wake join.
exercise_ch05_1() {
    copy ch05-1
    edit src/queue/closable.rs "fn finish_locked(" \
        $'        if state.unfinished == 0 {\n            self.all_done.notify_all();\n        }\n' ''
    expect failed "$deadlock" \
        scripts/loom.sh -p 3 loom_closable step4::cases::task_done_join_two_workers
}

# Chapter 6, exercise 1: every worker of a stage closes its output queue
# as it ends, not only the last one.
exercise_ch06_1() {
    copy ch06-1
    edit src/pipeline/run.rs "impl<U> Drop for WorkerExit<" \
        "if left.fetch_sub(1, Ordering::AcqRel) == 1 {" \
        "if left.fetch_sub(1, Ordering::AcqRel) > 0 {"
    expect failed "minimal failing input" \
        cargo test --test pipeline_proptest output_is_the_mapped_input
}

# Chapter 6 (the pipeline for real work), exercise 1: a skipped item sends
# no hole on, so an ordered run waits for it for ever (until the test's
# watchdog, two minutes).
exercise_ch06_3() {
    copy ch06-3
    edit src/pipeline/run.rs "" \
        "if out.is_none() && run.window.is_none() {" "if out.is_none() {"
    expect failed "hung: it did not return within two minutes" \
        cargo test --test pipeline_real_work ordered_output
}

# Chapter 6 (the pipeline for real work), exercise 2: the source no longer
# waits for the window.
exercise_ch06_4() {
    copy ch06-4
    edit src/pipeline/run.rs "" \
        "let Some(window) = self.window else {" "let Some(window) = None::<usize> else {"
    expect failed "right: 6" cargo test --test pipeline_real_work a_slow_item
}

# Chapter 15, exercise 2: task_done acks its entry but leaves it in the
# stream, which the queue counts as unfinished.
exercise_ch15_2() {
    copy ch15-2
    edit src/redis.rs "" $'  redis.call(\'XDEL\', KEYS[1], ARGV[i])\n' ''
    expect failed "left: 3" \
        cargo test --features redis --test redis_queue close_now_hands_back_the_items_never_delivered
}

# Chapter 15, exercise 3: the parent waits for the child before it starts
# the thread that reads the pipe. What fits in the pipe still gets through;
# a megabyte hangs until the example's watchdog kills the child.
exercise_ch15_3() {
    copy ch15-3
    local spawn
    spawn=$'    let reader = thread::spawn(move || {\n        let mut output = Vec::new();\n        stdout.read_to_end(&mut output).map(|_| output.len())\n    });\n'
    edit examples/pipe_deadlock.rs "fn reader_thread(" \
        "$spawn    let status = child.wait()?;"$'\n' "    let status = child.wait()?;"$'\n'"$spawn"
    expect "exit status 0" "read all 1000 bytes" \
        cargo run --example pipe_deadlock -- --mode reader-thread --bytes 1000
    expect "exit status 1" "killed it" cargo run --example pipe_deadlock -- --mode reader-thread
}

# Chapter 15, exercise 4: the parent joins the reader thread before it waits
# for the child. Reading to the end of the pipe already waits for the
# child: no hang.
exercise_ch15_4() {
    copy ch15-4
    local wait=$'    let status = child.wait()?;\n'
    local join=$'    let read = reader.join().expect("the reader thread panicked")?;\n'
    edit examples/pipe_deadlock.rs "fn reader_thread(" "$wait$join" "$join$wait"
    expect "exit status 0" "read all 1048576 bytes" \
        cargo run --example pipe_deadlock -- --mode reader-thread
}

# Chapter 7, exercise 1: the broken variant 2, repaired.
exercise_ch07_1() {
    copy ch07-1
    edit tests/loom_broken.rs "mod close_notify_one { > pub fn close(&self) {" \
        "self.not_full.notify_one();" "self.not_full.notify_all();"
    expect failed "$no_failure" scripts/loom.sh -p 3 loom_broken close_notify_one_deadlocks
}

# Chapter 8, exercise 1: try_put lets one item too many in.
exercise_ch08_1() {
    copy ch08-1
    edit src/queue/bounded.rs "pub fn try_put(&self, item: T)" \
        "if state.items.len() >= self.capacity {" "if state.items.len() > self.capacity {"
    expect failed "minimal failing input" \
        cargo test --test model_bounded bounded_queue_matches_the_model
}

# Chapter 9, exercise 1: step 5's spin forgets the deadline.
exercise_ch09_1() {
    copy ch09-1
    edit src/queue/fast.rs "fn spin_until(" \
        "let give_up = || backoff.is_completed() || deadline.has_passed();" \
        "let give_up = || backoff.is_completed();"
    expect failed "a time limit of zero spun" \
        cargo test --lib timed_operations_with_a_zero_limit_do_not_spin
}

# Chapter 9, exercise 2: push_locked forgets to tick the counter that
# spinning threads watch. Still correct: a spinner gives up, and sleeps.
exercise_ch09_2() {
    copy ch09-2
    edit src/queue/fast.rs "fn push_locked(" $'        self.changed();\n' ''
    expect passed "$explored" scripts/loom.sh -p 2 loom_fast step5::cases::put_get_handoff
}

# Chapter 10, exercise 1: a queue that loses no item but changes one.
exercise_ch10_1() {
    copy ch10-1
    edit benches/common/mod.rs "impl<Q: Build> Channel for Ladder<Q> {" \
        "rx.pop()" "rx.pop().map(|n| n | 1)"
    expect panicked "an item was lost or duplicated" cargo test --bench side_by_side
}

# Chapter 11, exercise 1: check, then act on a result that may be missing.
exercise_ch11_1() {
    copy ch11-1
    edit tests/loom_broken.rs "fn take_if_not_empty(" \
        "Some(q.try_get().unwrap())" "q.try_get()"
    expect failed "$no_failure" scripts/loom.sh -p 3 loom_broken check_then_act_panics
}

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
