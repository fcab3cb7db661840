"""Chapter 1: the first pipeline of Effective Python, Item 55, from the study
notes: a lock around a deque and workers that poll.

Three stages (download, resize, upload) that do nothing, one polling worker
each, 1000 items. Prints what the notes' version prints (items processed, total
polls) and what it costs: wall time, CPU time, how often the main thread spun
while it waited, and the CPU burnt by workers polling an empty queue for one
second.

    python3 ch01_myqueue.py            # workers are daemon threads: the script ends
    python3 ch01_myqueue.py --seed     # as Item 55 writes it: the script never ends

(`--seed` is the project's old name for "as the source writes it".)
"""

import sys
import time
from collections import deque
from threading import Lock, Thread

ITEMS = 1000
POLL_SLEEP = 0.01  # Item 55's time.sleep(0.01) when the queue is empty


# ANCHOR: myqueue
class MyQueue:
    def __init__(self):
        self.items = deque()
        self.lock = Lock()

    def put(self, item):
        with self.lock:
            self.items.append(item)

    def get(self):
        with self.lock:
            return self.items.popleft()  # IndexError when empty
# ANCHOR_END: myqueue


# ANCHOR: worker
class Worker(Thread):
    def __init__(self, func, in_queue, out_queue, daemon):
        super().__init__(daemon=daemon)
        self.func = func
        self.in_queue = in_queue
        self.out_queue = out_queue
        self.polled_count = 0
        self.work_done = 0

    def run(self):
        while True:
            self.polled_count += 1
            try:
                item = self.in_queue.get()
            except IndexError:
                time.sleep(POLL_SLEEP)  # nothing to do
            else:
                result = self.func(item)
                self.out_queue.put(result)
                self.work_done += 1
# ANCHOR_END: worker


def download(item):
    return item


def resize(item):
    return item


def upload(item):
    return item


def main():
    seed_exact = "--seed" in sys.argv
    download_queue, resize_queue = MyQueue(), MyQueue()
    upload_queue, done_queue = MyQueue(), MyQueue()
    threads = [
        Worker(download, download_queue, resize_queue, daemon=not seed_exact),
        Worker(resize, resize_queue, upload_queue, daemon=not seed_exact),
        Worker(upload, upload_queue, done_queue, daemon=not seed_exact),
    ]

    wall0, cpu0 = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for _ in range(ITEMS):
        download_queue.put(object())

    # ANCHOR: wait
    spins = 0
    while len(done_queue.items) < ITEMS:
        spins += 1  # Item 55's "do something useful while waiting": a busy wait
    # ANCHOR_END: wait
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0

    # One snapshot: the workers keep polling while we print.
    processed = len(done_queue.items)
    counts = [(t.polled_count, t.work_done) for t in threads]
    print(f"processed {processed} items, polled {sum(p for p, _ in counts)} times")
    for name, (polled, done) in zip(["download", "resize", "upload"], counts):
        print(f"  {name:8} polled {polled:5} times, did {done} items")
    print(f"main thread spun {spins} times waiting for done_queue")
    print(f"wall time {wall * 1000:.1f} ms, CPU time {cpu * 1000:.1f} ms")

    # Now every queue is empty. The workers keep polling: measure one idle second.
    polls0 = sum(t.polled_count for t in threads)
    cpu0 = time.process_time()
    time.sleep(1.0)  # the measurement window, not a way to order events
    idle_polls = sum(t.polled_count for t in threads) - polls0
    idle_cpu = time.process_time() - cpu0
    print(f"idle for 1 s with nothing to do: {idle_polls} more polls, "
          f"CPU time {idle_cpu * 1000:.1f} ms")
    alive = sum(t.is_alive() for t in threads)
    print(f"worker threads still running: {alive} (nothing can tell them to stop)")


if __name__ == "__main__":
    main()
