"""Read orders and their timelines as stored, for exact assertions."""

from __future__ import annotations

from core.models import Tenant
from orders.models import Order, OrderEvent, OrderLine
from tests.factories import in_scope


def order_by_external(tenant: Tenant, external_id: str) -> Order:
    with in_scope(tenant):
        return Order.objects.select_related("status", "merged_into").get(external_id=external_id)


def timeline(order: Order) -> list[tuple]:
    """(kind, describe(), actor e-mail or None), oldest first."""
    with in_scope(order.tenant):
        events = OrderEvent.objects.filter(order=order).select_related("actor")
        return [
            (e.kind, e.describe(), e.actor.email if e.actor else None)
            for e in events.order_by("created_at", "id")
        ]


def kinds(order: Order) -> list[str]:
    return [row[0] for row in timeline(order)]


def lines_of(order: Order) -> list[tuple]:
    with in_scope(order.tenant):
        return list(
            OrderLine.objects.filter(order=order)
            .order_by("position", "id")
            .values_list("external_id", "offer_id", "sku", "quantity", "price")
        )


def counts(tenant: Tenant) -> tuple[int, int, int]:
    with in_scope(tenant):
        return (
            Order.objects.count(),
            OrderLine.objects.count(),
            OrderEvent.objects.count(),
        )


def assert_status_counts_exact(tenant: Tenant) -> dict[str, int]:
    """The kept per-status counts equal a fresh COUNT; returns {status name: count}."""
    from django.db.models import Count

    from orders.models import OrderStatusCount

    with in_scope(tenant):
        actual = dict(Order.objects.order_by().values_list("status__name").annotate(n=Count("id")))
        kept = {
            row.status.name: row.count
            for row in OrderStatusCount.objects.select_related("status")
            if row.count
        }
    assert kept == actual
    return kept
