"""Chapter 11: `if not q.empty(): q.get_nowait()` with two consumers.

Each trial puts one item, then two consumer threads, released together by a
barrier, both run the check-then-act. Both may see "not empty"; only one can
get the item, and the other's get_nowait() raises queue.Empty. The script
counts how often that happens, first with Python's default thread switch
interval and then with a tiny one that makes switches (and the race) common.
"""

import sys
import threading
from queue import Empty, Queue

TRIALS = 20000


def trial(q):
    barrier = threading.Barrier(2)
    surprises = []

    # ANCHOR: consumer
    def consumer():
        barrier.wait()
        if not q.empty():
            try:
                q.get_nowait()
            except Empty:
                surprises.append(1)  # empty() said no, get_nowait() found nothing
    # ANCHOR_END: consumer

    q.put("job")
    threads = [threading.Thread(target=consumer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(surprises)


def run(switch_interval):
    sys.setswitchinterval(switch_interval)
    q = Queue()
    hits = sum(trial(q) for _ in range(TRIALS))
    print(f"switch interval {switch_interval * 1e6:7.1f} us: queue.Empty after "
          f"empty() was False in {hits} of {TRIALS} trials")


run(sys.getswitchinterval())
run(1e-6)
