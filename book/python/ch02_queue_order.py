"""Chapter 2: the first queue.Queue demonstration of Effective Python, Item 55.

The consumer starts first and calls get() on an empty queue: it sleeps until
the producer's put(). Nobody polls.
"""

import sys
from queue import Queue
from threading import Event, Thread

# ANCHOR: demo
my_queue = Queue()


def say(line):
    sys.stdout.write(line + "\n")  # one write per line: two threads print


waiting = Event()  # so that the first line printed is the consumer's, as in Item 55


def consumer():
    say("consumer waiting")
    waiting.set()
    my_queue.get()  # returns only after the put() below
    say("consumer done")


thread = Thread(target=consumer)
thread.start()
waiting.wait()

say("producer putting")
my_queue.put(object())  # runs before the get() above returns
say("producer done")
thread.join()
# ANCHOR_END: demo
