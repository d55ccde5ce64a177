"""The Celery app. The beat schedule holds only real jobs."""

import os

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apilo.settings")

app = Celery("apilo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def _heartbeat_at_start(sender: object, **kwargs: object) -> None:
    # The first interval tick comes one period after start; /healthz should not wait for it.
    app.send_task("core.tasks.beat_heartbeat")
