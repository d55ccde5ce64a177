"""A worker SIGKILLed while the receiver holds its request: the delivery is sent again after
its lease, at most once more, with the same event id (docs/adr/0011-webhooks.md)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django_scopes import scopes_disabled

from api.models_webhooks import DeliveryState, WebhookAttempt, WebhookDelivery
from tests.api.helpers import imported_order
from tests.api.webhooks.helpers import subscribe, verify
from tests.celery_support import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_ENV = {
    "WEBHOOK_SEND_LEASE_SECONDS": "6",
    "WEBHOOK_SWEEP_SECONDS": "1",
    "WEBHOOK_RETRY_BASE_SECONDS": "0",
    "SYNC_POLL_TICK_SECONDS": "3600",
}


def row_of(pk: int) -> WebhookDelivery:
    with scopes_disabled():
        return WebhookDelivery.objects.get(pk=pk)


def test_worker_killed_mid_delivery_delivers_at_most_once_more_with_the_same_event_id(
    tenant, receiver_with, celery_processes
):
    receiver = receiver_with(hold_first=True)
    subscription, secret = subscribe(tenant, receiver.url, ["order.created"])
    worker, _beat = celery_processes(WORKER_ENV)
    imported_order(tenant, bought_at=dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC))
    with scopes_disabled():
        delivery = WebhookDelivery.objects.get(subscription=subscription)

    [first] = receiver.wait_for(1, timeout=60)  # the worker sent it; the answer is held
    # Within the lease the sweeper (every second) leaves the claimed row alone.
    time.sleep(3)
    assert len(receiver.requests) == 1
    assert row_of(delivery.pk).state == DeliveryState.SENDING
    worker.kill()
    receiver.release.set()
    worker.start()
    worker.wait_for_log("ready.", timeout=60)

    delivered = wait_until(
        lambda: (row := row_of(delivery.pk)).state == DeliveryState.DELIVERED and row,
        timeout=60,
        message="the delivery claimed by the dead worker is sent again after its lease",
    )
    requests = receiver.wait_for(2)
    assert [r.headers["X-Apilo-Delivery"] for r in requests] == [str(delivery.event_id)] * 2
    assert first.body == requests[1].body == delivery.body.encode()
    assert all(verify(secret, r.headers, r.body) for r in requests)
    assert (delivered.attempts, delivered.last_status_code) == (2, 200)
    with scopes_disabled():
        log = list(
            WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")
        )
    assert log == [(2, 200)]  # the killed attempt never recorded its outcome
    assert len(receiver.requests) == 2  # at most once more
