"""Tests read what matching recorded after the match journal has been written, as the
worker does every second in production (campaigns.journal)."""

from campaigns import budget, grants, journal


def written() -> None:
    """Write whatever the match journal holds to PostgreSQL now."""
    if budget.enabled():
        journal.drain()


def lent(campaign) -> int:
    """Millis of the campaign's budget lent to Redis and not yet placed (part of held)."""
    return grants.outstanding_by_campaign().get(campaign.pk, 0)
