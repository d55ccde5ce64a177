"""Celery workers keep their database connection between tasks (CELERY_DB_REUSE_MAX) and still
replace one that broke (apilo/celery.py runs Django's close_old_connections around each task).

A real worker runs push tasks of a tenant that has nothing to send: each makes one query."""

from __future__ import annotations

import pytest
from django.db import connection

from fulfillment.tasks import push_order
from tests.celery_support import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def sessions_opened() -> int:
    """Connections ever opened to the test database (PostgreSQL's statistics)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def others_connected() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def run_tasks(worker, count: int) -> None:
    done = worker.output().count("succeeded in")
    for _ in range(count):
        push_order.delay(999_999, 1)
    wait_until(
        lambda: worker.output().count("succeeded in") >= done + count,
        30,
        worker.output()[-3000:],
    )


def test_a_worker_reuses_its_connection_and_replaces_a_broken_one(celery_worker_process):
    worker = celery_worker_process
    run_tasks(worker, 4)  # both pool processes have connected
    before = sessions_opened()

    run_tasks(worker, 40)

    # PostgreSQL flushes its session counts within a second or so.
    wait_until(lambda: sessions_opened() >= before, 5)
    assert sessions_opened() - before == 0

    # PostgreSQL restarted, a network blip: the worker's connections are gone.
    with connection.cursor() as cursor:
        for pid in others_connected():
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    run_tasks(worker, 6)

    assert "raised unexpected" not in worker.output()
