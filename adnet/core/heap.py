"""Long-lived objects kept out of the cyclic garbage collector's full passes.

A full collection walks every container object the process has not frozen, holding the
interpreter throughout: in a web worker that is the imported framework plus the campaign
snapshot, about 140,000 objects with 1,000 campaigns and 320,000 with 10,000, and each such
pass took 70 to 240 ms, a pause for whichever request was running (docs/benchmarks.md).
Server processes therefore freeze what they import once it is loaded (`freeze_imports`),
and each campaign snapshot when it is built (`long_lived`): frozen objects are skipped by
the collector but still freed by reference counting when dropped, so a replaced snapshot
goes away as before. Anything frozen that later becomes *cyclic* garbage is never
reclaimed: a snapshot holds no reference cycles (tests/test_heap.py), and the young
generations are collected before each freeze, which clears the small cycle Django's SQL
compiler leaves behind per query. What is kept for good is therefore bounded by what
reached the oldest generation in cycles while a snapshot was being built: such a compiler
cycle (three objects, only when a collection ran while the query compiled), or a cycle that
a request served meanwhile through Django left (the fast match path leaves none).

Off unless a server process turns it on, so tests and management commands keep Python's
usual collector.
"""

import gc
from contextlib import contextmanager

_enabled = False


def freeze_imports() -> None:
    """Called by a server process once its application is imported: from now on, full
    collections walk only what was made after this point, and snapshots are frozen too."""
    global _enabled
    _enabled = True
    gc.collect()
    gc.freeze()


def enabled() -> bool:
    return _enabled


@contextmanager
def long_lived():
    """Freeze what is made inside the block (and still alive) when it ends without an
    error. Garbage cycles made before it are collected first, and the young ones made in
    it at the end (cheap: only the young generations), so they are not kept."""
    if not _enabled:
        yield
        return
    gc.collect()
    yield
    gc.collect(1)
    gc.freeze()
