"""The Celery app. The beat schedule holds only real jobs."""

import os

from celery import Celery, Task
from celery.signals import beat_init, task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apilo.settings")

app = Celery("apilo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def _heartbeat_at_start(sender: object, **kwargs: object) -> None:
    # The first interval tick comes one period after start; /healthz should not wait for it.
    app.send_task("core.tasks.beat_heartbeat")


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task: Task | None = None, **kwargs: object) -> None:
    """What Django does around every request, around every task: close a connection that is
    broken or older than CONN_MAX_AGE (with CONN_HEALTH_CHECKS). Celery itself would close the
    connection around every task, but CELERY_DB_REUSE_MAX (settings) turns that off: a new
    PostgreSQL connection costs more than most tasks. Not for a task run eagerly, inside its
    caller (and perhaps inside the caller's transaction)."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
