"""The match journal's records and the match script's reply are read by name, and a
version this code does not know is refused rather than guessed at."""

import json

import pytest
import redis

from campaigns import budget, deployment, journal

RECORD = journal.RequestRecord(
    uid="0" * 32,
    facilitator="1" * 32,
    at=1_796_000_000_000_000,
    url="https://api.example.com/v1/quote",
    description="",
    network="eip155:8453",
    payer="0x" + "a" * 40,
    amount="10000",
    transport="http",
    tx="",
    deployment="2" * 32,
)


def test_a_record_is_read_back_by_name():
    decoded = json.loads(RECORD.encode())
    assert decoded["v"] == journal.RECORD_VERSION
    assert journal.RequestRecord(**journal._typed(journal.RequestRecord, decoded)) == RECORD


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"v": journal.RECORD_VERSION + 1}, "unknown_version"),
        ({"v": None}, "unknown_version"),
        ({"at": "1796000000000000"}, "undecodable"),  # a field of the wrong type
        ({"payer": None}, "undecodable"),
    ],
)
def test_a_record_of_another_version_or_shape_is_refused(change, reason):
    decoded = {**json.loads(RECORD.encode()), **change}
    with pytest.raises(journal.Refused) as refused:
        journal._typed(journal.RequestRecord, decoded)
    assert refused.value.reason == reason


def test_records_written_before_versions_are_read_during_an_upgrade(monkeypatch):
    monkeypatch.setattr(deployment, "_current", RECORD.deployment)
    positional = [RECORD.uid, RECORD.facilitator, RECORD.at, RECORD.url, RECORD.description]
    positional += [RECORD.network, RECORD.payer, RECORD.amount, RECORD.transport, RECORD.tx]
    assert journal.RequestRecord(**journal._typed(journal.RequestRecord, positional)) == RECORD
    terms = ["conversion", "cpa", 1800, 1800, 1, "https://x.example/", "k" * 32]
    decoded = journal.PlacementTerms(**journal._typed(journal.PlacementTerms, terms))
    assert (decoded.event, decoded.waits, decoded.key) == ("conversion", True, "k" * 32)
    with pytest.raises(journal.Refused):
        journal._typed(journal.RequestRecord, positional[:-1])


def test_the_match_scripts_reply_is_read_by_name():
    reply = budget.MatchReply.decode([1, budget.WANTS_GRANTS, -1, b"7", b"e1", b"", b"+c1", b"c2"])
    assert reply.status == budget.WANTS_GRANTS
    assert reply.winner == -1
    assert reply.catalog_version == "7"
    assert reply.epoch == "e1"
    assert reply.wanted == ("+c1", "c2")
    placed = budget.MatchReply.decode([1, budget.PLACED, 2, b"7", b"e1", b"c3"])
    assert (placed.winner, placed.low, placed.wanted) == (2, "c3", ())


def test_a_reply_of_another_version_is_refused():
    # A Redis error: matching falls back to PostgreSQL rather than misreading it.
    with pytest.raises(redis.exceptions.ResponseError):
        budget.MatchReply.decode([2, budget.PLACED, 0, b"7", b"e1", b""])
