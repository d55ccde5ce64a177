"""Events into the delivery outbox: one ``WebhookDelivery`` row per (active subscription that
chose the event, event), written in the transaction of the change, its task dispatched after
commit. Every event has one id (a UUID) shared by its deliveries, and one JSON body
(``id``, ``type``, ``created_at``, ``data``: the order and shipment in the REST API's shapes).

Called by api.receivers from the hooks of orders and fulfillment; the bodies' orders are read
once per batch (a fixed number of queries whatever the number of orders)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models_webhooks import TEST_EVENT, EventType, WebhookDelivery, WebhookSubscription
from api.serializers import OrderDetailSerializer, ShipmentSerializer, StatusRefSerializer
from api.webhooks.errors import WebhookError
from catalog.models import Product, ProductStockChange
from core.tasks import dispatch_after_commit
from fulfillment.models import Shipment
from orders.models import AllegroStatus, Order, OrderEvent, OrderStatus, SystemStatus

DELIVER_TASK = "api.deliver_webhook"


@dataclass(frozen=True)
class Event:
    type: str
    data: dict[str, Any]
    # Set for what happens once (an order created, a shipment added): never written twice.
    dedupe_key: str | None = None


def body_of(event_id: uuid.UUID, event_type: str, created_at: str, data: dict[str, Any]) -> str:
    payload = {"id": str(event_id), "type": event_type, "created_at": created_at, "data": data}
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def subscribers(tenant_id: int, event_types: Iterable[str]) -> dict[str, list[WebhookSubscription]]:
    """The tenant's active subscriptions for each of the event types (one query)."""
    wanted = set(event_types)
    found: dict[str, list[WebhookSubscription]] = {t: [] for t in wanted}
    for subscription in WebhookSubscription.objects.filter(tenant_id=tenant_id, is_active=True):
        for event_type in wanted.intersection(subscription.events):
            found[event_type].append(subscription)
    return found


def write(tenant_id: int, events: Sequence[Event], to: dict[str, list[WebhookSubscription]]) -> int:
    """The deliveries of ``events`` to their subscribers, in the caller's transaction; each
    sent by a task once it commits. Returns the number of rows written."""
    now = timezone.now()
    created_at = now.isoformat().replace("+00:00", "Z")
    rows: list[WebhookDelivery] = []
    for event in events:
        event_id = uuid.uuid4()
        body = body_of(event_id, event.type, created_at, event.data)
        rows += [
            WebhookDelivery(
                tenant_id=tenant_id,
                subscription=subscription,
                event_id=event_id,
                event_type=event.type,
                dedupe_key=event.dedupe_key,
                body=body,
                next_attempt_at=now,
            )
            for subscription in to.get(event.type, [])
        ]
    if not rows:
        return 0
    # A repeated event (same dedupe key for the subscription) is skipped by the unique index.
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    written = WebhookDelivery.objects.filter(
        tenant_id=tenant_id, event_id__in={row.event_id for row in rows}
    ).values_list("pk", flat=True)
    ids = list(written)
    for delivery_id in ids:
        dispatch_after_commit(DELIVER_TASK, tenant_id, delivery_id)
    return len(ids)


