"""Chapter 4: four ways the sentinel ClosableQueue goes wrong.

Each case runs its threads as daemons and waits for them with a time-out of
one second, so that a thread that would hang for ever is reported instead.
"""

import threading
from queue import Queue

from ch04_closable import ClosableQueue

PATIENCE = 1.0  # seconds to wait for something that should finish at once


def in_thread(func, *args):
    thread = threading.Thread(target=func, args=args, daemon=True)
    thread.start()
    return thread


def finished(thread):
    thread.join(PATIENCE)
    return "finished" if not thread.is_alive() else f"still blocked after {PATIENCE:.0f} s"


def drain(q, seen):
    for item in q:
        seen.append(item)


def one_sentinel_two_workers():
    q = ClosableQueue()
    workers = [in_thread(drain, q, []) for _ in range(2)]
    q.close()  # one sentinel; Item 55's stop_threads puts one per worker
    print("1. one close() for two workers:")
    for n, w in enumerate(workers, 1):
        print(f"   worker {n}: {finished(w)}")


def close_on_a_full_queue():
    q = ClosableQueue(1)
    q.put("job")  # full, and no worker has started yet
    closer = in_thread(q.close)
    print("2. close() on a full bounded queue:")
    print(f"   close(): {finished(closer)}")


def put_after_close():
    q = ClosableQueue()
    seen = []
    worker = in_thread(drain, q, seen)
    q.put("job 1")
    q.close()
    q.put("job 2")  # accepted without complaint
    print("3. put() after close():")
    print(f"   put('job 2') raised nothing; worker {finished(worker)}, saw {seen}")
    print(f"   left in the queue: {q.qsize()} item(s); q.join(): {finished(in_thread(q.join))}")


def worker_crashes():
    q = ClosableQueue()

    def fragile(q):
        for item in q:
            if item == 2:
                raise ValueError(f"cannot process item {item}")

    threading.excepthook = lambda args: print(f"   worker died: {args.exc_value!r}")
    for n in range(5):
        q.put(n)
    q.close()
    print("4. the only worker raises on item 2:")
    worker = in_thread(fragile, q)
    worker.join()
    print(f"   unfinished tasks: {q.unfinished_tasks}; q.join(): {finished(in_thread(q.join))}")


if __name__ == "__main__":
    one_sentinel_two_workers()
    close_on_a_full_queue()
    put_after_close()
    worker_crashes()
