"""Batched sending: one push_orders task for many orders, and the sweeper's back-pressure.

The tasks run in the test process here (their bodies, called directly); the Celery queue they
write to is the test Redis, read back with the broker's own client."""

from __future__ import annotations

import pytest
from django_scopes import scope

from apilo.celery import app
from fulfillment.models import PushState
from fulfillment.tasks import push_order, push_orders, sweep_pushes
from orders.models import SystemStatus
from orders.order_services import bulk_change_status
from tests.fulfillment.conftest import import_orders, pushes_of, status

pytestmark = pytest.mark.django_db(transaction=True)


def queued() -> int:
    with app.connection_for_read() as connection:
        return connection.default_channel.queue_declare(
            queue=app.conf.task_default_queue, durable=True, auto_delete=False
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
            tenant, [o.pk for o in orders], status(tenant, SystemStatus.READY_TO_SHIP), admin_user
        )

    push_orders(tenant.pk, [o.pk for o in orders])

    for order in orders:
        assert push_env.sandbox.fulfillment_of(order.external_id)["status"] == (
            "READY_FOR_SHIPMENT"
        )
        [push] = pushes_of(order)
        assert (push.state, push.requests) == (PushState.SENT, 1)


def test_the_sweeper_batches_due_orders_of_a_tenant(
    tenant, admin_user, channel, push_env, settings, empty_queue
):
    settings.FULFILLMENT_REDISPATCH_AFTER_SECONDS = 0
    settings.FULFILLMENT_DISPATCH_ON_COMMIT = 0  # only the sweeper dispatches
    settings.FULFILLMENT_DISPATCH_BATCH = 2
    orders = import_orders(channel, push_env.sandbox, 3)
    with scope(tenant=tenant):
        bulk_change_status(
            tenant, [o.pk for o in orders], status(tenant, SystemStatus.IN_PROGRESS), admin_user
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
        bulk_change_status(tenant, [order.pk], status(tenant, SystemStatus.IN_PROGRESS), admin_user)
    for _ in range(3):  # a backlog no worker has taken yet
        push_order.delay(tenant.pk, order.pk)

    assert sweep_pushes() == 0
    assert queued() == 3
    [push] = pushes_of(order)
    assert push.state == PushState.PENDING  # delayed, not lost

    app.control.purge()  # the workers caught up (or the broker lost the messages)
    assert sweep_pushes() == 1
    assert queued() == 1
