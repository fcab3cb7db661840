"""The first pipeline of Effective Python, Item 55, timed in Python.

MyQueue and busy-polling workers, 1/1/1.

download -> resize -> upload with no-op stages. Each worker polls its queue
and sleeps 10 ms whenever it is empty; the main thread spins on the done
queue's length. Prints one JSON line per run: the time from starting the
workers until the last item reached the done queue, and the polls.

Item 55's workers loop for ever; these stop when told, so that a run ends.
Same item count and stages as the Rust run in benches/pipeline.rs
(`pipeline_1-1-1/polling-10ms/unbounded`).

    python3 book/python/polling_pipeline.py --items 10000 --runs 5
"""

import argparse
import json
import platform
import time
from collections import deque
from threading import Lock, Thread


class MyQueue:
    def __init__(self):
        self.items = deque()
        self.lock = Lock()

    def put(self, item):
        with self.lock:
            self.items.append(item)

    def get(self):
        with self.lock:
            return self.items.popleft()


class Worker(Thread):
    def __init__(self, func, in_queue, out_queue, sleep):
        super().__init__()
        self.func = func
        self.in_queue = in_queue
        self.out_queue = out_queue
        self.sleep = sleep
        self.polled_count = 0
        self.work_done = 0
        self.stopping = False

    def run(self):
        while not self.stopping:
            self.polled_count += 1
            try:
                item = self.in_queue.get()
            except IndexError:
                time.sleep(self.sleep)  # nothing to do
            else:
                result = self.func(item)
                self.out_queue.put(result)
                self.work_done += 1


def download(item):
    return item


def resize(item):
    return item


def upload(item):
    return item


def run_once(items, sleep):
    start = time.perf_counter()
    download_queue = MyQueue()
    resize_queue = MyQueue()
    upload_queue = MyQueue()
    done_queue = MyQueue()
    threads = [
        Worker(download, download_queue, resize_queue, sleep),
        Worker(resize, resize_queue, upload_queue, sleep),
        Worker(upload, upload_queue, done_queue, sleep),
    ]
    for thread in threads:
        thread.start()
    for _ in range(items):
        download_queue.put(object())
    while len(done_queue.items) < items:
        pass  # Item 55: "do something useful while waiting"
    seconds = time.perf_counter() - start
    for thread in threads:
        thread.stopping = True
    for thread in threads:
        thread.join()
    return seconds, sum(t.polled_count for t in threads), len(done_queue.items)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sleep-ms", type=float, default=10.0)
    args = parser.parse_args()
    for _ in range(args.runs):
        seconds, polls, processed = run_once(args.items, args.sleep_ms / 1000)
        assert processed == args.items, (processed, args.items)
        print(json.dumps({
            "pipeline": "polling",
            "workers": [1, 1, 1],
            "capacity": None,
            "items": args.items,
            "seconds": seconds,
            "polls": polls,
            "python": platform.python_version(),
        }), flush=True)


if __name__ == "__main__":
    main()
