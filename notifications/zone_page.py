"""What the customer zone page shows of an order: the buyer's facts only, never staff data
(no internal status name, notes, timeline, staff or other orders)."""

from __future__ import annotations

from typing import Any

from notifications.tracking import shipments_of, url_for
from orders.models import Order, OrderLine


def zone_context(order: Order, language: str) -> dict[str, Any]:
    lines = list(
        OrderLine.objects.filter(tenant_id=order.tenant_id, order=order).order_by("position", "id")
    )
    pickup = bool(order.pickup_point_id or order.pickup_point_name)
    return {
        "language": language,
        "number": order.number,
        "bought_at": order.bought_at,
        "status": order.status.shown_to_buyer,
        "lines": lines,
        "currency": order.currency,
        "total": order.total_to_pay,
        "delivery_cost": order.delivery_cost,
        "delivery_method": order.delivery_method_name,
        "address": order.delivery_address if not pickup else {},
        "pickup_name": order.pickup_point_name if pickup else "",
        "pickup_address": order.pickup_point_address if pickup else {},
        "shipments": [(s.carrier_label, s.waybill, url_for(s)) for s in shipments_of(order)],
        "seller": order.channel.name,
    }
