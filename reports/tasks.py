"""Rollup work run by Celery beat: each task rebuilds whole days, so re-running is harmless."""

from celery import shared_task

from reports import services


# expires: a run still queued when the next one is due is dropped rather than run late.
@shared_task(name="reports.tasks.roll_up_today", time_limit=110, soft_time_limit=100, expires=55)
def roll_up_today() -> int:
    return services.roll_up_today().traffic_rows


@shared_task(name="reports.tasks.roll_up_recent", time_limit=600, soft_time_limit=580)
def roll_up_recent() -> int:
    return len(services.roll_up_recent())


@shared_task(name="reports.tasks.reconcile_rollups", time_limit=1800, soft_time_limit=1780)
def reconcile_rollups() -> int:
    return len(services.reconcile_rollups().remaining)
