"""Chapter 6: the closable pipeline of Effective Python, Item 55, with
simulated I/O, then with a stage that fails once.

    python3 ch06_pipeline.py workers   # 1/1/1 against 3/4/5 workers, 1 ms of "I/O" per stage
    python3 ch06_pipeline.py failure   # 3/4/5 workers, resize raises on one item

The failing run is started in a daemon thread and given a few seconds, so that
a hang is reported instead of waited for.
"""

import sys
import threading
import time

from ch04_closable import ClosableQueue, start_threads, stop_threads

ITEMS = 1000
LATENCY = 0.001  # seconds of simulated I/O per item and stage
PATIENCE = 3.0  # seconds to wait for a run that should take well under one


def io_stage(item):
    time.sleep(LATENCY)  # waiting for the network: other threads run meanwhile
    return item


# ANCHOR: run
def run(workers, download, resize, upload, progress):
    download_queue, resize_queue, upload_queue, done_queue = (ClosableQueue() for _ in range(4))
    progress["resize_queue"], progress["done_queue"] = resize_queue, done_queue
    download_threads = start_threads(workers[0], download, download_queue, resize_queue)
    resize_threads = start_threads(workers[1], resize, resize_queue, upload_queue)
    progress["resize_threads"] = resize_threads
    upload_threads = start_threads(workers[2], upload, upload_queue, done_queue)
    for item in range(ITEMS):
        download_queue.put(item)
    progress["step"] = "stop_threads(download_queue)"
    stop_threads(download_queue, download_threads)
    progress["step"] = "stop_threads(resize_queue)"
    stop_threads(resize_queue, resize_threads)
    progress["step"] = "stop_threads(upload_queue)"
    stop_threads(upload_queue, upload_threads)
    progress["step"] = "finished"
# ANCHOR_END: run


def workers():
    print(f"{ITEMS} items, {LATENCY * 1000:.0f} ms of simulated I/O per item and stage")
    for counts in [(1, 1, 1), (3, 4, 5)]:
        progress = {}
        start = time.perf_counter()
        run(counts, io_stage, io_stage, io_stage, progress)
        secs = time.perf_counter() - start
        done = progress["done_queue"].qsize()
        print(f"  {'/'.join(map(str, counts))} workers: {done} items in {secs:.3f} s, "
              f"{done / secs:.0f} items/s")


# ANCHOR: fragile
def resize(item):
    if item == 500:
        raise ValueError(f"cannot resize item {item}")
    return item
# ANCHOR_END: fragile


def failure():
    threading.excepthook = lambda args: print(
        f"{args.thread.name} died: {args.exc_value!r}")
    progress = {"step": "starting"}
    main = threading.Thread(
        target=run, args=((3, 4, 5), io_stage, resize, io_stage, progress), daemon=True)
    main.start()
    main.join(PATIENCE)
    if main.is_alive():
        print(f"after {PATIENCE:.0f} s the run is still in {progress['step']}")
    else:
        print("the run finished")
    resize_queue = progress["resize_queue"]
    print(f"resize_queue: {resize_queue.qsize()} item(s) inside, "
          f"{resize_queue.unfinished_tasks} unfinished task(s), "
          f"{sum(t.is_alive() for t in progress['resize_threads'])} of 4 workers alive")
    print(f"done_queue holds {progress['done_queue'].qsize()} of {ITEMS} items")


if __name__ == "__main__":
    {"workers": workers, "failure": failure}[sys.argv[1]]()
