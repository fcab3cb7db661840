"""Chapter 3: memory with and without a bound.

A producer puts ITEMS items of 1 KiB; the consumer spends about ten times as
long on each item as the producer does. Each run happens in a fresh child
process, which reports how long the queue got and how much its resident
memory grew (peak RSS from getrusage, minus the RSS before the run).
"""

import resource
import subprocess
import sys
import time
from queue import Queue
from threading import Thread

ITEMS = 200_000
ITEM_SIZE = 1024


def spin(n):
    total = 0
    for i in range(n):
        total += i
    return total


def child(maxsize):
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    q = Queue(maxsize)
    peak_len = 0

    def consumer():
        for _ in range(ITEMS):
            q.get()
            spin(200)  # the slow stage

    thread = Thread(target=consumer)
    start = time.perf_counter()
    thread.start()
    for _ in range(ITEMS):
        q.put(bytes(ITEM_SIZE))
        spin(20)  # the fast stage: a tenth of the consumer's work
        peak_len = max(peak_len, q.qsize())
    thread.join()
    elapsed = time.perf_counter() - start
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kib
    label = "unbounded, Queue()" if maxsize == 0 else f"bounded, Queue({maxsize})"
    print(f"{label:20} peak length {peak_len:7}, peak RSS grew {grown_kib / 1024:6.1f} MiB, "
          f"took {elapsed:.2f} s")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        child(int(sys.argv[1]))
    else:
        print(f"{ITEMS} items of {ITEM_SIZE} bytes, consumer about 10x slower than producer")
        for maxsize in (0, 100):
            subprocess.run([sys.executable, __file__, str(maxsize)], check=True)
