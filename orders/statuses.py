"""The tenant's own order statuses: seeding, administration and their order. Every write to
them goes through a function here (orders themselves change in orders.changes and orders.ingest)."""

from __future__ import annotations

from enum import StrEnum

from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django_scopes import scope

from core.errors import UserError
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


# --- The tenant's statuses: Administracja → Statusy zamówień ----------------------------------
#
# Every function below runs inside the tenant's scope (the request's or the task's) and takes the
# tenant's statuses with SELECT … FOR UPDATE ordered by pk before it reads what it is about to
# change, so concurrent edits serialise: names stay unique regardless of letter case, and
# positions stay unique and contiguous.


class StatusError(UserError):
    """A change to a status that the rules refuse."""


class StatusLocked(StatusError):
    """The status is a built-in the order import needs: it cannot be deleted or deactivated."""


class StatusNameTaken(StatusError):
    """Another status of the tenant already has this name (letter case does not matter)."""


class StatusInUse(StatusError):
    """Orders (or other rows) still point at the status, so deleting it would orphan them."""


class MoveDirection(StrEnum):
    UP = "up"
    DOWN = "down"


def _lock_statuses(tenant: Tenant) -> list[OrderStatus]:
    """Lock every status of the tenant (in pk order, so lockers never deadlock) and return them
    in display order."""
    locked = list(OrderStatus.objects.select_for_update().filter(tenant=tenant).order_by("pk"))
    return sorted(locked, key=lambda status: (status.position, status.pk))


def _ensure_name_free(statuses: list[OrderStatus], name: str, own_pk: int | None) -> None:
    wanted = name.casefold()
    for other in statuses:
        if other.pk != own_pk and other.name.casefold() == wanted:
            raise StatusNameTaken(
                _("A status with this name already exists."), code="status_name_taken", field="name"
            )


def _ensure_deletable(status: OrderStatus) -> None:
    """The rules that refuse deleting a status, checked under the lock; any further rule goes
    here and the views show its StatusError. Rows that point at the status with
    on_delete=PROTECT (orders) are refused by delete_status itself, see below."""
    if status.locked:
        raise StatusLocked(
            _(
                "“%(name)s” is a built-in status the order import needs: you can rename and "
                "recolour it, but not delete it."
            )
            % {"name": status.name},
            code="status_locked",
        )


def create_status(
    tenant: Tenant,
    *,
    name: str,
    colour: str,
    group: str,
    buyer_name: str = "",
    is_active: bool = True,
) -> OrderStatus:
    """Add a custom status at the end of the tenant's list."""
    with transaction.atomic():
        statuses = _lock_statuses(tenant)
        name = name.strip()
        _ensure_name_free(statuses, name, own_pk=None)
        status = OrderStatus(
            tenant=tenant,
            name=name,
            buyer_name=buyer_name.strip(),
            colour=colour.lower(),
            group=group,
            is_active=is_active,
            position=max((s.position for s in statuses), default=0) + 1,
        )
        status.full_clean()
        status.save()
        return status


def update_status(
    status: OrderStatus, *, name: str, colour: str, group: str, buyer_name: str = ""
) -> OrderStatus:
    """Rename, recolour or regroup a status; built-ins (locked ones too) can be edited."""
    with transaction.atomic():
        statuses = _lock_statuses(status.tenant)
        current = _find(statuses, status.pk)
        name = name.strip()
        _ensure_name_free(statuses, name, own_pk=current.pk)
        current.name = name
        current.buyer_name = buyer_name.strip()
        current.colour = colour.lower()
        current.group = group
        current.full_clean()
        current.save(update_fields=["name", "buyer_name", "colour", "group"])
        return current


def delete_status(status: OrderStatus) -> None:
    """Delete a status unless a rule needs it (_ensure_deletable) or orders still use it: every
    reference to a status is on_delete=PROTECT, so the database-backed collector finds them all
    and nothing is deleted."""
    with transaction.atomic():
        current = _find(_lock_statuses(status.tenant), status.pk)
        _ensure_deletable(current)
        try:
            current.delete()
        except ProtectedError as protected:
            raise StatusInUse(
                _(
                    "“%(name)s” is still used by orders: move them to another status first, or "
                    "deactivate this one instead."
                )
                % {"name": current.name},
                code="status_in_use",
            ) from protected


def set_status_active(status: OrderStatus, active: bool) -> OrderStatus:
    """Offer the status again, or stop offering it for orders; built-ins stay active."""
    with transaction.atomic():
        current = _find(_lock_statuses(status.tenant), status.pk)
        if not active and current.locked:
            raise StatusLocked(
                _(
                    "“%(name)s” is a built-in status the order import needs: it cannot be "
                    "deactivated."
                )
                % {"name": current.name},
                code="status_locked",
            )
        if current.is_active != active:
            current.is_active = active
            current.save(update_fields=["is_active"])
        return current


def move_status(status: OrderStatus, direction: MoveDirection | str) -> list[OrderStatus]:
    """Swap the status with its neighbour above or below and number the tenant's statuses
    1, 2, 3, … in the resulting order. Moving the first one up (or the last one down) changes
    nothing but the numbering. Returns the statuses in their new order."""
    direction = MoveDirection(direction)
    with transaction.atomic():
        ordered = _lock_statuses(status.tenant)
        index = ordered.index(_find(ordered, status.pk))
        other = index - 1 if direction is MoveDirection.UP else index + 1
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
        for position, item in enumerate(ordered, start=1):
            if item.position != position:
                item.position = position
                item.save(update_fields=["position"])
        return ordered


def _find(statuses: list[OrderStatus], pk: int) -> OrderStatus:
    for candidate in statuses:
        if candidate.pk == pk:
            return candidate
    raise OrderStatus.DoesNotExist(f"Status {pk} is gone.")
