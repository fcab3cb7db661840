"""Chapter 4: Effective Python's stop order when the only worker dies.

One StoppableWorker, whose function raises on item 2, and the book's
stop_threads: close the queue, join it, join the threads. stop_threads runs in
a daemon thread and gets PATIENCE seconds, so that its hang is shown instead of
suffered.
"""

import threading

from ch04_closable import ClosableQueue, StoppableWorker, stop_threads

PATIENCE = 1.0  # seconds; stop_threads would return at once if it could


# ANCHOR: crash
def fragile(item):
    if item == 2:
        raise ValueError(f"cannot process item {item}")
    return item


def main():
    threading.excepthook = lambda args: print(f"worker died: {args.exc_value!r}")
    in_queue, out_queue = ClosableQueue(), ClosableQueue()
    worker = StoppableWorker(fragile, in_queue, out_queue)
    worker.start()
    for n in range(5):
        in_queue.put(n)
    stopper = threading.Thread(target=stop_threads, args=(in_queue, [worker]), daemon=True)
    stopper.start()
    stopper.join(PATIENCE)
    state = "returned" if not stopper.is_alive() else "still waiting in in_queue.join()"
    print(f"after {PATIENCE:.0f} s, stop_threads: {state}")
    inside = ["SENTINEL" if item is ClosableQueue.SENTINEL else item for item in in_queue.queue]
    print(
        f"worker alive: {worker.is_alive()}; in_queue: {inside} inside,"
        f" {in_queue.unfinished_tasks} unfinished task(s)"
    )
    print(f"worker.join() returns {worker.join()!r}: the exception stays in the dead thread")
    print(f"processed: {out_queue.qsize()} item(s)")
# ANCHOR_END: crash


if __name__ == "__main__":
    main()
