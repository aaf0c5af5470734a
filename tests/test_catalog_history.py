"""A snapshot's delivery history is read again every minute without building the snapshot
again (catalog.with_history): one query, whatever the number of campaigns. The whole
snapshot is still built again every MAX_AGE_SECONDS."""

import time

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from adnet.core import clock
from campaigns import catalog
from campaigns import services as campaign_services
from campaigns.matching import engine
from campaigns.models import CatalogVersion
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_campaigns():
    return [
        CampaignFactory(target_url_patterns=["https://api.example.com/*"]),
        CampaignFactory(target_url_patterns=["*example*"]),
    ]


def renewed_in_background(first: catalog.Catalog) -> catalog.Catalog:
    """The snapshot that replaces `first` once the background renewal has finished."""
    deadline = time.monotonic() + 10
    while catalog._current is first and time.monotonic() < deadline:
        time.sleep(0.01)
    assert catalog._background.acquire(timeout=10)  # the renewal thread has finished
    catalog._background.release()
    return catalog._current


def histories(monkeypatch, by_campaign: dict) -> None:
    monkeypatch.setattr(catalog, "recent_history", lambda now: dict(by_campaign))


def test_an_old_history_is_read_again_on_the_same_index(monkeypatch, two_campaigns):
    proven, other = two_campaigns
    first = catalog.current(clock.now())
    assert first.index.cards[str(proven.id)].stats == engine.NO_HISTORY
    first.rank(settlement(), clock.now(), _rng())  # fills the offers memo
    assert first.offers

    histories(monkeypatch, {proven.id: engine.History(placements=100, impressions=90)})
    monkeypatch.setattr(catalog, "HISTORY_AGE_SECONDS", 0.0)
    with CaptureQueriesContext(connection) as queries:
        renewed = catalog.current(clock.now())
    assert renewed is not first
    # The version row only: the campaigns were not read again (history is patched here).
    assert len(queries.captured_queries) == 1
    assert renewed.rows is first.rows and renewed.holds is first.holds
    assert renewed.index._by_host is first.index._by_host
    assert renewed.index.cards[str(proven.id)].stats == engine.History(
        placements=100, impressions=90
    )
    # A card whose history did not change is the same card.
    assert renewed.index.cards[str(other.id)] is first.index.cards[str(other.id)]
    assert renewed.offers == {}
    found = renewed.index.candidates("https://api.example.com/x")
    assert {c.id: c.stats.placements for c in found} == {str(proven.id): 100, str(other.id): 0}
    assert renewed.built_at == first.built_at and renewed.history_at > first.history_at


def test_the_ranking_follows_the_new_history(monkeypatch, two_campaigns):
    proven, other = two_campaigns
    now = clock.now()
    always = engine.History(placements=1000, impressions=1000, clicks=1000, conversions=1000)
    histories(monkeypatch, {other.id: always})
    snap = catalog.current(now)
    assert snap.rank(settlement(), now, _rng())[0].card.id == str(other.id)
    histories(monkeypatch, {proven.id: always})
    monkeypatch.setattr(catalog, "HISTORY_AGE_SECONDS", 0.0)
    snap = catalog.current(now)
    assert snap.rank(settlement(), now, _rng())[0].card.id == str(proven.id)


def test_a_snapshot_past_its_full_age_is_built_again(monkeypatch, two_campaigns):
    first = catalog.current(clock.now())
    monkeypatch.setattr(catalog, "MAX_AGE_SECONDS", 0.0)
    CampaignFactory()  # not through the services: no new version, only a rebuild sees it
    renewed = catalog.current(clock.now())
    assert renewed.rows is not first.rows and len(renewed.rows) == 3


@pytest.mark.django_db(transaction=True)
def test_the_background_renewal_reads_only_the_history(monkeypatch, two_campaigns):
    proven, _ = two_campaigns
    first = catalog.snapshot(clock.now())
    histories(monkeypatch, {proven.id: engine.History(placements=7)})
    monkeypatch.setattr(catalog, "HISTORY_AGE_SECONDS", 0.0)
    CampaignFactory()  # a full build would see it; a history renewal does not
    assert catalog.snapshot(clock.now()) is first  # answered at once with what it had
    renewed = renewed_in_background(first)
    assert renewed is not first and renewed.rows is first.rows
    assert renewed.index.cards[str(proven.id)].stats.placements == 7


@pytest.mark.django_db(transaction=True)
def test_the_minute_renewal_sees_a_version_redis_never_heard_of(monkeypatch, two_campaigns):
    """A change whose publication to Redis failed: the renewal reads the version row too."""
    CatalogVersion.objects.get_or_create(pk=1)  # an earlier test may have flushed it
    first = catalog.snapshot(clock.now())
    CampaignFactory()
    CatalogVersion.objects.filter(pk=1).update(version=F("version") + 1)  # nothing published
    monkeypatch.setattr(catalog, "HISTORY_AGE_SECONDS", 0.0)
    assert catalog.snapshot(clock.now()) is first
    renewed = renewed_in_background(first)
    assert renewed.version == first.version + 1 and len(renewed.rows) == 3


def test_a_bump_with_no_version_row_is_seen(two_campaigns):
    CatalogVersion.objects.all().delete()  # as a flushed table has it
    assert catalog.version() == 0
    campaign_services.bump_catalog()
    assert catalog.version() == 1


def test_new_cards_must_be_for_the_same_campaigns(two_campaigns):
    snap = catalog.current(clock.now())
    cards = dict(snap.index.cards)
    cards.popitem()
    with pytest.raises(ValueError, match="same campaigns"):
        snap.index.with_cards(cards)


def settlement() -> engine.Settlement:
    return engine.Settlement(
        resource_url="https://api.example.com/quote",
        resource_key="https://api.example.com/quote",
        description="",
        network="eip155:8453",
        payer="0x" + "ab" * 20,
        transport="http",
    )


def _rng():
    import random

    return random.Random(3)


@pytest.mark.redis
def test_processes_read_the_history_the_worker_published(monkeypatch, two_campaigns):
    """Published once (the worker's task), the history reaches a process's catalog without
    its own query; one older than HISTORY_SHARED_MAX_AGE_SECONDS, or none, is read here."""
    import datetime as dt

    from campaigns import budget, tasks

    proven, other = two_campaigns
    now = clock.now()
    published = engine.History(placements=40, impressions=30, clicks=2, conversions=1)
    histories(monkeypatch, {proven.id: published})
    assert tasks.publish_delivery_history() == 1

    def no_query(now):
        raise AssertionError("the process read the history itself")

    monkeypatch.setattr(catalog, "recent_history", no_query)
    assert catalog.delivery_history(now) == {str(proven.id): published}
    snapshot = catalog.build(catalog.version(), now)
    assert snapshot.index.cards[str(proven.id)].stats == published
    assert snapshot.index.cards[str(other.id)].stats == engine.NO_HISTORY

    own = engine.History(placements=5)
    histories(monkeypatch, {other.id: own})
    # + 60: publishing stamped its own clock read, a little after `now`
    too_old = now + dt.timedelta(seconds=budget.HISTORY_SHARED_MAX_AGE_SECONDS + 60)
    assert catalog.delivery_history(too_old) == {str(other.id): own}
    store = budget.store()
    store.redis.delete(store.key("history"))
    assert catalog.delivery_history(now) == {str(other.id): own}


def test_the_worker_publishes_the_history_every_minute(settings):
    from adnet.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["publish-delivery-history"]
    assert entry["task"] in app.tasks
    assert entry["schedule"] <= catalog.HISTORY_AGE_SECONDS
