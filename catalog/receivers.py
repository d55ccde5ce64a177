"""The hooks of the floors below that the catalogue answers (CatalogConfig.ready connects
them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.services import linking
from channels.models import SalesChannel
from orders.models import Order

# --- products and linking


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
