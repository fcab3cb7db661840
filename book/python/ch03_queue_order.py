"""Chapter 3: the Queue(1) demonstration of Effective Python, Item 55, as the
study notes write it.

With room for one item, the producer's second put() waits until the
consumer's first get() has made room. (The consumer's sleep is Item 55's: it
makes the producer reach the full queue first.)
"""

import sys
import time
from queue import Queue
from threading import Thread

# ANCHOR: demo
my_queue = Queue(1)  # room for one item


def say(line):
    sys.stdout.write(line + "\n")  # one write per line: two threads print


def consumer():
    time.sleep(0.1)  # Item 55's: let the producer run ahead
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
