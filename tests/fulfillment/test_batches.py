"""Batched sending: one task for many orders (a bulk change, or orders whose own tasks are
overdue), its statements, and the sweeper's back-pressure.

The tasks run in the test process here (their bodies, called directly); the Celery queue they
write to is the test Redis, read back with the broker's own client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from apilo.celery import app
from fulfillment.models import FulfillmentPush, PushState
from fulfillment.services.shipments import add_shipment
from fulfillment.tasks import push_order, push_orders, sweep_pushes
from orders.changes import bulk_change_status, change_order_status
from orders.models import SystemStatus
from tests.fulfillment.helpers import pushes_of
from tests.fulfillment.test_push import fresh, push_events
from tests.support.orders import import_orders, status_of

pytestmark = pytest.mark.django_db(transaction=True)


def queued() -> int:
    with app.connection_for_read() as connection:
        return connection.default_channel.queue_declare(
            queue="push", durable=True, auto_delete=False
        ).message_count


@pytest.fixture
def empty_queue():
    app.control.purge()
    yield
    app.control.purge()


def test_one_task_sends_the_pushes_of_several_orders(tenant, admin_user, channel, push_env):
    orders = import_orders(channel, push_env.sandbox, 3)
    with scope(tenant=tenant):
        bulk_change_status(
            tenant,
            [o.pk for o in orders],
            status_of(tenant, SystemStatus.READY_TO_SHIP),
            admin_user,
        )

    push_orders(tenant.pk, [o.pk for o in orders])

    for order in orders:
        assert push_env.sandbox.fulfillment_of(order.external_id)["status"] == (
            "READY_FOR_SHIPMENT"
        )
        [push] = pushes_of(order)
        assert (push.state, push.requests, push.attempts) == (PushState.SENT, 1, 1)
        # Written with the batch: the order knows, its stored form too (no echo), and the
        # timeline says so once.
        stored = fresh(order)
        assert stored.fulfillment_status == "READY_FOR_SHIPMENT"
        assert stored.raw_form["fulfillment"]["status"] == "READY_FOR_SHIPMENT"
        assert [(e["push"], e["outcome"]) for e in push_events(order)] == [(push.pk, "sent")]


def test_the_statements_of_a_batch_do_not_grow_with_its_orders(
    tenant, admin_user, channel, push_env
):
    orders = import_orders(channel, push_env.sandbox, 10)
    with scope(tenant=tenant):
        bulk_change_status(
            tenant, [o.pk for o in orders], status_of(tenant, SystemStatus.IN_PROGRESS), admin_user
        )

    def statements(batch) -> int:
        with CaptureQueriesContext(connection) as queries:
            push_orders(tenant.pk, [o.pk for o in batch])
        return len(queries)

    two, eight = statements(orders[:2]), statements(orders[2:])

    assert two == eight
    assert all(
        push_env.sandbox.fulfillment_of(o.external_id)["status"] == "PROCESSING" for o in orders
    )


def test_a_batch_mixes_lone_statuses_shipments_and_refusals(tenant, admin_user, channel, push_env):
    plain, refused, shipped = import_orders(channel, push_env.sandbox, 3)
    push_env.sandbox.set_faults(
        seller=push_env.seller,
        error_5xx=1.0,
        error_status=422,
        path_prefix=f"/order/checkout-forms/{refused.external_id}/fulfillment",
    )
    with scope(tenant=tenant):
        bulk_change_status(
            tenant,
            [plain.pk, refused.pk, shipped.pk],
            status_of(tenant, SystemStatus.IN_PROGRESS),
            admin_user,
        )
        add_shipment(
            fresh(shipped),
            carrier_id="DPD",
            carrier_name="",
            waybill="DPD4242",
            line_ids=None,
            comment="",
            actor=admin_user,
            carriers=["DPD"],
        )

    push_orders(tenant.pk, [plain.pk, refused.pk, shipped.pk])

    assert [p.state for p in pushes_of(plain)] == [PushState.SENT]
    assert [(p.state, p.error_code) for p in pushes_of(refused)] == [(PushState.FAILED, "refused")]
    # The shipment's status ("Wysłane" → SENT) superseded PROCESSING; the shipment went first.
    assert [(p.kind, p.target_status, p.state) for p in pushes_of(shipped)] == [
        ("status", "PROCESSING", PushState.SUPERSEDED),
        ("shipment", "", PushState.SENT),
        ("status", "SENT", PushState.SENT),
    ]
    assert push_env.sandbox.fulfillment_of(plain.external_id)["status"] == "PROCESSING"
    assert push_env.sandbox.fulfillment_of(refused.external_id)["status"] == "NEW"
    assert push_env.sandbox.fulfillment_of(shipped.external_id)["status"] == "SENT"
    assert [s["waybill"] for s in push_env.sandbox.shipments_of(shipped.external_id)] == ["DPD4242"]
    assert [e["outcome"] for e in push_events(refused)] == ["failed"]
    assert [e["outcome"] for e in push_events(shipped)] == ["superseded", "sent", "sent"]


def test_a_task_takes_along_orders_whose_own_tasks_are_overdue(
    tenant, admin_user, channel, push_env, settings
):
    settings.FULFILLMENT_DISPATCH_ON_COMMIT = 0  # their tasks are "still queued"
    settings.FULFILLMENT_TAKE_WAITING_AFTER_SECONDS = 0
    first, second, third = import_orders(channel, push_env.sandbox, 3)
    with scope(tenant=tenant):
        for order in (first, second, third):
            change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)

    push_order(tenant.pk, first.pk)

    for order in (first, second, third):
        assert push_env.sandbox.fulfillment_of(order.external_id)["status"] == "PROCESSING"
        assert [(p.state, p.requests) for p in pushes_of(order)] == [(PushState.SENT, 1)]
    # Their own tasks come later and find nothing to do.
    push_order(tenant.pk, second.pk)
    assert push_env.sandbox.fulfillment_of(second.external_id)["changes"] == 1


def test_taking_along_works_where_a_union_cannot_be_limited(
    tenant, admin_user, channel, push_env, settings, monkeypatch
):
    # SQLite (the embedded development setup) asks in two statements instead of one.
    monkeypatch.setattr(connection.features, "supports_slicing_ordering_in_compound", False)
    settings.FULFILLMENT_DISPATCH_ON_COMMIT = 0
    settings.FULFILLMENT_TAKE_WAITING_AFTER_SECONDS = 0
    first, second = import_orders(channel, push_env.sandbox, 2)
    with scope(tenant=tenant):
        for order in (first, second):
            change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)

    push_order(tenant.pk, second.pk)

    for order in (first, second):
        assert [(p.state, p.requests) for p in pushes_of(order)] == [(PushState.SENT, 1)]


def test_fresh_retried_and_other_tenants_pushes_are_not_taken_along(
    tenant, admin_user, channel, push_env, settings, other_tenant
):
    settings.FULFILLMENT_DISPATCH_ON_COMMIT = 0
    settings.FULFILLMENT_TAKE_WAITING_AFTER_SECONDS = 60
    own, fresh_one, retried = import_orders(channel, push_env.sandbox, 3)
    with scope(tenant=tenant):
        for order in (own, fresh_one, retried):
            change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    with scopes_disabled():
        # Written long ago, but tried once already: it waits for its backoff.
        FulfillmentPush.objects.filter(order_id=retried.pk).update(
            created_at=timezone.now() - timedelta(minutes=5), attempts=1, error_code="transient"
        )

    push_order(tenant.pk, own.pk)
    push_order(other_tenant.pk, own.pk)  # another tenant's task never sends this tenant's orders

    assert push_env.sandbox.fulfillment_of(own.external_id)["status"] == "PROCESSING"
    assert [p.state for p in pushes_of(fresh_one)] == [PushState.PENDING]
    assert [p.state for p in pushes_of(retried)] == [PushState.PENDING]
    assert push_env.sandbox.fulfillment_of(fresh_one.external_id)["status"] == "NEW"


def test_the_sweeper_batches_due_orders_of_a_tenant(
    tenant, admin_user, channel, push_env, settings, empty_queue
):
    settings.FULFILLMENT_REDISPATCH_AFTER_SECONDS = 0
    settings.FULFILLMENT_DISPATCH_ON_COMMIT = 0  # only the sweeper dispatches
    settings.FULFILLMENT_DISPATCH_BATCH = 2
    orders = import_orders(channel, push_env.sandbox, 3)
    with scope(tenant=tenant):
        bulk_change_status(
            tenant, [o.pk for o in orders], status_of(tenant, SystemStatus.IN_PROGRESS), admin_user
        )
    assert queued() == 0

    assert sweep_pushes() == 3
    assert queued() == 2  # one task for two orders, one for the third


def test_the_sweeper_waits_while_the_workers_are_behind(
    tenant, admin_user, channel, push_env, settings, empty_queue
):
    settings.FULFILLMENT_REDISPATCH_AFTER_SECONDS = 0
    settings.FULFILLMENT_DISPATCH_ON_COMMIT = 0
    settings.FULFILLMENT_SWEEP_MAX_BACKLOG = 2
    [order] = import_orders(channel, push_env.sandbox, 1)
    with scope(tenant=tenant):
        bulk_change_status(
            tenant, [order.pk], status_of(tenant, SystemStatus.IN_PROGRESS), admin_user
        )
    for _ in range(3):  # a backlog no worker has taken yet
        push_order.delay(tenant.pk, order.pk)

    assert sweep_pushes() == 0
    assert queued() == 3
    [push] = pushes_of(order)
    assert push.state == PushState.PENDING  # delayed, not lost

    app.control.purge()  # the workers caught up (or the broker lost the messages)
    assert sweep_pushes() == 1
    assert queued() == 1
