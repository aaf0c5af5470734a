"""Periodic campaign upkeep run by Celery beat; each task is idempotent and bounded."""

from celery import shared_task

from campaigns import services


@shared_task(name="campaigns.tasks.complete_ended_campaigns", time_limit=60, soft_time_limit=50)
def complete_ended_campaigns() -> int:
    return services.complete_ended_campaigns()


@shared_task(name="campaigns.tasks.drain_journal", time_limit=110, soft_time_limit=100)
def drain_journal() -> int:
    """Matching's records from the Redis stream into PostgreSQL (campaigns.journal)."""
    from campaigns import budget, journal

    if not budget.enabled():
        return 0
    return journal.drain()


@shared_task(name="campaigns.tasks.top_up_grants", time_limit=60, soft_time_limit=50)
def top_up_grants() -> int:
    """Fresh grants for campaigns that spent half of theirs (campaigns.grants)."""
    from campaigns import budget, grants

    if not budget.enabled():
        return 0
    return grants.top_up()


@shared_task(name="campaigns.tasks.reap_grants", time_limit=110, soft_time_limit=100)
def reap_grants() -> int:
    """Close grants that can no longer be spent, giving back what they had left."""
    from campaigns import budget, grants

    if not budget.enabled():
        return 0
    return grants.reap()


@shared_task(name="campaigns.tasks.publish_delivery_history", time_limit=110, soft_time_limit=100)
def publish_delivery_history() -> int:
    """The campaigns' delivery history, read once for every server process's catalog."""
    from adnet.core import clock
    from campaigns import budget, catalog

    if not budget.enabled():
        return 0
    return catalog.publish_history(clock.now())
