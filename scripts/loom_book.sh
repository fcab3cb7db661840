#!/usr/bin/env bash
# Regenerates book/src/loom/<variant>.txt: loom's own failure output for each
# broken variant, as the book quotes it. Run it after changing
# tests/loom_broken.rs, tests/loom_broken_ring.rs, tests/loom_broken_list.rs or
# tests/loom_polling.rs (the line numbers loom prints move with the code).
#
#   scripts/loom_book.sh                                 # every variant
#   scripts/loom_book.sh relaxed_stamp marks_only_on_drop  # only these
#
# Each file is a transcript: the command that was run, the panic that loom
# raised (trimmed to the panic itself: cargo's and libtest's lines are left
# out), the line the test helper prints with loom's iteration count, and,
# when loom names lines of the test file, those lines.
set -euo pipefail
cd "$(dirname "$0")/.."

out=book/src/loom
mkdir -p "$out"

# capture VARIANT TEST_FILE TEST
capture() {
    local variant=$1 file=$2 test=$3
    local raw
    raw=$(RUST_BACKTRACE=0 LOOM_LOCATION=1 scripts/loom.sh -p 3 "$file" "$test" 2>&1) || {
        printf '%s\n' "$raw" >&2
        echo "loom_book: $file $test failed (it should pass by finding its bug)" >&2
        exit 1
    }
    local panic
    panic=$(printf '%s\n' "$raw" | awk '
        /^thread .* panicked at / { on = 1 }
        /^note: run with / { on = 0 }
        on { print }
        /model .* loom found the failure in interleaving / { sub(/^test .* \.\.\. /, ""); print }')
    [[ -n $panic ]] || {
        printf '%s\n' "$raw" >&2
        echo "loom_book: no loom failure found in the output of $file $test" >&2
        exit 1
    }
    # The lines of the test file that loom's message points at.
    local lines
    lines=$(printf '%s\n' "$panic" |
        grep -oE "tests/$file\.rs(\", line: |:)[0-9]+" | grep -oE '[0-9]+$' | sort -n | uniq || true)
    {
        echo "\$ LOOM_LOCATION=1 scripts/loom.sh -p 3 $file $test"
        printf '%s\n' "$panic" | sed "s|$HOME/|~/|g"
        if [[ -n $lines ]]; then
            local cond
            cond=$(printf 'NR==%s || ' $lines)
            cond=${cond% || }
            echo
            echo "\$ awk '$cond { print FILENAME \":\" NR \":\" \$0 }' tests/$file.rs"
            awk "$cond { print FILENAME \":\" NR \":\" \$0 }" "tests/$file.rs"
        fi
    } >"$out/$variant.txt"
    echo "wrote $out/$variant.txt"
}

# VARIANT TEST_FILE TEST
variants=(
    "close_without_notify loom_broken close_without_notify_deadlocks"
    "close_notify_one loom_broken close_notify_one_deadlocks"
    "notify_before_push loom_broken notify_before_push_deadlocks"
    "flag_outside_lock loom_broken flag_outside_lock_deadlocks"
    "if_instead_of_while loom_broken if_instead_of_while_finds_nothing"
    "check_then_act loom_broken check_then_act_panics"
    "busy_poll_without_yield loom_polling busy_poll_without_yield_is_rejected"
    "relaxed_stamp loom_broken_ring relaxed_stamp_races_on_the_slot"
    "sleepers_check_with_load loom_broken_ring sleepers_check_with_load_deadlocks"
    "closed_flag_beside_tail loom_broken_ring closed_flag_beside_tail_loses_an_item"
    "marks_only_on_drop loom_broken_ring marks_only_on_drop_deadlocks"
    "free_on_last_read loom_broken_list freeing_a_block_when_its_last_slot_is_read_races_a_slower_reader"
)

# The variants to capture: those named on the command line (every name
# checked before anything runs), or all of them.
runs=()
if [[ $# -eq 0 ]]; then
    runs=("${variants[@]}")
fi
for name in "$@"; do
    found=
    for v in "${variants[@]}"; do
        [[ ${v%% *} == "$name" ]] && found=$v
    done
    [[ -n $found ]] || {
        echo "loom_book: no variant named '$name'; known: $(printf '%s ' "${variants[@]%% *}")" >&2
        exit 2
    }
    runs+=("$found")
done

for run in "${runs[@]}"; do
    # shellcheck disable=SC2086 # three words: VARIANT TEST_FILE TEST
    capture $run
done
