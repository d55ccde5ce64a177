"""Celery tasks of the catalogue. Thin: ids in, the tenant's scope entered
(core.tasks.TenantTask), services called."""

from __future__ import annotations

from celery import shared_task

from catalog.services import offers, stock_push
from core.tasks import TenantTask


# --------------------------------------------------------------------------- offer import
def _follow(step: offers.Step, task: object, *args: int) -> None:
    if step.again:
        task.apply_async(args)  # type: ignore[attr-defined]
    elif step.retry_in is not None:
        task.apply_async(args, countdown=step.retry_in)  # type: ignore[attr-defined]


@shared_task(base=TenantTask, ignore_result=True)
def sweep_offers_page(tenant_id: int, channel_id: int, run: int) -> None:
    """One page of a sweep of the channel's offers; the next page is a task of its own, so a
    sweep of 50 000 offers is 50 short tasks that resume where a dead one stopped."""
    _follow(offers.sweep_page(channel_id, run), sweep_offers_page, tenant_id, channel_id, run)


@shared_task(base=TenantTask, ignore_result=True)
def poll_offer_events(tenant_id: int, channel_id: int) -> None:
    """Apply the channel's new offer events (or fall back to a sweep)."""
    _follow(offers.poll_offer_events(channel_id), poll_offer_events, tenant_id, channel_id)


@shared_task(ignore_result=True)
def poll_due_offer_events() -> int:
    """Beat: every connected channel's offer events, and sweeps whose task stopped."""
    due = offers.due_channels()
    for item in due:
        if item.sweep_run is None:
            poll_offer_events.delay(item.tenant_id, item.channel_id)
        else:
            sweep_offers_page.delay(item.tenant_id, item.channel_id, item.sweep_run)
    return len(due)


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
