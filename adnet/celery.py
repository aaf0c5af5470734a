"""The Celery application: configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery, signals
from django.db import close_old_connections

from adnet.core import heap, requestid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adnet.settings")

app = Celery("adnet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.worker_process_init.connect
def _freeze_imports(**kwargs):
    """The worker, and each pool process it starts, keeps what it has imported out of full
    garbage collections, which otherwise walked it every few seconds (adnet.core.heap)."""
    heap.freeze_imports()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _keep_database_connection(task=None, **kwargs):
    """Around every task, the rule a web request follows: a connection older than
    CONN_MAX_AGE, or left broken by an error, is closed; one kept is health-checked before
    its first query. Celery's own rule (close before and after every task, unless
    settings.CELERY_DB_REUSE_MAX) made the worker connect to PostgreSQL for each task, a
    new server process whose catalog and foreign-key plans start cold. Tasks run inline
    (eager) are the caller's."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()


@signals.before_task_publish.connect
def _send_request_id(headers=None, **kwargs):
    """Tasks published while serving a request carry its id to the worker."""
    request_id = requestid.current.get()
    if request_id and headers is not None and "request_id" not in headers:
        headers["request_id"] = request_id


@signals.task_prerun.connect
def _restore_request_id(task=None, **kwargs):
    request_id = getattr(task.request, "request_id", None) if task is not None else None
    if request_id:  # tasks run inline (eager) keep the caller's id as they are
        task.request.request_id_token = requestid.current.set(request_id)


@signals.task_postrun.connect
def _forget_request_id(task=None, **kwargs):
    token = getattr(task.request, "request_id_token", None) if task is not None else None
    if token is not None:
        requestid.current.reset(token)
