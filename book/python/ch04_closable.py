"""Chapter 4: the ClosableQueue (a sentinel item) and StoppableWorker of
Effective Python, Item 55, in its final pipeline: 3/4/5 workers, 1000 items,
no-op stages.
"""

import time
from queue import Queue
from threading import Thread

ITEMS = 1000


# ANCHOR: closable
class ClosableQueue(Queue):
    SENTINEL = object()

    def close(self):
        self.put(self.SENTINEL)

    def __iter__(self):
        while True:
            item = self.get()
            try:
                if item is self.SENTINEL:
                    return  # ends the worker's loop
                yield item
            finally:
                self.task_done()
# ANCHOR_END: closable


# ANCHOR: worker
class StoppableWorker(Thread):
    def __init__(self, func, in_queue, out_queue):
        super().__init__()
        self.func, self.in_queue, self.out_queue = func, in_queue, out_queue

    def run(self):
        for item in self.in_queue:
            self.out_queue.put(self.func(item))
# ANCHOR_END: worker


# ANCHOR: stop
def start_threads(count, *args):
    threads = [StoppableWorker(*args) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def stop_threads(closable_queue, threads):
    for _ in threads:
        closable_queue.close()  # one sentinel per worker
    closable_queue.join()
    for thread in threads:
        thread.join()
# ANCHOR_END: stop


def stage(item):
    return item


def main():
    download_queue, resize_queue, upload_queue, done_queue = (ClosableQueue() for _ in range(4))
    start = time.perf_counter()
    download_threads = start_threads(3, stage, download_queue, resize_queue)
    resize_threads = start_threads(4, stage, resize_queue, upload_queue)
    upload_threads = start_threads(5, stage, upload_queue, done_queue)
    for _ in range(ITEMS):
        download_queue.put(object())
    stop_threads(download_queue, download_threads)
    stop_threads(resize_queue, resize_threads)
    stop_threads(upload_queue, upload_threads)
    elapsed = time.perf_counter() - start
    print(f"{done_queue.qsize()} items processed in {elapsed * 1000:.1f} ms")
    alive = sum(t.is_alive() for t in download_threads + resize_threads + upload_threads)
    print(f"worker threads still running: {alive}")


if __name__ == "__main__":
    main()
