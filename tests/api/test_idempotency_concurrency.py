"""Two sendings of one POST with the same Idempotency-Key at the same moment: the change happens
once and both get its answer.

The first request is held inside its transaction (the test holds the order's row lock, which
the status change waits for) after it inserted its Idempotency-Key row; the second is then sent
and provably waits in PostgreSQL on that row's unique index. When the first commits, the second
replays its stored answer instead of running the change again (checked once by skipping the
lookup of stored answers: the second answered {"changed": false} without the replay header).
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django_scopes import scope

from orders.models import Order, OrderEvent, OrderEventKind
from tests.api.helpers import api, imported_order, key_of
from tests.support.orders import status_of

WAIT_LIMIT = 15  # seconds; a safety net so a broken lock cannot hang the suite


def _waiting_backends() -> int:
    with connection.cursor() as cursor:
        # The test asks from inside a transaction: without this, pg_stat_activity would keep
        # showing the snapshot of the first read.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()"
        )
        return cursor.fetchone()[0]


def _wait_for_waiting(count: int) -> bool:
    deadline = time.monotonic() + WAIT_LIMIT
    while _waiting_backends() < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return _waiting_backends() >= count


@pytest.mark.django_db(transaction=True)
def test_concurrent_sendings_change_once_and_answer_alike(tenant):
    order = imported_order(tenant, bought_at=dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC))
    secret = key_of(tenant)
    in_progress = status_of(tenant, "in_progress")
    url = reverse("api:order_status", args=[order.pk])
    answers: dict[str, object] = {}
    errors: list[BaseException] = []

    def send(name: str) -> None:
        try:
            response = api(secret).post(
                url,
                {"status": in_progress.pk},
                content_type="application/json",
                headers={"Idempotency-Key": "same"},
            )
            answers[name] = (
                response.status_code,
                response.json(),
                response.headers.get("Idempotent-Replayed"),
            )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    second = threading.Thread(target=send, args=("second",))
    with scope(tenant=tenant), transaction.atomic():
        Order.objects.select_for_update().get(pk=order.pk)
        first.start()
        first_waited = _wait_for_waiting(1)  # on the order row, its key row inserted
        second.start()
        second_waited = _wait_for_waiting(2)  # on the first one's key row
    first.join(WAIT_LIMIT)
    second.join(WAIT_LIMIT)

    assert errors == []
    assert first_waited and second_waited
    body = {"changed": True, "status": {"id": in_progress.pk, "name": in_progress.name}}
    assert answers == {"first": (200, body, None), "second": (200, body, "true")}
    with scope(tenant=tenant):
        changes = OrderEvent.objects.filter(order=order, kind=OrderEventKind.STATUS_CHANGED)
        assert changes.count() == 1
