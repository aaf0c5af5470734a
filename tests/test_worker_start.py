"""A server process builds its campaign snapshot before its first request
(adnet.wsgi.prepare_worker, catalog.prepare): a worker started or restarted under load
must not make its first matches wait for the build."""

import logging

import pytest
from django.db import OperationalError

from adnet import wsgi
from adnet.core import clock, heap
from campaigns import catalog
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_prepare_builds_the_snapshot_matching_then_uses(django_assert_num_queries):
    campaign = CampaignFactory(target_url_patterns=["https://api.example.com/*"])
    assert catalog._current is None
    assert catalog.prepare(clock.now()) is True
    with django_assert_num_queries(0):
        snap = catalog.snapshot(clock.now())
    assert list(snap.rows) == [str(campaign.id)]
    assert [c.id for c in snap.index.candidates("https://api.example.com/x")] == [str(campaign.id)]


def test_a_database_failure_at_start_is_logged_and_left_to_the_first_match(monkeypatch, caplog):
    def unreadable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(catalog, "build", unreadable)
    with caplog.at_level(logging.WARNING, logger="campaigns.catalog"):
        assert catalog.prepare(clock.now()) is False
    assert catalog._current is None
    assert "campaign snapshot not built at start" in caplog.text
    monkeypatch.undo()
    CampaignFactory()
    assert len(catalog.snapshot(clock.now()).rows) == 1  # built by the first match instead


def test_the_server_process_prepares_it_before_its_first_request(monkeypatch):
    monkeypatch.setattr(heap, "freeze_imports", lambda: None)  # not this test process's heap
    CampaignFactory()
    assert catalog._current is None
    wsgi.prepare_worker()
    assert catalog._current is not None and len(catalog._current.rows) == 1
