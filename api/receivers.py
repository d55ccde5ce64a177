"""The hooks of the floors below that the webhooks answer (ApiConfig.ready connects them), all
in the sender's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.webhooks import events
from catalog.models import Product, ProductStockChange
from channels.models import SalesChannel
from fulfillment.models import LabelJob, Shipment
from orders.models import Order, OrderStatus


def orders_imported(
    sender: Any, channel: SalesChannel, orders: Sequence[tuple[Order, bool]], **kwargs: Any
) -> None:
    """orders.signals.orders_imported: order.created for the batch's new orders."""
    events.orders_imported(channel.tenant_id, orders)


def statuses_entered(
    sender: Any,
    changes: Sequence[tuple[Order, OrderStatus | None]],
    source: str,
    **kwargs: Any,
) -> None:
    """orders.signals.statuses_entered: order.status_changed, and order.cancelled."""
    if changes:
        events.statuses_entered(changes[0][0].tenant_id, changes, source)


def shipment_added(sender: Any, shipment: Shipment, **kwargs: Any) -> None:
    """fulfillment.signals.shipment_added: shipment.created."""
    events.shipment_added(shipment)


def label_generated(
    sender: Any,
    job: LabelJob,
    order: Order,
    shipment: Shipment | None,
    waybills: list[str],
    **kwargs: Any,
) -> None:
    """fulfillment.signals.label_generated: label.created."""
    events.label_generated(order.tenant_id, job.pk, order, shipment, waybills)


def stock_changed(sender: Any, product: Product, change: ProductStockChange, **kwargs: Any) -> None:
    """catalog.signals.stock_changed: stock.changed."""
    events.stock_changed(product, change)
