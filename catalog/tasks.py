"""Celery tasks of the catalogue. Thin: ids in, the tenant's scope entered
(core.tasks.TenantTask), services called."""

from __future__ import annotations

from celery import shared_task

from catalog.services import stock_push
from core.tasks import TenantTask

# --------------------------------------------------------------------------- stock push
# A look sooner than this is scheduled by the task itself; later ones are left to the sweeper.
SELF_RETRY_MAX_SECONDS = 30.0


@shared_task(base=TenantTask, ignore_result=True)
def push_offer_stock(tenant_id: int, offer_id: int) -> None:
    """Send the offer's waiting quantity to Allegro and follow its command to the end."""
    result = stock_push.process_offer(tenant_id, offer_id)
    if result.retry_in is not None and result.retry_in <= SELF_RETRY_MAX_SECONDS:
        push_offer_stock.apply_async((tenant_id, offer_id), countdown=result.retry_in)


@shared_task(ignore_result=True)
def sweep_stock_pushes() -> int:
    """Beat: dispatch a sender for every offer with a due row (lost messages, dead workers,
    retries, commands to read)."""
    return stock_push.sweep()
