"""Celery tasks of the push outbox. Thin: ids in, scope entered, services called."""

from __future__ import annotations

from celery import shared_task
from django_scopes import scope

from core.models import Tenant
from fulfillment.services import push

# A retry sooner than this is scheduled by the task itself; later ones are left to the sweeper.
SELF_RETRY_MAX_SECONDS = 30.0


@shared_task(ignore_result=True)
def push_order(tenant_id: int, order_id: int) -> None:
    """Send the order's pending pushes to Allegro (in order; only the latest status)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    with scope(tenant=tenant):
        result = push.process_order(tenant_id, order_id)
    if result.retry_in is not None and result.retry_in <= SELF_RETRY_MAX_SECONDS:
        push_order.apply_async((tenant_id, order_id), countdown=result.retry_in)


@shared_task(ignore_result=True)
def sweep_pushes() -> int:
    """Beat: dispatch every order with a pending push that is due (lost messages, retries)."""
    due = push.sweep_due()
    for tenant_id, order_id in due:
        push_order.delay(tenant_id, order_id)
    return len(due)
