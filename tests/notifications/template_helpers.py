"""Helpers of the messages tests: import a form on a channel, read the outbox and timeline."""

from __future__ import annotations

from typing import Any

from django_scopes import scope, scopes_disabled

from channels.models import SalesChannel
from notifications.models import OutgoingMail
from orders.ingest import upsert_orders_from_checkout_forms
from orders.models import Order, OrderEvent
from tests.support.orders import checkout_form

BUYER = "jan.kowalski@example.com"


def import_form(channel: SalesChannel, *, backfill: bool = False, **overrides: Any) -> Order:
    """Import one new paid checkout form (the buyer's address overridable) and return its order."""
    form = checkout_form(**overrides)
    if "buyer" not in overrides:
        form["buyer"]["email"] = BUYER
    with scope(tenant=channel.tenant):
        [result] = upsert_orders_from_checkout_forms(channel, [form], backfill=backfill).results
        assert result.ok, result.error
        return Order.objects.select_related("channel", "status").get(pk=result.order_id)


def mails(**filters: Any) -> list[OutgoingMail]:
    with scopes_disabled():
        return list(OutgoingMail.objects.filter(**filters).order_by("id"))


def timeline_kinds(order: Order) -> list[str]:
    with scopes_disabled():
        return list(
            OrderEvent.objects.filter(order_id=order.pk)
            .order_by("id")
            .values_list("kind", flat=True)
        )
