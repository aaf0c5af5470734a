"""Periodic billing work run by Celery beat; each task is idempotent and bounded."""

import time

from celery import shared_task

from billing import services


@shared_task(name="billing.tasks.attribute_settlements", time_limit=60, soft_time_limit=50)
def attribute_settlements() -> int:
    """Batches until caught up (or 20 s, the next run goes on): a busy network sees more
    settlements per run than one batch holds."""
    from campaigns.models import MatchRequest

    deadline = time.monotonic() + 20
    converted = services.attribute_pending()
    while time.monotonic() < deadline and MatchRequest.objects.filter(attributed=False).exists():
        converted += services.attribute_pending()
    return converted


@shared_task(name="billing.tasks.release_expired_holds", time_limit=60, soft_time_limit=50)
def release_expired_holds() -> int:
    return services.release_expired_holds()


@shared_task(name="billing.tasks.reconcile", time_limit=300, soft_time_limit=280)
def reconcile() -> int:
    return len(services.reconcile().mismatches)
