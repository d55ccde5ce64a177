"""A real Celery worker makes a label while Allegro's command stays IN_PROGRESS, and is
SIGKILLed between the create command and the status read that finds the shipment: the worker
started again (with beat's sweeper) reads the command's status instead of sending it again, so
the sandbox holds exactly one shipment and the label is made."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from fulfillment.models import LabelJob, LabelState
from fulfillment.services.labels.jobs import create_label
from tests.celery_support import wait_until
from tests.fulfillment.helpers import SELLER
from tests.labels.helpers import proposal_for
from tests.support.orders import import_orders

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WORKER_ENV = {"LABELS_SWEEP_SECONDS": "1"}


def _job(pk: int) -> LabelJob:
    with scopes_disabled():
        return LabelJob.objects.get(pk=pk)


def test_killed_worker_never_makes_a_second_shipment(
    tenant, admin_user, channel, account, push_env, celery_processes
) -> None:
    sb = push_env.sandbox
    (order,) = import_orders(channel, sb, 1, delivery="courier", seed=21)
    proposal_for(order)
    sb.set_faults(seller=SELLER, stuck_commands=True)
    worker, beat = celery_processes(push_env.worker_env(**WORKER_ENV))
    with scope(tenant=tenant):
        job = create_label(order, account, parcels=None, actor=admin_user)

    def polling() -> bool:
        requests = sb.stats()["requests"]
        return requests.get("wza_create", 0) == 1 and requests.get("wza_create_status", 0) >= 2

    wait_until(polling, 60, "the worker sent the command and reads its status")
    worker.kill()
    beat.kill()
    assert _job(job.pk).state == LabelState.CREATING
    sb.set_faults(seller=SELLER, stuck_commands=None)
    celery_processes(push_env.worker_env(**WORKER_ENV))
    done = wait_until(
        lambda: _job(job.pk).state == LabelState.READY and _job(job.pk), 60, "the label is made"
    )
    assert len(done.waybills) == 1
    assert len(sb.wza_shipments_of(order.external_id)) == 1
    assert sb.stats()["requests"]["wza_create"] == 1
