"""The Celery app as the tests run it: apilo's own, with tests/http_guard.py watching every
request to Allegro in each worker process (`celery -A tests.guarded_celery worker`)."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_init, worker_process_init

from apilo.celery import app
from tests.http_guard import install, record_to_file

__all__ = ["app"]


@worker_init.connect
@worker_process_init.connect
def _guard(**kwargs: Any) -> None:
    # Django is set up by now (Celery's Django fix-up); forked pool processes inherit the guard.
    install(record_to_file)
