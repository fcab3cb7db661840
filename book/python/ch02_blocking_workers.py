"""Chapter 2: chapter 1's pipeline with queue.Queue, whose get() blocks.

Same three no-op stages, one worker each, 1000 items. The workers never poll:
get() sleeps until an item arrives. The main thread waits with get() too.
"""

import time
from queue import Queue
from threading import Thread

ITEMS = 1000


class Worker(Thread):
    def __init__(self, func, in_queue, out_queue):
        # Still no way to stop a worker (chapter 4): daemon, so the script ends.
        super().__init__(daemon=True)
        self.func, self.in_queue, self.out_queue = func, in_queue, out_queue
        self.polled_count = 0  # stays 0: nothing polls any more
        self.work_done = 0

    # ANCHOR: run
    def run(self):
        while True:
            item = self.in_queue.get()  # sleeps while the queue is empty
            self.out_queue.put(self.func(item))
            self.work_done += 1
    # ANCHOR_END: run


def stage(item):
    return item


def main():
    download_queue, resize_queue, upload_queue, done_queue = (Queue() for _ in range(4))
    threads = [
        Worker(stage, download_queue, resize_queue),
        Worker(stage, resize_queue, upload_queue),
        Worker(stage, upload_queue, done_queue),
    ]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for _ in range(ITEMS):
        download_queue.put(object())
    for _ in range(ITEMS):
        done_queue.get()  # the main thread sleeps too, instead of spinning
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0

    polled = sum(t.polled_count for t in threads)
    print(f"processed {sum(t.work_done for t in threads) // 3} items, polled {polled} times")
    print(f"wall time {wall * 1000:.1f} ms, CPU time {cpu * 1000:.1f} ms")

    cpu0 = time.process_time()
    time.sleep(1.0)  # the measurement window, not a way to order events
    print(f"idle for 1 s with nothing to do: CPU time {(time.process_time() - cpu0) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
