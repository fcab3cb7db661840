"""Chapter 2: why the check around wait() is a `while`, not an `if`.

A hand-made blocking queue on threading.Condition. One consumer sleeps in
get(). The producer puts an item and notifies it, but before the woken
consumer gets the lock back, a second consumer takes the item. This script
forces that schedule (the comments say where); on a busy machine it also
happens by itself, just rarely.
"""

import threading
from collections import deque


class HandMadeQueue:
    def __init__(self, recheck_with_while):
        self.items = deque()
        self.cond = threading.Condition()
        self.recheck_with_while = recheck_with_while
        self.sleepers = 0  # only for this demonstration: who is inside wait()

    def put(self, item):
        with self.cond:
            self.items.append(item)
            self.cond.notify()

    # ANCHOR: get
    def get(self):
        with self.cond:
            if self.recheck_with_while:
                while not self.items:
                    self._sleep()
            else:
                if not self.items:
                    self._sleep()
            return self.items.popleft()
    # ANCHOR_END: get

    def _sleep(self):
        self.sleepers += 1
        self.cond.notify_all()  # demonstration only: tell main() we are about to sleep
        self.cond.wait()
        self.sleepers -= 1


def run(recheck_with_while):
    q = HandMadeQueue(recheck_with_while)
    outcome = []

    def consumer():
        try:
            outcome.append(f"consumer got {q.get()!r}")
        except IndexError as e:
            outcome.append(f"consumer crashed: IndexError: {e}")

    thread = threading.Thread(target=consumer)
    thread.start()
    with q.cond:
        q.cond.wait_for(lambda: q.sleepers == 1)  # the consumer is inside wait()
        # The forced schedule: put() and a second consumer's get(), both before
        # the woken consumer can take the lock back.
        q.items.append("job 1")
        q.cond.notify()
        stolen = q.items.popleft()
    print(f"  a second consumer took {stolen!r} first")
    if recheck_with_while:
        q.put("job 2")  # the consumer went back to sleep; this wakes it again
    thread.join()
    print(f"  {outcome[0]}")


print("with `if not items: wait()`:")
run(recheck_with_while=False)
print("with `while not items: wait()`:")
run(recheck_with_while=True)
