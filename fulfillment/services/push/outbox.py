"""Writing the outbox, inside the caller's transaction: a push row per change that must reach
Allegro, and its task dispatched when the transaction commits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.tasks import dispatch_after_commit
from fulfillment.models import FulfillmentPush, PushKind, PushState, Shipment
from fulfillment.services.mappings import default_for, mapped_targets
from orders.models import Order, OrderStatus


def dispatch(tenant_id: int, order_id: int) -> None:
    """Send the order's pending pushes after the current transaction commits."""
    dispatch_many(tenant_id, [order_id])


def dispatch_many(tenant_id: int, order_ids: list[int]) -> None:
    """Send the pending pushes of these orders (of one tenant) after the current transaction
    commits: one task per order, or for a batch (a bulk change, an import) one task per
    ``FULFILLMENT_DISPATCH_BATCH`` orders, so a bulk change of 500 orders is not 500 messages
    and 500 task start-ups while the orders still spread over the workers."""
    # Imported here: fulfillment.tasks imports this package.
    from fulfillment.tasks import push_order, push_orders

    if not settings.FULFILLMENT_DISPATCH_ON_COMMIT:
        return
    ids = list(dict.fromkeys(order_ids))  # once per order, in order
    size = max(1, settings.FULFILLMENT_DISPATCH_BATCH)
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        if len(chunk) == 1:
            dispatch_after_commit(push_order, tenant_id, chunk[0])
        else:
            dispatch_after_commit(push_orders, tenant_id, chunk)


def _first_sweep_at() -> Any:
    return timezone.now() + timedelta(seconds=settings.FULFILLMENT_REDISPATCH_AFTER_SECONDS)


def queue_status_pushes(
    changes: list[tuple[Order, OrderStatus | None]],
    actor: User | None,
    source: str,
) -> list[FulfillmentPush]:
    """The batch form (an import of 100 orders): mappings read once per channel, one INSERT."""
    targets: dict[int, dict[int, str]] = {}
    pushes = []
    for order, previous in changes:
        if order.channel_id not in targets:
            targets[order.channel_id] = mapped_targets(order.tenant_id, order.channel_id)
        target = targets[order.channel_id].get(order.status_id)
        if target is None:
            target = default_for(order.status)
        if not target:
            continue
        if previous is None and order.fulfillment_status == target:
            continue  # a new order that Allegro already has in that state: nothing to send
        pushes.append(
            FulfillmentPush(
                tenant_id=order.tenant_id,
                order=order,
                channel_id=order.channel_id,
                kind=PushKind.STATUS,
                target_status=target,
                next_attempt_at=_first_sweep_at(),
                actor=actor if getattr(actor, "pk", None) else None,
            )
        )
    if pushes:
        # bulk_create skips TenantOwnedModel.save(); every row is the order's own tenant.
        FulfillmentPush.objects.bulk_create(pushes)
        by_tenant: dict[int, list[int]] = {}
        for push in pushes:
            by_tenant.setdefault(push.tenant_id, []).append(push.order_id)
        for tenant_id, order_ids in by_tenant.items():
            dispatch_many(tenant_id, order_ids)
    return pushes


def queue_sent_push(order: Order, actor: User | None) -> FulfillmentPush:
    """SENT for an order whose label Wysyłam z Allegro made: Allegro attaches that waybill
    itself, so only the status goes out (no shipment push)."""
    push = FulfillmentPush.objects.create(
        tenant_id=order.tenant_id,
        order=order,
        channel_id=order.channel_id,
        kind=PushKind.STATUS,
        target_status="SENT",
        next_attempt_at=_first_sweep_at(),
        actor=actor if getattr(actor, "pk", None) else None,
    )
    dispatch(order.tenant_id, order.pk)
    return push


def queue_shipment_push(shipment: Shipment, actor: User | None) -> FulfillmentPush:
    push = FulfillmentPush.objects.create(
        tenant_id=shipment.tenant_id,
        order_id=shipment.order_id,
        channel_id=shipment.channel_id,
        kind=PushKind.SHIPMENT,
        shipment=shipment,
        next_attempt_at=_first_sweep_at(),
        actor=actor if getattr(actor, "pk", None) else None,
    )
    dispatch(shipment.tenant_id, shipment.order_id)
    return push


def retry_push(push: FulfillmentPush, actor: User | None) -> bool:
    """A person asks to send a failed (or waiting) push again now."""
    with transaction.atomic():
        locked = FulfillmentPush.objects.select_for_update().get(
            pk=push.pk, tenant_id=push.tenant_id
        )
        if locked.state not in (PushState.FAILED, PushState.PENDING):
            return False
        locked.state = PushState.PENDING
        locked.next_attempt_at = _first_sweep_at()
        locked.finished_at = None
        locked.save(update_fields=["state", "next_attempt_at", "finished_at"])
        dispatch(locked.tenant_id, locked.order_id)
    return True
