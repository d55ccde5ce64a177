"""Helpers to read the tenant's statuses as stored and to build their administration URLs."""

from __future__ import annotations

from django.urls import reverse

from core.models import Tenant
from orders.models import OrderStatus
from tests.factories import in_scope

# The seeded statuses as (name, buyer name, colour, tab, position, active, locked).
SEEDED = [
    ("Niepotwierdzone", "Oczekuje na płatność", "#9ca3af", "other", 10, True, True),
    ("Nowe", "Przyjęte", "#2563eb", "new", 20, True, True),
    ("W realizacji", "W realizacji", "#d97706", "in_progress", 30, True, False),
    ("Do wysłania", "Przygotowane do wysyłki", "#7c3aed", "to_ship", 40, True, False),
    ("Wysłane", "Wysłane", "#16a34a", "completed", 50, True, False),
    ("Anulowane", "Anulowane", "#dc2626", "completed", 60, True, True),
    ("Zwrócone", "Zwrócone", "#6b7280", "completed", 70, True, False),
]


def status_rows(tenant: Tenant) -> list[tuple]:
    """Every status of the tenant as stored, in display order."""
    with in_scope(tenant):
        return list(
            OrderStatus.objects.order_by("position", "pk").values_list(
                "name", "buyer_name", "colour", "group", "position", "is_active", "locked"
            )
        )


def status_names(tenant: Tenant) -> list[str]:
    return [row[0] for row in status_rows(tenant)]


def positions(tenant: Tenant) -> list[int]:
    return [row[4] for row in status_rows(tenant)]


def status_named(tenant: Tenant, name: str) -> OrderStatus:
    with in_scope(tenant):
        return OrderStatus.objects.get(name=name)


def statuses_url(tenant: Tenant, name: str = "list", status: OrderStatus | None = None) -> str:
    args = [tenant.slug] if status is None else [tenant.slug, status.pk]
    return reverse(f"administration:statuses:{name}", args=args)
