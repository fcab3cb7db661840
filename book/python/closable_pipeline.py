"""The last pipeline of Effective Python, Item 55, timed in Python.

ClosableQueue with a sentinel, StoppableWorker, start_threads/stop_threads,
3/4/5 workers.

download -> resize -> upload with no-op stages. Prints one JSON line per run:
the time from creating the queues until the last stage is stopped. The three
queues in front of the stages get `maxsize=--capacity` (0: unbounded, as in
Item 55); the done queue is unbounded. Same item count and stages as the
Rust run in benches/pipeline.rs (`pipeline_3-4-5/closable/...`).

    python3 book/python/closable_pipeline.py --items 10000 --runs 5 --capacity 64
"""

import argparse
import json
import platform
import time
from queue import Queue
from threading import Thread


class ClosableQueue(Queue):
    SENTINEL = object()

    def close(self):
        self.put(self.SENTINEL)

    def __iter__(self):
        while True:
            item = self.get()
            try:
                if item is self.SENTINEL:
                    return  # stop the thread
                yield item
            finally:
                self.task_done()


class StoppableWorker(Thread):
    def __init__(self, func, in_queue, out_queue):
        super().__init__()
        self.func = func
        self.in_queue = in_queue
        self.out_queue = out_queue

    def run(self):
        for item in self.in_queue:
            result = self.func(item)
            self.out_queue.put(result)


def download(item):
    return item


def resize(item):
    return item


def upload(item):
    return item


def start_threads(count, *args):
    threads = [StoppableWorker(*args) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def stop_threads(closable_queue, threads):
    for _ in threads:
        closable_queue.close()
    closable_queue.join()
    for thread in threads:
        thread.join()


def run_once(items, workers, capacity):
    start = time.perf_counter()
    download_queue = ClosableQueue(capacity)
    resize_queue = ClosableQueue(capacity)
    upload_queue = ClosableQueue(capacity)
    done_queue = ClosableQueue()
    download_threads = start_threads(
        workers[0], download, download_queue, resize_queue)
    resize_threads = start_threads(
        workers[1], resize, resize_queue, upload_queue)
    upload_threads = start_threads(
        workers[2], upload, upload_queue, done_queue)
    for _ in range(items):
        download_queue.put(object())
    stop_threads(download_queue, download_threads)
    stop_threads(resize_queue, resize_threads)
    stop_threads(upload_queue, upload_threads)
    seconds = time.perf_counter() - start
    return seconds, done_queue.qsize()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--capacity", type=int, default=0,
                        help="maxsize of the stage queues; 0 = unbounded")
    parser.add_argument("--workers", default="3,4,5",
                        help="workers per stage, e.g. 3,4,5 or 1,1,1")
    args = parser.parse_args()
    workers = [int(n) for n in args.workers.split(",")]
    assert len(workers) == 3 and min(workers) > 0, args.workers
    for _ in range(args.runs):
        seconds, processed = run_once(args.items, workers, args.capacity)
        assert processed == args.items, (processed, args.items)
        print(json.dumps({
            "pipeline": "closable",
            "workers": workers,
            "capacity": args.capacity or None,
            "items": args.items,
            "seconds": seconds,
            "python": platform.python_version(),
        }), flush=True)


if __name__ == "__main__":
    main()
