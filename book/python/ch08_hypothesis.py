"""Chapter 8: a property test in Python, with Hypothesis.

The model is a list with a length limit. The test replays random operations
on a queue.Queue and on the model and compares every answer. Run against a
queue built with one slot too many, Hypothesis finds the bug and shrinks it.
Needs `pip install hypothesis`.
"""

import queue

import hypothesis
from hypothesis import given, settings, strategies as st

# ANCHOR: ops
ops = st.lists(
    st.one_of(
        st.tuples(st.just("put_nowait"), st.integers(0, 255)),
        st.just(("get_nowait",)),
        st.just(("qsize",)),
    ),
    max_size=64,
)
# ANCHOR_END: ops


# ANCHOR: test
def matches_model(make_queue):
    @settings(database=None, derandomize=True)  # the same run every time
    @given(capacity=st.integers(1, 8), ops=ops)
    def test(capacity, ops):
        q, model = make_queue(capacity), []
        for op in ops:
            if op[0] == "put_nowait":
                try:
                    q.put_nowait(op[1])
                    accepted = True
                except queue.Full:
                    accepted = False
                assert accepted == (len(model) < capacity), f"put_nowait after {model}"
                if accepted:
                    model.append(op[1])
            elif op[0] == "get_nowait":
                try:
                    got = q.get_nowait()
                except queue.Empty:
                    got = None
                assert got == (model.pop(0) if model else None)
            else:
                assert q.qsize() == len(model)

    return test
# ANCHOR_END: test


if __name__ == "__main__":
    print(f"Hypothesis {hypothesis.__version__}")
    matches_model(lambda capacity: queue.Queue(capacity))()
    print("queue.Queue(capacity): every generated case matches the model")
    try:
        # ANCHOR: bug
        matches_model(lambda capacity: queue.Queue(capacity + 1))()  # BUG: one slot too many
        # ANCHOR_END: bug
    except AssertionError as failure:
        print(f"queue.Queue(capacity + 1): AssertionError: {failure}")
        for note in getattr(failure, "__notes__", []):  # Hypothesis adds the shrunk case here
            print(f"  {note}")
