"""adnet: the composition root (settings, urls, celery) plus the shared kernel in core/."""

from adnet.celery import app as celery_app

__all__ = ["celery_app"]
