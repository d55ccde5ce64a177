"""Celery tasks of the push outbox and of the carriers list. Thin: ids in, the tenant's scope
entered (core.tasks.TenantTask), services called."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from core.tasks import TenantTask
from fulfillment.services import carriers, push
from fulfillment.services.labels import batches as labels_batches
from fulfillment.services.labels import jobs as labels_jobs
from fulfillment.services.labels import pickups as labels_pickups
from fulfillment.services.labels import proposals as labels_proposals
from fulfillment.services.labels import protocols as labels_protocols
from orders.models import Order

logger = logging.getLogger("fulfillment.push")

# A retry sooner than this is scheduled by the task itself; later ones are left to the sweeper.
SELF_RETRY_MAX_SECONDS = 30.0


@shared_task(base=TenantTask, ignore_result=True)
def push_order(tenant_id: int, order_id: int) -> None:
    """Send the order's pending pushes to Allegro (in order; only the latest status), and those
    of other orders of the tenant whose own tasks are overdue in the queue."""
    push_orders(tenant_id, [order_id])


@shared_task(base=TenantTask, ignore_result=True)
def push_orders(tenant_id: int, order_ids: list[int]) -> None:
    """push_order for several orders of one tenant (a bulk change, a sweep): one task start-up
    and one scope for the batch; each order is still sent under its own lock. An order that
    fails unexpectedly does not hold up the rest (its rows stay pending for the sweeper); the
    first such error is raised at the end."""
    results = push.process_orders(
        tenant_id, order_ids, take_waiting=settings.FULFILLMENT_TAKE_WAITING
    )
    for order_id, result in results.items():
        if result.retry_in is not None and result.retry_in <= SELF_RETRY_MAX_SECONDS:
            push_order.apply_async((tenant_id, order_id), countdown=result.retry_in)
    errors = [result.error for result in results.values() if result.error is not None]
    if errors:
        raise errors[0]


@shared_task(ignore_result=True)
def sweep_pushes() -> int:
    """Beat: dispatch every order with a pending push that is due (lost messages, retries),
    in batches of FULFILLMENT_DISPATCH_BATCH orders of one tenant."""
    backlog = _broker_backlog()
    if backlog is not None and backlog > settings.FULFILLMENT_SWEEP_MAX_BACKLOG:
        # The workers are behind: the tasks of these rows are still queued. Re-dispatching them
        # now would only add duplicates to the queue (and lag); the next tick looks again.
        logger.warning("push sweep skipped: %s messages still queued", backlog)
        return 0
    due = push.sweep_due()
    size = max(1, settings.FULFILLMENT_DISPATCH_BATCH)
    by_tenant: dict[int, list[int]] = {}
    for tenant_id, order_id in due:
        by_tenant.setdefault(tenant_id, []).append(order_id)
    for tenant_id, order_ids in by_tenant.items():
        for start in range(0, len(order_ids), size):
            chunk = order_ids[start : start + size]
            if len(chunk) == 1:
                push_order.delay(tenant_id, chunk[0])
            else:
                push_orders.delay(tenant_id, chunk)
    return len(due)


@shared_task(base=TenantTask, ignore_result=True)
def refresh_carriers(tenant_id: int, channel_id: int) -> bool:
    """Fetch the channel's carriers from Allegro and store them (a channel connected, a page
    found no list, beat found it due)."""
    return carriers.refresh_carriers(channel_id)


@shared_task(ignore_result=True)
def refresh_due_carriers() -> int:
    """Beat: queue the refresh of every channel whose list of carriers is missing or due
    (FULFILLMENT_CARRIERS_SWEEP_BATCH a tick at most)."""
    limit = max(1, int(settings.FULFILLMENT_CARRIERS_SWEEP_BATCH))
    return len(carriers.refresh_due(limit=limit))


def _broker_backlog() -> int | None:
    """Messages waiting in the queue of the push tasks (settings.CELERY_TASK_ROUTES), or None
    when the broker cannot tell."""
    app = sweep_pushes.app
    route = (app.conf.task_routes or {}).get(push_order.name, {})
    queue = route.get("queue", app.conf.task_default_queue)
    try:
        with app.connection_for_read() as connection:
            # Not passive: an empty Redis queue has no key, and the workers declare it anyway.
            declared = connection.default_channel.queue_declare(
                queue=queue, durable=True, auto_delete=False
            )
            return int(declared.message_count)
    except Exception:  # any broker trouble: sweep as before
        return None


# --------------------------------------------------------------------------- labels (WzA)
@shared_task(base=TenantTask, ignore_result=True, acks_late=True)
def process_label(tenant_id: int, job_id: int) -> None:
    """Take a label one step further (create command, its status, waybills, file); look again
    after Allegro's Retry-After, or leave it to the sweeper when that is far off."""
    step = labels_jobs.advance(tenant_id, job_id)
    if step.retry_in is not None and step.retry_in <= SELF_RETRY_MAX_SECONDS:
        process_label.apply_async((tenant_id, job_id), countdown=step.retry_in)


