"""Celery tasks of the API: webhook deliveries and their sweeper, the purge of idempotency
records. Thin: ids in, the service called."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from api import idempotency
from api.webhooks import sender
from api.webhooks.events import DELIVER_TASK
from core.tasks import TenantTask

# A retry sooner than this is scheduled by the task itself; later ones are left to the sweeper.
SELF_RETRY_MAX_SECONDS = 30.0


@shared_task(name=DELIVER_TASK, base=TenantTask, ignore_result=True)
def deliver_webhook(tenant_id: int, delivery_id: int) -> None:
    """Send one delivery of a tenant (its scope entered by TenantTask)."""
    outcome = sender.send(delivery_id)
    if outcome.retry_in is not None and outcome.retry_in <= SELF_RETRY_MAX_SECONDS:
        deliver_webhook.apply_async((tenant_id, delivery_id), countdown=outcome.retry_in)


@shared_task(name="api.sweep_webhooks", ignore_result=True)
def sweep_webhooks() -> int:
    """Beat: dispatch every delivery that is due (never dispatched, a lost message, a retry,
    a sender that died mid-send and whose lease ran out)."""
    due = sender.due_ids(settings.WEBHOOK_SWEEP_BATCH)
    for tenant_id, delivery_id in due:
        deliver_webhook.delay(tenant_id, delivery_id)
    return len(due)


@shared_task(ignore_result=True)
def purge_idempotency_records() -> int:
    """Beat: forget stored answers of idempotent POSTs past their retention (every tenant)."""
    return idempotency.purge_expired()
