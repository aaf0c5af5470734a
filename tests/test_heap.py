"""Server processes keep long-lived objects out of the garbage collector's full passes
(adnet.core.heap): what they import, and each campaign snapshot.

Frozen objects are still freed by reference counting, but never as cyclic garbage: a
snapshot must therefore hold no reference cycles, or every rebuild would leak the last one.
"""

import gc
import weakref

import pytest

from adnet.core import clock, heap
from campaigns import budget, catalog
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen_heap(monkeypatch):
    """Freezing on, as in a server process; the test process's heap is thawed after."""
    monkeypatch.setattr(heap, "_enabled", False)
    # The process's Redis client and pooled connection outlive every snapshot: made first,
    # as a server's first snapshot (the published history is read there) would make them.
    if budget.enabled():
        budget.read_history(clock.now())
    yield
    gc.unfreeze()


@pytest.fixture
def campaigns():
    for i in range(30):
        CampaignFactory(
            max_bid_amount=1000 + i,
            target_url_patterns=[
                f"https://api{i % 3}.example.com/*",
                "https://*.tools.example.org/v1/*",
            ],
        )


def test_a_dropped_snapshot_is_freed_by_reference_counting_alone(campaigns):
    gc.disable()  # no collection may run in between
    try:
        built = catalog.build(catalog.version(), clock.now())
        assert len(built.rows) == 30
        row = next(iter(built.rows.values()))
        parts = [built, built.index, row, row.advertiser]
        alive = [weakref.ref(part) for part in parts]
        del built, parts, row
        assert [ref() for ref in alive] == [None] * len(alive)
    finally:
        gc.enable()


def test_freezing_a_snapshot_keeps_no_garbage(campaigns, frozen_heap):
    heap.freeze_imports()  # nothing unfrozen is garbage now
    gc.disable()  # what the build leaves for the collector stays young until the freeze
    try:
        built = catalog.build(catalog.version(), clock.now())
        del built
    finally:
        gc.enable()
    gc.unfreeze()
    assert gc.collect() == 0  # nothing frozen by the build had become garbage


def test_a_server_process_freezes_what_it_imported(frozen_heap):
    assert not heap.enabled()
    heap.freeze_imports()
    assert heap.enabled()
    assert gc.get_freeze_count() > 10_000
    assert gc.get_count()[0] < 700  # the freeze ran after a full collection


def test_a_snapshot_built_in_a_server_process_is_frozen_and_freed_when_dropped(
    campaigns, frozen_heap
):
    heap.freeze_imports()
    before = gc.get_freeze_count()
    built = catalog.build(catalog.version(), clock.now())
    grown = gc.get_freeze_count() - before
    assert grown >= 30 * 3  # at least each campaign's row, state and card
    del built
    assert gc.get_freeze_count() <= before + grown // 10  # dropped, not kept frozen


def test_outside_a_server_process_nothing_is_frozen(campaigns, monkeypatch):
    monkeypatch.setattr(heap, "_enabled", False)
    before = gc.get_freeze_count()
    catalog.build(catalog.version(), clock.now())
    assert gc.get_freeze_count() == before


def test_a_failed_build_freezes_nothing(campaigns, frozen_heap, monkeypatch):
    heap.freeze_imports()
    before = gc.get_freeze_count()

    def broken(*args):
        raise RuntimeError("database went away")

    monkeypatch.setattr(catalog, "recent_history", broken)
    with pytest.raises(RuntimeError):
        catalog.build(catalog.version(), clock.now())
    assert gc.get_freeze_count() <= before


def test_the_celery_worker_and_its_pool_processes_freeze_their_imports(frozen_heap):
    from celery import signals

    from adnet import celery as celery_app

    def connected(signal) -> list:
        return [r() if isinstance(r, weakref.ReferenceType) else r for _, r in signal.receivers]

    assert celery_app._freeze_imports in connected(signals.worker_init)
    assert celery_app._freeze_imports in connected(signals.worker_process_init)
    celery_app._freeze_imports()
    assert heap.enabled() and gc.get_freeze_count() > 10_000
