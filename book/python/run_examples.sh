#!/usr/bin/env bash
# Runs the book's Python programs (book/python/ch*.py) and writes what each
# printed to book/src/output/<name>.txt, which the chapters include. Every
# transcript starts with the command and ends with where it ran, so no output
# in the book is typed by hand.
#
#   bash book/python/run_examples.sh            # all of them (about 30 s)
#   bash book/python/run_examples.sh ch03       # only those whose name starts so
#
# PYTHON picks the interpreter (default python3). ch04_shutdown313.py needs
# Python 3.13 or later: PYTHON313, python3.13 or pyenv's 3.13.0, the first
# that runs; without one its old transcript is kept. ch08_hypothesis.py needs
# `pip install hypothesis`; without it, likewise.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-python3}
out=book/src/output
mkdir -p "$out"
only=${1:-}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

wanted() { [[ -z $only || $1 == "$only"* ]]; }

where() {
    echo "# $("$1" -c 'import platform; print("Python", platform.python_version())')," \
        "$(nproc) cores, $(date -u +%Y-%m-%d), commit $commit"
}

# transcript NAME SHOWN PY SCRIPT [ARGS...]: runs PY book/python/SCRIPT ARGS
# into $out/NAME.txt, showing the command as "$ SHOWN book/python/SCRIPT ARGS".
transcript() {
    local name=$1 shown=$2 py=$3
    shift 3
    wanted "$name" || return 0
    echo "running $name" >&2
    {
        echo "\$ $shown book/python/$*"
        "$py" "book/python/$1" "${@:2}"
        where "$py"
    } >"$out/$name.txt" 2>&1
}

transcript ch01_myqueue python3 "$PYTHON" ch01_myqueue.py

# Item 55's own version, whose worker threads are not daemons: it never ends.
if wanted ch01_never_exits; then
    echo "running ch01_never_exits" >&2
    {
        echo "\$ timeout 3 python3 book/python/ch01_myqueue.py --seed; echo \"exit status: \$?\""
        status=0
        timeout 3 "$PYTHON" book/python/ch01_myqueue.py --seed || status=$?
        echo "exit status: $status"
        where "$PYTHON"
    } >"$out/ch01_never_exits.txt" 2>&1
fi

transcript ch02_queue_order python3 "$PYTHON" ch02_queue_order.py
transcript ch02_blocking_workers python3 "$PYTHON" ch02_blocking_workers.py
transcript ch02_if_vs_while python3 "$PYTHON" ch02_if_vs_while.py
transcript ch02_lost_wakeup python3 "$PYTHON" ch02_lost_wakeup.py
transcript ch03_queue_order python3 "$PYTHON" ch03_queue_order.py
transcript ch03_memory python3 "$PYTHON" ch03_memory.py
transcript ch04_task_done python3 "$PYTHON" ch04_task_done.py
transcript ch04_closable python3 "$PYTHON" ch04_closable.py
transcript ch04_sentinel_traps python3 "$PYTHON" ch04_sentinel_traps.py
transcript ch04_worker_crash python3 "$PYTHON" ch04_worker_crash.py
transcript ch05_print_order python3 "$PYTHON" ch05_print_order.py
transcript ch06_workers python3 "$PYTHON" ch06_pipeline.py workers
transcript ch06_failure python3 "$PYTHON" ch06_pipeline.py failure
transcript ch07_run_many python3 "$PYTHON" ch07_run_many.py

if "$PYTHON" -c 'import hypothesis' >/dev/null 2>&1; then
    transcript ch08_hypothesis python3 "$PYTHON" ch08_hypothesis.py
elif wanted ch08_hypothesis; then
    echo "hypothesis is not installed (pip install hypothesis): kept $out/ch08_hypothesis.txt as it was" >&2
fi

# The first interpreter that really is 3.13 or later (a pyenv shim may exist
# and still refuse to run).
py313=
for candidate in ${PYTHON313:-} python3.13 "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
    if "$candidate" -c 'import sys; assert sys.version_info >= (3, 13)' >/dev/null 2>&1; then
        py313=$candidate
        break
    fi
done
if [[ -n $py313 ]]; then
    transcript ch04_shutdown313 python3.13 "$py313" ch04_shutdown313.py
elif wanted ch04_shutdown313; then
    echo "no Python 3.13 found: kept $out/ch04_shutdown313.txt as it was" >&2
fi

transcript ch11_check_then_act python3 "$PYTHON" ch11_check_then_act.py
transcript ch11_mp_empty python3 "$PYTHON" ch11_mp_feeder.py empty
transcript ch11_mp_exit python3 "$PYTHON" ch11_mp_feeder.py exit
transcript ch11_mp_mutate python3 "$PYTHON" ch11_mp_feeder.py mutate
transcript ch11_mp_unpicklable python3 "$PYTHON" ch11_mp_feeder.py unpicklable
