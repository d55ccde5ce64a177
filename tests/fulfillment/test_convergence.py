"""Real Celery worker and beat processes against allegro_sandbox: pushes converge under faults,
and survive a lost broker message.

Convergence: 500 orders, random status changes (single and bulk) and shipments by staff while
the sandbox answers 5 % 5xx, lets 2 % of requests hang past our read timeout, blocks the client
id with 429s, buyers modify orders (new revisions → 409s), and the worker is SIGKILLed and
restarted. Then the sandbox's fulfillment status of every order is the mapping of the last
mapped status it entered (its current status when that is mapped; untouched — NEW — if it never
entered a mapped one), every shipment is in the sandbox exactly once, and nothing is pending.

A worker killed between a status PUT that reached Allegro and the writing of its outcome: a later
push back to the status we last confirmed is still sent (the field and our last confirmed push
no longer tell what Allegro has).
"""

from __future__ import annotations

import random

import pytest
from django_scopes import scope, scopes_disabled

from apilo.celery import app
from fulfillment.models import FulfillmentPush, PushState
from fulfillment.services import mappings
from fulfillment.services.shipments import add_shipment
from orders.changes import bulk_change_status, change_order_status
from orders.models import Order, OrderStatus, SystemStatus
from tests.celery_support import wait_until
from tests.fulfillment.helpers import CLIENT_ID, pushes_of
from tests.support.orders import import_orders, status_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ORDERS = 500
OPERATIONS = 1200
WORKER_ENV = {
    "FULFILLMENT_SWEEP_SECONDS": "1",
    "FULFILLMENT_REDISPATCH_AFTER_SECONDS": "3",
    "FULFILLMENT_RETRY_BASE_SECONDS": "0.5",
    "FULFILLMENT_RETRY_MAX_SECONDS": "3",
    "ALLEGRO_READ_TIMEOUT": "1.5",
    # Allegro's one-minute 429 block is compressed to 2 s in the sandbox; we pause a bit longer.
    "ALLEGRO_RATE_LIMIT_BLOCK_SECONDS": "3",
}


def _state_counts() -> dict[str, int]:
    with scopes_disabled():
        rows = FulfillmentPush.objects.values_list("state", flat=True)
        counts: dict[str, int] = {}
        for state in rows:
            counts[state] = counts.get(state, 0) + 1
    return counts


def _pending() -> int:
    with scopes_disabled():
        return FulfillmentPush.objects.filter(state=PushState.PENDING).count()


def test_pushes_converge_under_faults_and_a_killed_worker(
    tenant, admin_user, channel, push_env, celery_processes
):
    rng = random.Random(20261127)
    sandbox = push_env.sandbox
    orders = import_orders(channel, sandbox, ORDERS)
    with scope(tenant=tenant):
        statuses = list(OrderStatus.objects.filter(tenant=tenant, is_active=True))
        target = mappings.mapping_of(channel, statuses)
    expected = {o.pk: "NEW" for o in orders}
    waybills: dict[int, list[tuple[str, str]]] = {o.pk: [] for o in orders}
    sent_status = status_of(tenant, SystemStatus.SENT)

    sandbox.set_rate_limit(client_id=CLIENT_ID, block_seconds=2)
    worker, _beat = celery_processes(push_env.worker_env(**WORKER_ENV))
    sandbox.set_faults(client_id=CLIENT_ID, error_5xx=0.05, timeout=0.02, hang_seconds=3, seed=11)

    with scope(tenant=tenant):
        for step in range(OPERATIONS):
            order = rng.choice(orders)
            roll = rng.random()
            if roll < 0.12 and len(waybills[order.pk]) < 2:
                carrier = rng.choice(["DPD", "INPOST", "GLS"])
                waybill = f"W{order.pk}X{len(waybills[order.pk])}"
                with scopes_disabled():
                    current = Order.objects.select_related("channel", "status").get(pk=order.pk)
                add_shipment(
                    current,
                    carrier_id=carrier,
                    carrier_name="",
                    waybill=waybill,
                    line_ids=None,
                    comment="",
                    actor=admin_user,
                    carriers=["DPD", "INPOST", "GLS"],
                )
                waybills[order.pk].append((carrier, waybill))
                expected[order.pk] = target[sent_status.pk]
            elif roll < 0.15:
                group = rng.sample(orders, 20)
                new = rng.choice(statuses)
                bulk_change_status(tenant, [o.pk for o in group], new, admin_user)
                if target[new.pk]:
                    for o in group:
                        expected[o.pk] = target[new.pk]
            else:
                new = rng.choice(statuses)
                change_order_status(order, new, admin_user)
                if target[new.pk]:
                    expected[order.pk] = target[new.pk]
            if step == 300:
                for modified in rng.sample(orders, 40):  # buyers change their orders
                    sandbox.advance_order(modified.external_id, "MODIFY")
            if step == 500:
                sandbox.set_faults(client_id=CLIENT_ID, block_429_seconds=2)
            if step == 700:
                worker.kill()
            if step == 800:
                worker.start()

    sandbox.set_faults(client_id=CLIENT_ID, error_5xx=0.05, seed=12)
    wait_until(lambda: _pending() == 0, 120, f"pushes still pending: {_state_counts()}", step=1)
    sandbox.clear_faults()

    counts = _state_counts()
    assert counts.get(PushState.PENDING, 0) == 0
    assert counts.get(PushState.FAILED, 0) == 0, counts
    summaries = {s["id"]: s for s in sandbox.seller_orders(push_env.seller)}
    wrong = {
        o.external_id: (summaries[o.external_id]["fulfillment"], expected[o.pk])
        for o in orders
        if summaries[o.external_id]["fulfillment"] != expected[o.pk]
    }
    assert wrong == {}
    for order in orders:
        remote = sorted(
            (s["carrierId"], s["waybill"]) for s in sandbox.shipments_of(order.external_id)
        )
        assert remote == sorted(waybills[order.pk]), order.external_id


