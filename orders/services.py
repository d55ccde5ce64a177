"""Every write to orders and order statuses goes through a function here."""

from __future__ import annotations

from django.db import transaction
from django_scopes import scope

from core.models import Tenant
from orders.models import OrderStatus, StatusGroup, SystemStatus

# (system code, name, buyer-facing name, colour, group, locked). Names are the tenant's data,
# seeded in Polish like Apilo's; tenants rename them at will.
DEFAULT_STATUSES: list[tuple[str, str, str, str, str, bool]] = [
    (
        SystemStatus.UNCONFIRMED,
        "Niepotwierdzone",
        "Oczekuje na płatność",
        "#9ca3af",
        StatusGroup.OTHER,
        True,
    ),
    (SystemStatus.NEW, "Nowe", "Przyjęte", "#2563eb", StatusGroup.NEW, True),
    (
        SystemStatus.IN_PROGRESS,
        "W realizacji",
        "W realizacji",
        "#d97706",
        StatusGroup.IN_PROGRESS,
        False,
    ),
    (
        SystemStatus.READY_TO_SHIP,
        "Do wysłania",
        "Przygotowane do wysyłki",
        "#7c3aed",
        StatusGroup.TO_SHIP,
        False,
    ),
    (SystemStatus.SENT, "Wysłane", "Wysłane", "#16a34a", StatusGroup.COMPLETED, False),
    (SystemStatus.CANCELLED, "Anulowane", "Anulowane", "#dc2626", StatusGroup.COMPLETED, True),
    (SystemStatus.RETURNED, "Zwrócone", "Zwrócone", "#6b7280", StatusGroup.COMPLETED, False),
]


def seed_default_statuses(tenant: Tenant) -> list[OrderStatus]:
    """Create the built-in statuses of a new tenant (idempotent: existing codes are kept)."""
    with scope(tenant=tenant), transaction.atomic():
        existing = set(
            OrderStatus.objects.filter(tenant=tenant).values_list("system_code", flat=True)
        )
        created = []
        for position, (code, name, buyer_name, colour, group, locked) in enumerate(
            DEFAULT_STATUSES, start=1
        ):
            if code in existing:
                continue
            status = OrderStatus(
                tenant=tenant,
                name=name,
                buyer_name=buyer_name,
                colour=colour,
                group=group,
                position=position * 10,
                system_code=code,
                locked=locked,
            )
            status.save()
            created.append(status)
        return created