def orders_data(order_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Each order as the API's order detail (four queries for the lot)."""
    orders = Order.objects.filter(pk__in=set(order_ids)).select_related("status", "channel")
    orders = orders.prefetch_related(
        "lines",
        "shipments",
        Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
    )
    return {order.pk: dict(OrderDetailSerializer(order).data) for order in orders}


# --------------------------------------------------------------------------- the hooks' events
def orders_imported(tenant_id: int, orders: Sequence[tuple[Order, bool]]) -> int:
    """order.created for each new order of an import batch."""
    new = [order for order, is_new in orders if is_new]
    if not new:
        return 0
    to = subscribers(tenant_id, [EventType.ORDER_CREATED])
    if not to[EventType.ORDER_CREATED]:
        return 0
    data = orders_data(order.pk for order in new)
    events = [
        Event(EventType.ORDER_CREATED, {"order": data[o.pk]}, f"order.created:{o.pk}") for o in new
    ]
    return write(tenant_id, events, to)


def _cancelled_by_allegro(order: Order, source: str) -> bool:
    return (
        source == "allegro"
        and order.status.system_code == SystemStatus.CANCELLED
        and order.allegro_status == AllegroStatus.CANCELLED
    )


def statuses_entered(
    tenant_id: int, changes: Sequence[tuple[Order, OrderStatus | None]], source: str
) -> int:
    """order.status_changed for every status change of a known order (an imported order's
    first status is its order.created), and order.cancelled when Allegro cancelled it (the
    buyer or Allegro; a merge closing an old purchase is not a cancellation)."""
    moved = [(order, previous) for order, previous in changes if previous is not None]
    if not moved:
        return 0
    types = [EventType.ORDER_STATUS_CHANGED, EventType.ORDER_CANCELLED]
    to = subscribers(tenant_id, types)
    if not any(to.values()):
        return 0
    data = orders_data(order.pk for order, _previous in moved)
    events: list[Event] = []
    for order, previous in moved:
        change = {
            "order": data[order.pk],
            "previous_status": dict(StatusRefSerializer(previous).data),
            "source": str(source),
        }
        events.append(Event(EventType.ORDER_STATUS_CHANGED, change))
        if _cancelled_by_allegro(order, source):
            key = f"order.cancelled:{order.pk}"
            events.append(Event(EventType.ORDER_CANCELLED, {"order": data[order.pk]}, key))
    return write(tenant_id, events, to)


def shipment_added(shipment: Shipment) -> int:
    to = subscribers(shipment.tenant_id, [EventType.SHIPMENT_CREATED])
    if not to[EventType.SHIPMENT_CREATED]:
        return 0
    data = {
        "shipment": dict(ShipmentSerializer(shipment).data),
        "order": orders_data([shipment.order_id])[shipment.order_id],
    }
    event = Event(EventType.SHIPMENT_CREATED, data, f"shipment.created:{shipment.pk}")
    return write(shipment.tenant_id, [event], to)


def label_generated(
    tenant_id: int, job_id: int, order: Order, shipment: Shipment | None, waybills: list[str]
) -> int:
    to = subscribers(tenant_id, [EventType.LABEL_CREATED])
    if not to[EventType.LABEL_CREATED]:
        return 0
    data = {
        "label": {"id": job_id, "waybills": list(waybills)},
        "shipment": dict(ShipmentSerializer(shipment).data) if shipment is not None else None,
        "order": orders_data([order.pk])[order.pk],
    }
    event = Event(EventType.LABEL_CREATED, data, f"label.created:{job_id}")
    return write(tenant_id, [event], to)


def stock_changed(product: Product, change: ProductStockChange) -> int:
    to = subscribers(product.tenant_id, [EventType.STOCK_CHANGED])
    if not to[EventType.STOCK_CHANGED]:
        return 0
    data = {
        "product": {
            "id": product.pk,
            "name": product.name,
            "sku": product.sku,
            "ean": product.ean,
            "stock": product.stock,
        },
        "change": {
            "id": change.pk,
            "reason": change.reason,
            "delta": change.delta,
            "stock_after": change.stock_after,
            "order_id": change.order_id,
            "created_at": change.created_at,
        },
    }
    event = Event(EventType.STOCK_CHANGED, data, f"stock.changed:{change.pk}")
    return write(product.tenant_id, [event], to)


def send_test(subscription: WebhookSubscription) -> WebhookDelivery:
    """A test event to one subscription (the "send test" button); refused while it is off."""
    if not subscription.is_active:
        raise WebhookError(
            _("Turn the webhook on to send it a test."), code="webhook_disabled", field=None
        )
    event = Event(TEST_EVENT, {"subscription": {"id": subscription.pk, "url": subscription.url}})
    write(subscription.tenant_id, [event], {TEST_EVENT: [subscription]})
    return WebhookDelivery.objects.filter(subscription=subscription).latest("created_at", "id")
