"""Chapter 5: the Queue(1) demonstration of Effective Python, Item 55, run many
times, counting the orders its six lines come out in.

Item 55 numbers the four queue calls (put first, get second, put third, get
fourth) and the study notes show one order of the printed lines. The queue
calls do happen in that order every time; the lines printed after them need
not.
"""

import tempfile
import time
from collections import Counter
from queue import Queue
from threading import Thread

RUNS = 200
PAUSE = 0.01  # Item 55's consumer sleeps 0.1 s first; shorter here, so 200 runs take seconds


# ANCHOR: demo
def demo(say):
    my_queue = Queue(1)  # room for one item

    def consumer():
        time.sleep(PAUSE)  # let the producer run ahead, as Item 55 does
        my_queue.get()  # second
        say("consumer 1")
        my_queue.get()  # fourth
        say("consumer 2")
        say("consumer done")

    thread = Thread(target=consumer)
    thread.start()
    my_queue.put(object())  # first
    say("producer 1")
    my_queue.put(object())  # third: waits for the first get()
    say("producer 2")
    say("producer done")
    thread.join()
# ANCHOR_END: demo


def main():
    orders = Counter()
    for _ in range(RUNS):
        with tempfile.TemporaryFile("w+") as out:  # what the terminal would show
            demo(lambda line: print(line, file=out, flush=True))
            out.seek(0)
            orders[tuple(out.read().splitlines())] += 1
    print(f"{RUNS} runs, {len(orders)} different orders of the six lines:")
    for order, count in orders.most_common():
        print(f"{count:4} x  {', '.join(order)}")


if __name__ == "__main__":
    main()
