"""What fulfillment does when a floor below announces something (connected in
FulfillmentConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from fulfillment.services.push import queue_status_pushes
from orders.models import Order, OrderStatus


def queue_pushes_of_status_changes(
    sender: Any,
    changes: list[tuple[Order, OrderStatus | None]],
    actor: User | None,
    source: str,
    **kwargs: Any,
) -> None:
    """orders.signals.status_changes_to_tell: the mapped statuses become outbox rows in the
    change's own transaction (the push to Allegro follows after commit)."""
    queue_status_pushes(changes, actor, source)
