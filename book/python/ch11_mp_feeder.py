"""Chapter 11: the multiprocessing.Queue stories of the study notes on CPython's
multiprocessing.Queue (its feeder thread and pipe).

    python3 ch11_mp_feeder.py empty        # story 1
    python3 ch11_mp_feeder.py exit         # story 2
    python3 ch11_mp_feeder.py mutate       # story 3
    python3 ch11_mp_feeder.py unpicklable  # story 4

1. put() hands the item to a background "feeder" thread that writes it into
   a pipe later, so right after put() the queue can still look empty.
2. A process that put an item too big for the pipe cannot exit until someone
   reads it: at exit it waits for its feeder thread, which waits for room.
3. put() does not pickle the item: it appends the object itself to a buffer,
   and the feeder thread pickles it when it gets to it. A change made to the
   object after put() returned can be what the consumer receives.
4. For the same reason, an object that cannot be pickled makes no error in
   put(). The feeder thread prints the error and drops the item.

Stories 3 and 4 are not in the study notes that stories 1 and 2 come from;
they follow from Queue.put and Queue._feed in CPython's
multiprocessing/queues.py. They keep the feeder thread busy with a first
item too big for the pipe, which the consumer reads only when told to: until
then the feeder cannot get to the items behind it, so what they show does
not depend on timing.
"""

import fcntl
import multiprocessing as mp
import os
import sys
import threading
from queue import Empty

TRIALS = 1000


def right_after_put():
    q = mp.Queue()
    looked_empty = raised_empty = 0
    for _ in range(TRIALS):
        q.put("job")
        if q.empty():
            looked_empty += 1
        try:
            q.get_nowait()
        except Empty:
            raised_empty += 1
            q.get()  # it was there all along: wait for the feeder to write it
    print(f"in {TRIALS} trials of put() then, at once, empty() and get_nowait():")
    print(f"empty() was True {looked_empty} times, get_nowait() raised Empty {raised_empty} times")


def pipe_size():
    r, w = os.pipe()
    size = fcntl.fcntl(w, fcntl.F_GETPIPE_SZ)
    os.close(r)
    os.close(w)
    return size


def producer(q, size):
    q.put(b"x" * size)  # returns at once: the feeder thread writes it


def child_exits(size):
    q = mp.Queue()
    child = mp.Process(target=producer, args=(q, size))
    child.start()
    child.join(timeout=2.0)
    before = "exited" if child.exitcode is not None else "still alive after join(timeout=2)"
    item = q.get()  # read the item: the feeder can finish, and the child exits
    child.join()
    print(f"item of {size:>9,} bytes: child {before}; "
          f"after get() of {len(item):,} bytes it exited with code {child.exitcode}")


# ANCHOR: pickled_later
BIG = 1_000_000  # more than the pipe holds: the feeder waits until it is read


def consumer(q, go):
    go.wait()  # read nothing until the producer says so
    q.get()  # the big item; now the feeder can go on to the next one
    print(f"consumer: got {q.get()!r}", flush=True)


def changed_after_put():
    q, go = mp.Queue(), mp.Event()
    reader = mp.Process(target=consumer, args=(q, go))
    reader.start()
    q.put(b"x" * BIG)  # keeps the feeder thread busy
    order = ["eggs"]
    q.put(order)  # returns at once: the list itself waits in the buffer
    order.append("spam")
    print(f"producer: put(order) returned, then changed order to {order!r}", flush=True)
    go.set()
    reader.join()


def not_picklable():
    q, go = mp.Queue(), mp.Event()
    reader = mp.Process(target=consumer, args=(q, go))
    reader.start()
    q.put(b"x" * BIG)  # keeps the feeder thread busy
    q.put(threading.Lock())  # cannot be pickled, and put() does not try
    print("producer: put(threading.Lock()) returned without an error", flush=True)
    q.put("the item after the lock")
    go.set()
    reader.join()
# ANCHOR_END: pickled_later


if __name__ == "__main__":
    mp.set_start_method("fork")
    part = sys.argv[1] if len(sys.argv) > 1 else "both"
    if part in ("empty", "both"):
        right_after_put()
    if part in ("exit", "both"):
        print(f"a child process puts one item and exits; the pipe holds {pipe_size():,} bytes")
        child_exits(1_000)
        child_exits(1_000_000)
    if part in ("mutate", "unpicklable", "both"):
        assert BIG > pipe_size(), "the big item must not fit in the pipe"
    if part in ("mutate", "both"):
        changed_after_put()
    if part in ("unpicklable", "both"):
        not_picklable()
