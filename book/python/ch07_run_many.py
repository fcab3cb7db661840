"""Chapter 7: testing for a race by running it many times.

Chapter 2's leaky get (the check for an item outside the lock), this time
without the events that forced the bad schedule: a consumer and a producer
race, many times over, and each lost wake-up is counted. wait() gets a time-out
so that a lost wake-up is counted instead of hanging the script.
"""

import threading
import time
from collections import deque

RUNS = 20_000
PATIENCE = 0.2  # seconds; a wake-up that takes longer was lost


# ANCHOR: race
def race():
    items = deque()
    cond = threading.Condition()
    woken = []

    def leaky_get():
        if not items:  # the check, outside the lock
            with cond:
                woken.append(cond.wait(timeout=PATIENCE))

    consumer = threading.Thread(target=leaky_get)
    consumer.start()
    with cond:
        items.append("job")
        cond.notify()
    consumer.join()
    return woken != [False]  # False: the wait timed out with the item there
# ANCHOR_END: race


def main():
    start = time.perf_counter()
    lost = sum(not race() for _ in range(RUNS))
    elapsed = time.perf_counter() - start
    print(f"{RUNS} runs in {elapsed:.1f} s, lost wake-ups: {lost}")


if __name__ == "__main__":
    main()
