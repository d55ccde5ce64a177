"""The per-order sender lock, proven (fulfillment.services.push.sender.order_locks).

Two workers dispatch the pushes of one order at the same moment (a task from the change's
on-commit and one from the sweeper, say). With the lock, one of them sends — the shipment first,
then exactly one PUT for the latest status — and the other finds the order busy. Without it,
both read the same pending rows and both PUT: two of the order's 100 changes are spent and the
pushes can overtake each other. The sandbox answers slowly so the two really overlap.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django_scopes import scope, scopes_disabled

from fulfillment.models import PushState
from fulfillment.services.push import process_order
from fulfillment.services.push import sender as push_module
from fulfillment.services.shipments import add_shipment
from orders.changes import change_order_status
from orders.models import Order, SystemStatus
from tests.fulfillment.helpers import pushes_of
from tests.support.orders import import_orders, status_of

pytestmark = pytest.mark.django_db(transaction=True)


def _queue_changes(tenant, admin_user, order: Order) -> None:
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
        with scopes_disabled():
            order = Order.objects.select_related("channel", "status").get(pk=order.pk)
        # A shipment (POST, then the shipment status "Wysłane" → SENT), then one more change.
        add_shipment(
            order,
            carrier_id="DPD",
            carrier_name="",
            waybill="DPD777",
            line_ids=None,
            comment="",
            actor=admin_user,
            carriers=["DPD"],
        )
        change_order_status(order, status_of(tenant, SystemStatus.READY_TO_SHIP), admin_user)


def _two_workers_at_once(order: Order) -> list:
    barrier = threading.Barrier(2)
    results: list = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            with scope(tenant=order.tenant):
                results.append(process_order(order.tenant_id, order.pk))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.fixture
def slow_allegro(push_env):
    push_env.sandbox.set_faults(seller=push_env.seller, latency_ms=300)
    yield
    push_env.sandbox.clear_faults()


def test_two_workers_send_in_order_and_put_the_latest_status_once(
    tenant, admin_user, channel, push_env, slow_allegro
):
    [order] = import_orders(channel, push_env.sandbox, 1)
    _queue_changes(tenant, admin_user, order)

    results = _two_workers_at_once(order)

    assert sorted(r.busy for r in results) == [False, True]
    fulfillment = push_env.sandbox.fulfillment_of(order.external_id)
    assert [h["status"] for h in fulfillment["history"]] == ["READY_FOR_SHIPMENT"]
    assert fulfillment["changes"] == 1
    [shipment] = push_env.sandbox.shipments_of(order.external_id)
    # In order: the shipment reached Allegro before the status.
    assert shipment["createdAt"] <= fulfillment["history"][0]["at"]
    states = [(p.kind, p.target_status, p.state) for p in pushes_of(order)]
    assert states == [
        ("status", "PROCESSING", PushState.SUPERSEDED),
        ("shipment", "", PushState.SENT),
        ("status", "SENT", PushState.SUPERSEDED),
        ("status", "READY_FOR_SHIPMENT", PushState.SENT),
    ]


def test_without_the_lock_two_workers_put_twice(
    tenant, admin_user, channel, push_env, slow_allegro, monkeypatch
):
    monkeypatch.setattr(push_module, "_LOCK_ORDERS", False)
    [order] = import_orders(channel, push_env.sandbox, 1)
    _queue_changes(tenant, admin_user, order)

    results = _two_workers_at_once(order)

    assert [r.busy for r in results] == [False, False]
    fulfillment = push_env.sandbox.fulfillment_of(order.external_id)
    assert fulfillment["changes"] == 2  # the same status PUT by both workers