@shared_task(base=TenantTask, ignore_result=True)
def refresh_delivery_proposal(tenant_id: int, order_id: int) -> None:
    """Allegro's delivery proposal of an order, kept for the label page."""
    order = Order.objects.select_related("channel").filter(pk=order_id).first()
    if order is not None:
        labels_proposals.refresh_proposal(order)


@shared_task(base=TenantTask, ignore_result=True)
def assemble_batch(tenant_id: int, batch_id: int) -> None:
    """One file for a batch's labels, once all of them have ended."""
    labels_batches.assemble(tenant_id, batch_id)


@shared_task(base=TenantTask, ignore_result=True)
def fetch_protocol(tenant_id: int, batch_id: int) -> None:
    """The handover protocol of a batch's shipments, from Allegro."""
    labels_batches.fetch_protocol(tenant_id, batch_id)


@shared_task(base=TenantTask, ignore_result=True, acks_late=True)
def propose_pickup(tenant_id: int, pickup_id: int) -> None:
    """Allegro's pickup windows for a courier pickup's shipments."""
    step = labels_pickups.propose(tenant_id, pickup_id)
    if step.retry_in is not None and step.retry_in <= SELF_RETRY_MAX_SECONDS:
        propose_pickup.apply_async((tenant_id, pickup_id), countdown=step.retry_in)


@shared_task(base=TenantTask, ignore_result=True, acks_late=True)
def process_pickup(tenant_id: int, pickup_id: int) -> None:
    """Order a courier pickup (its command, then its status after Allegro's Retry-After)."""
    step = labels_pickups.advance(tenant_id, pickup_id)
    if step.retry_in is not None and step.retry_in <= SELF_RETRY_MAX_SECONDS:
        process_pickup.apply_async((tenant_id, pickup_id), countdown=step.retry_in)


@shared_task(base=TenantTask, ignore_result=True)
def fetch_day_protocol(tenant_id: int, protocol_id: int) -> None:
    """The handover protocol of a day's labels, from Allegro."""
    labels_protocols.fetch(tenant_id, protocol_id)


@shared_task(ignore_result=True)
def sweep_labels() -> int:
    """Beat: dispatch every unfinished label, courier pickup and day's handover protocol that
    is due (lost messages, slow commands, Allegro's hiccups)."""
    due = labels_jobs.open_jobs_due()
    for tenant_id, job_id in due:
        process_label.delay(tenant_id, job_id)
    pickups_due = labels_pickups.open_pickups_due()
    for tenant_id, pickup_id, state in pickups_due:
        task = propose_pickup if state == "proposing" else process_pickup
        task.delay(tenant_id, pickup_id)
    protocols_due = labels_protocols.pending_due()
    for tenant_id, protocol_id in protocols_due:
        fetch_day_protocol.delay(tenant_id, protocol_id)
    return len(due) + len(pickups_due) + len(protocols_due)