def test_a_lost_broker_message_is_delivered_by_the_sweeper(
    tenant, admin_user, channel, push_env, celery_processes
):
    [order] = import_orders(channel, push_env.sandbox, 1)
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    # The task is in the broker; the broker loses it.
    assert app.control.purge() >= 1
    with scopes_disabled():
        assert FulfillmentPush.objects.get(order_id=order.pk).state == PushState.PENDING

    celery_processes(push_env.worker_env(**WORKER_ENV))  # purges again, then worker + beat

    wait_until(
        lambda: push_env.sandbox.fulfillment_of(order.external_id)["status"] == "PROCESSING",
        30,
        "the sweeper did not deliver the push",
    )
    wait_until(lambda: _pending() == 0, 10, "push still pending")
    assert push_env.sandbox.fulfillment_of(order.external_id)["changes"] == 1
    with scopes_disabled():
        assert FulfillmentPush.objects.get(order_id=order.pk).state == PushState.SENT


def test_a_status_put_by_a_killed_worker_is_not_taken_for_unsent(
    tenant, admin_user, channel, push_env, celery_processes
):
    sandbox = push_env.sandbox
    first, hanging = sorted(import_orders(channel, sandbox, 2), key=lambda o: o.pk)
    sent, in_progress = (
        status_of(tenant, SystemStatus.SENT),
        status_of(tenant, SystemStatus.IN_PROGRESS),
    )
    # The hanging PUT outlasts the test; the worker is killed while it waits.
    worker, _beat = celery_processes(
        push_env.worker_env(**{**WORKER_ENV, "ALLEGRO_READ_TIMEOUT": "600"})
    )
    with scope(tenant=tenant):
        bulk_change_status(tenant, [first.pk, hanging.pk], sent, admin_user)
    wait_until(lambda: _pending() == 0, 60, f"pushes still pending: {_state_counts()}")
    assert sandbox.fulfillment_of(first.external_id)["status"] == "SENT"

    # One task sends both orders (a bulk change's batch): the first order's PUT reaches Allegro,
    # the second's hangs, and the worker dies before the batch's outcomes are written.
    sandbox.set_faults(
        seller=push_env.seller,
        timeout=1.0,
        hang_seconds=600,
        path_prefix=f"/order/checkout-forms/{hanging.external_id}/fulfillment",
    )
    with scope(tenant=tenant):
        bulk_change_status(tenant, [first.pk, hanging.pk], in_progress, admin_user)
    wait_until(
        lambda: sandbox.fulfillment_of(first.external_id)["status"] == "PROCESSING",
        60,
        "the first order's PUT did not reach Allegro",
    )
    worker.kill()
    assert [p.state for p in pushes_of(first)] == [PushState.SENT, PushState.PENDING]
    with scopes_disabled():
        assert Order.objects.get(pk=first.pk).fulfillment_status == "SENT"

    # Staff move the order back to "sent" before the worker is back.
    with scope(tenant=tenant):
        change_order_status(first, sent, admin_user)
    sandbox.clear_faults(seller=push_env.seller)
    worker.start()
    wait_until(lambda: _pending() == 0, 60, f"pushes still pending: {_state_counts()}", step=0.5)

    assert sandbox.fulfillment_of(first.external_id)["status"] == "SENT"
    assert sandbox.fulfillment_of(hanging.external_id)["status"] == "PROCESSING"
    assert [(p.target_status, p.state) for p in pushes_of(first)] == [
        ("SENT", PushState.SENT),
        ("PROCESSING", PushState.SUPERSEDED),
        ("SENT", PushState.SENT),
    ]
