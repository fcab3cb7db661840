"""Chapter 4: the task_done()/join() demonstration of Effective Python, Item 55.

The producer waits with in_queue.join() until the consumer has called
task_done() for the item, not just taken it.
"""

import sys
from queue import Queue
from threading import Event, Thread

# ANCHOR: demo
in_queue = Queue()
waiting = Event()  # so that the consumer prints first, as in Item 55


def say(line):
    sys.stdout.write(line + "\n")  # one write per line: two threads print


def consumer():
    say("consumer waiting")
    waiting.set()
    work = in_queue.get()  # second
    say("consumer working")
    # ... the work ...
    say("consumer done")
    in_queue.task_done()  # third


thread = Thread(target=consumer)
thread.start()
waiting.wait()

say("producer putting")
in_queue.put(object())  # first
say("producer waiting")
in_queue.join()  # fourth: returns after task_done()
say("producer done")
thread.join()
# ANCHOR_END: demo
