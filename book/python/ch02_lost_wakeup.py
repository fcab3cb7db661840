"""Chapter 2: a lost wake-up.

The consumer checks for an item *without* holding the condition's lock, then
goes to sleep. If the producer's put() and notify() fall between the check
and the wait(), the notify wakes nobody and the consumer sleeps although an
item is there. This script forces that schedule with two Events; a real
program hits it by bad luck. wait() gets a 1 s time-out so the script ends.
"""

import threading
from collections import deque

items = deque()
cond = threading.Condition()
checked, go_on = threading.Event(), threading.Event()


# ANCHOR: leaky_get
def leaky_get():
    if not items:  # the check, outside the lock
        checked.set()  # demonstration only: let the producer run now
        go_on.wait()
        with cond:
            woken = cond.wait(timeout=1.0)
        print(f"consumer: woken by notify: {woken}; items in the queue: {len(items)}")
# ANCHOR_END: leaky_get


consumer = threading.Thread(target=leaky_get)
consumer.start()
checked.wait()  # the consumer saw an empty queue and has not slept yet
with cond:
    items.append("job")
    cond.notify()
print("producer: put 'job' and notified (nobody was waiting yet)")
go_on.set()
consumer.join()
