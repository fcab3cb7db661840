"""Chapter 4: Python 3.13's Queue.shutdown(), the standard library's own close.

Needs Python 3.13 or later. shutdown() makes put() raise ShutDown and lets
get() drain what is left; shutdown(immediate=True) also throws away the items
still inside (and counts them as done, so join() returns).
"""

import sys
from queue import Queue, ShutDown

print(f"Python {sys.version.split()[0]}")

q = Queue()
q.put("job 1")
q.shutdown()
try:
    q.put("job 2")
except ShutDown:
    print("shutdown(): put('job 2') raised ShutDown")
print(f"shutdown(): get() still returns {q.get()!r}")
try:
    q.get()
except ShutDown:
    print("shutdown(): once drained, get() raises ShutDown")

q = Queue()
for job in ("job 1", "job 2", "job 3"):
    q.put(job)
q.shutdown(immediate=True)
print(f"shutdown(immediate=True): qsize() is now {q.qsize()}; the 3 items are gone")
q.join()
print("shutdown(immediate=True): join() returned")
