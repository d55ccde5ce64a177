"""The hooks of the floors below that the catalogue answers (CatalogConfig.ready connects
them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.services import linking, stock
from catalog.services.offers import start_first_sweep
from channels.models import SalesChannel
from orders.models import AllegroStatus, Order, OrderStatus


# --------------------------------------------------------------------------- offers
def import_offers_when_connected(sender: Any, channel: SalesChannel, **kwargs: Any) -> None:
    """channels.signals.channel_connected: the first authorization imports the offers."""
    start_first_sweep(channel)


# --------------------------------------------------------------------------- products and linking
def link_imported_order_lines(
    sender: Any,
    channel: SalesChannel,
    orders: Sequence[tuple[Order, bool]],
    backfill: bool,
    **kwargs: Any,
) -> None:
    """orders.signals.orders_imported: the lines of new and changed orders get their offer
    and product, in the import's transaction."""
    linking.link_order_lines(channel.tenant_id, [order.pk for order, _is_new in orders])


# --------------------------------------------------------------------------- stock
def take_sold_stock(
    sender: Any,
    channel: SalesChannel,
    orders: Sequence[tuple[Order, bool]],
    backfill: bool = False,
    **kwargs: Any,
) -> None:
    """orders.signals.orders_imported: paid orders (READY_FOR_PROCESSING) take their goods off
    the products' stock, once per order and product, in the import's transaction. A backfill
    (past orders imported on request) moves no stock: the seller's stock already knew them."""
    if backfill:
        return
    paid = [
        order
        for order, _new in orders
        if order.allegro_status == AllegroStatus.READY_FOR_PROCESSING
    ]
    stock.orders_sold(paid)


def give_back_cancelled_stock(
    sender: Any, changes: Sequence[tuple[Order, OrderStatus | None]], **kwargs: Any
) -> None:
    """orders.signals.statuses_entered: an order cancelled (by Allegro or by the seller) before
    it was shipped gives back what it took, once."""
    stock.orders_cancelled(changes)


def resume_stock_push(sender: Any, channel: SalesChannel, **kwargs: Any) -> None:
    """channels.signals.channel_connected: an account authorized again (perhaps with the scope
    to send stock now) sends its waiting quantities at once."""
    stock.resume_channel(channel)
