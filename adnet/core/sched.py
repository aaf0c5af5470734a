"""A scheduling hint for the web server's request threads (Linux 6.12 and later).

Linux's fair scheduler (EEVDF) lets a thread ask for a shorter time slice than the default
(1.4 ms on the 2-core machine the benchmarks run on). A thread with a shorter slice gets an
earlier deadline when it wakes, so it takes a core from a thread that is in the middle of a
long stretch of work instead of waiting for that stretch to end. A web process sleeps
between requests and wakes for each one, while the journal's drain (the Celery worker and
its PostgreSQL session) runs for 100-200 ms at a time: with a 100 µs slice, the match p99
at one connection came out 0.16-0.36 ms lower in the medians of two sets of paired rounds
(docs/benchmarks.md).

The slice is only a request: it changes when a thread runs, not how much CPU it may use,
and needs no privilege. Kernels without custom slices ignore it; other systems and
architectures are left as they are.
"""

import ctypes
import functools
import logging
import platform
import sys
import threading

logger = logging.getLogger(__name__)

# sched_setattr and sched_getattr, by machine (the generic table is aarch64's).
_SYSCALLS = {"x86_64": (314, 315), "aarch64": (274, 275)}
_ATTR_SIZE = 48  # SCHED_ATTR_SIZE_VER0: the fields below


class _SchedAttr(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("sched_policy", ctypes.c_uint32),
        ("sched_flags", ctypes.c_uint64),
        ("sched_nice", ctypes.c_int32),
        ("sched_priority", ctypes.c_uint32),
        ("sched_runtime", ctypes.c_uint64),  # for the fair class: the slice, in ns
        ("sched_deadline", ctypes.c_uint64),
        ("sched_period", ctypes.c_uint64),
    ]


@functools.cache
def _syscalls() -> tuple[ctypes.CDLL, int, int] | None:
    numbers = _SYSCALLS.get(platform.machine())
    if not sys.platform.startswith("linux") or numbers is None:
        return None
    return ctypes.CDLL(None, use_errno=True), *numbers


def _get(libc, getattr_nr: int, tid: int = 0) -> _SchedAttr | None:
    attr = _SchedAttr()
    if libc.syscall(getattr_nr, tid, ctypes.byref(attr), _ATTR_SIZE, 0) != 0:
        return None
    return attr


def slice_ns(tid: int = 0) -> int | None:
    """The time slice of thread `tid` (0: the calling thread) in nanoseconds, as the kernel
    reports it (its default where none was asked for), or None where it cannot be read."""
    calls = _syscalls()
    if calls is None:
        return None
    attr = _get(calls[0], calls[2], tid)
    return None if attr is None else attr.sched_runtime


def request_slice(microseconds: int) -> bool:
    """Ask for a time slice of `microseconds` for the calling thread (threads it starts
    later inherit it); 0 asks for the kernel's default again. Keeps the thread's policy and
    nice value. True when the kernel took the request."""
    calls = _syscalls()
    if calls is None:
        return False
    libc, setattr_nr, getattr_nr = calls
    attr = _get(libc, getattr_nr)
    if attr is None or attr.sched_policy not in (0, 3):  # SCHED_OTHER, SCHED_BATCH
        return False
    attr.size = _ATTR_SIZE
    attr.sched_flags = 0
    attr.sched_runtime = microseconds * 1000
    if libc.syscall(setattr_nr, 0, ctypes.byref(attr), 0) != 0:
        logger.info("time slice not set: errno %s", ctypes.get_errno())
        return False
    return True


def custom_slices() -> bool:
    """Whether this kernel keeps a slice asked for (Linux 6.12 and later): asked and read
    back in a throwaway thread, so the caller's own slice is left as it is."""
    seen = []

    def probe():
        seen.append(request_slice(123) and slice_ns() == 123_000)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return seen == [True]
