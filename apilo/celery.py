"""The Celery app. The beat schedule holds only real jobs."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apilo.settings")

app = Celery("apilo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
