"""Celery tasks for settlement events: a few lines each, loading by id and calling a service."""

import logging
import uuid

from celery import shared_task

from events import services

logger = logging.getLogger(__name__)


@shared_task(
    name="events.tasks.process_events", acks_late=True, time_limit=120, soft_time_limit=100
)
def process_events(event_ids: list[str]) -> int:
    applied = sum(services.process_event(event_id=uuid.UUID(i)) for i in event_ids)
    logger.info("settlement events processed", extra={"events": len(event_ids), "applied": applied})
    return applied


@shared_task(name="events.tasks.sweep_inbox", time_limit=60, soft_time_limit=50)
def sweep_inbox() -> int:
    return services.sweep_inbox()
