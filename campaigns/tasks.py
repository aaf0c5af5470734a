"""Periodic campaign upkeep run by Celery beat; each task is idempotent and bounded."""

from celery import shared_task

from campaigns import services


@shared_task(name="campaigns.tasks.complete_ended_campaigns", time_limit=60, soft_time_limit=50)
def complete_ended_campaigns() -> int:
    return services.complete_ended_campaigns()
