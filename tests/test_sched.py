"""The time slice a web process's request thread asks for (adnet.core.sched)."""

import os
import threading

import pytest

from adnet.core import sched

pytestmark = pytest.mark.skipif(
    not sched.custom_slices(), reason="custom time slices came with Linux 6.12"
)


def in_a_thread(work):
    """What `work` returns when run in a new thread (the test's own thread is left as is)."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(value=work()))
    thread.start()
    thread.join()
    return result["value"]


def kernel_default() -> int:
    """The slice of a thread that asked for none (whatever the test process inherited)."""
    return in_a_thread(lambda: (sched.request_slice(0), sched.slice_ns())[1])


def test_a_thread_gets_the_slice_it_asks_for_and_its_new_threads_inherit_it():
    default = kernel_default()

    def ask():
        took = sched.request_slice(100)
        return took, sched.slice_ns(), in_a_thread(sched.slice_ns)

    took, own, inherited = in_a_thread(ask)
    assert took is True
    assert default != 100_000
    assert own == 100_000
    assert inherited == 100_000


def test_asking_for_zero_gives_back_the_kernels_default():
    default = kernel_default()

    def ask_then_reset():
        sched.request_slice(300)
        during = sched.slice_ns()
        sched.request_slice(0)
        return during, sched.slice_ns()

    assert in_a_thread(ask_then_reset) == (300_000, default)


def test_the_slice_keeps_the_threads_nice_value_and_policy():
    def ask():
        # This thread only: a nice value and a policy other than the defaults, to be kept.
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        sched.request_slice(100)
        return (
            os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
            os.sched_getscheduler(0),
        )

    assert in_a_thread(ask) == (5, os.SCHED_BATCH)


@pytest.mark.django_db(transaction=True)
def test_the_catalogs_background_rebuild_does_not_keep_a_request_threads_slice(monkeypatch):
    from adnet.core import clock
    from campaigns import catalog
    from tests.factories import CampaignFactory

    CampaignFactory()
    first = catalog.snapshot(clock.now())
    seen = []
    renewed = catalog._renewed
    monkeypatch.setattr(
        catalog, "_renewed", lambda *a: (seen.append(sched.slice_ns()), renewed(*a))[1]
    )
    monkeypatch.setattr(catalog, "MAX_AGE_SECONDS", 0.0)
    default = kernel_default()
    assert default != 100_000

    def serve():  # a request thread with the web server's slice starts the rebuild
        sched.request_slice(100)
        return catalog.snapshot(clock.now())

    assert in_a_thread(serve) is first
    assert catalog._background.acquire(timeout=10)  # the rebuild thread has finished
    catalog._background.release()
    assert seen == [default]
    assert catalog._current is not first


def test_finding_out_whether_slices_are_kept_leaves_the_callers_slice_alone():
    def probe_then_read():
        before = sched.slice_ns()
        return sched.custom_slices(), before, sched.slice_ns()

    supported, before, after = in_a_thread(probe_then_read)
    assert supported is True
    assert after == before != 123_000
