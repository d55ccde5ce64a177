"""Pushes never wait behind polls: journal polls go to the "sync" queue and status pushes to
"push" (settings.CELERY_TASK_ROUTES), each with workers of its own as deployed
(docker-compose.yml: `worker -Q celery,push,mail` and `worker-sync -Q sync`). Real Celery
workers against allegro_sandbox."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from apilo.celery import app
from fulfillment.models import FulfillmentPush, PushState
from orders.changes import change_order_status
from orders.models import SystemStatus
from sync.tasks import poll_channel
from tests.celery_support import CeleryProcess, wait_until
from tests.fulfillment.helpers import SELLER
from tests.support.orders import import_orders, status_of

pytestmark = pytest.mark.django_db(transaction=True)

BACKLOG = 300


def queued(queue: str) -> int:
    with app.connection_for_read() as connection:
        return connection.default_channel.queue_declare(
            queue=queue, durable=True, auto_delete=False
        ).message_count


def test_a_push_is_delivered_while_polls_are_queued_behind_each_other(
    tenant, admin_user, channel, push_env
):
    sandbox = push_env.sandbox
    [order] = import_orders(channel, sandbox, 1)
    app.control.purge()
    # Every poll takes a while (each answer of the sandbox 100 ms late): the sync worker's one
    # process is busy for half a minute with the backlog.
    sandbox.set_faults(seller=SELLER, latency_ms=100)
    for _ in range(BACKLOG):
        poll_channel.delay(tenant.pk, channel.pk)
    assert queued("sync") == BACKLOG  # the polls are on their own queue

    env = push_env.worker_env()
    workers = [
        CeleryProcess("worker", env, queues="sync", concurrency=1).start(),
        CeleryProcess("worker", env, queues="celery,push,mail").start(),
    ]
    try:
        for worker in workers:
            worker.wait_for_log("ready.", timeout=60)
        wait_until(lambda: queued("sync") < BACKLOG, 30, "the sync worker took a poll")

        with scope(tenant=tenant):
            change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)

        def delivered() -> bool:
            with scopes_disabled():
                return FulfillmentPush.objects.filter(
                    order_id=order.pk, state=PushState.SENT
                ).exists()

        wait_until(delivered, 30, "the push was sent", step=0.05)
        still_queued = queued("sync")
    finally:
        # A warm shutdown hands the polls a worker had reserved back to the queue, so the
        # purge leaves no message of this test for a later test's worker.
        for worker in workers:
            worker.stop()
        app.control.purge()

    # Delivered while most of the polls still waited for the sync worker.
    assert still_queued > BACKLOG // 2, still_queued
    assert sandbox.fulfillment_of(order.external_id)["status"] == "PROCESSING"
