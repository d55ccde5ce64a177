"""Staff changes of orders (one order's status, bulk status changes, handled alerts) and the
status-change hook point.

Every function runs inside the tenant's scope (the request's, or the task's) and locks the
orders it changes with SELECT … FOR UPDATE (ordered by pk), so a staff change and an Allegro
import of the same order never overwrite each other.

Hook point for what follows a status change: `after_status_change()` below is called for every
status change — by staff here and by the Allegro import in orders.ingest — inside the same
transaction, after the order row and its timeline entry are written. The push to Allegro (an
outbox row for PUT …/fulfillment) is one explicit call there, made only for changes that did not
come from Allegro's own state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope

from core.errors import UserError
from core.models import Tenant
from orders import events
from orders.models import Order, OrderStatus, OrderStatusCount
from orders.signals import status_changes_to_tell, statuses_entered


class ChangeSource(StrEnum):
    """Who caused a status change: a member of staff, or the Allegro import."""

    STAFF = "staff"
    ALLEGRO = "allegro"


class OrderStatusError(UserError):
    """A status change of an order that the rules refuse."""


def after_status_change(
    order: Order,
    previous: OrderStatus | None,
    actor: User | None,
    source: ChangeSource,
    *,
    tell_allegro: bool = True,
) -> None:
    """Everything that follows a status change, as an explicit list of calls (no signals).

    Called inside the changing transaction with the order already saved in its new status.
    `previous` is None for an order that was just imported.

    1. The push to Allegro: if the new status is mapped to an Allegro fulfillment status on the
       order's channel, an outbox row is written here (same transaction) and sent after commit
       (fulfillment.services.push; docs/adr/0004-fulfillment-outbox.md). Only changes made by
       people (and their automation) are pushed: a change that came from Allegro's own state
       (source ALLEGRO: a paid order entering the import status, a buyer's or Allegro's
       cancellation, a merge closing the old order) pushes nothing back, because Allegro
       already knows and every PUT spends one of the order's 100 changes. ``tell_allegro=False``
       keeps a staff change local too (a shipment added on a channel that does not pass
       shipment information).
    2. Every change, pushed or not: ``orders.signals.statuses_entered`` (notifications queues
       its "status entered" mails, in this transaction).
    """
    after_status_changes([(order, previous)], actor, source, tell_allegro=tell_allegro)


def after_status_changes(
    changes: Sequence[tuple[Order, OrderStatus | None]],
    actor: User | None,
    source: ChangeSource,
    *,
    tell_allegro: bool = True,
) -> None:
    """after_status_change for many orders at once (imports and bulk changes): the same steps,
    with each lookup done once per batch rather than once per order."""
    if not changes:
        return
    if tell_allegro and source != ChangeSource.ALLEGRO:
        status_changes_to_tell.send(sender=Order, changes=changes, actor=actor, source=source)
    statuses_entered.send(sender=Order, changes=changes, actor=actor, source=source)


def adjust_status_counts(tenant_id: int, deltas: dict[int, int]) -> None:
    """Add `deltas` ({status id: +n/-n}) to the tenant's per-status order counts, in the caller's
    transaction. One statement; rows are touched in status-id order, so concurrent writers queue
    on the same rows in the same order and never deadlock."""
    rows = [(tenant_id, status_id, delta) for status_id, delta in sorted(deltas.items()) if delta]
    if not rows:
        return
    table = OrderStatusCount._meta.db_table
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, status_id, count) VALUES {values} "  # noqa: S608
            f"ON CONFLICT (tenant_id, status_id) DO UPDATE SET count = {table}.count + "
            "EXCLUDED.count",
            [value for row in rows for value in row],
        )


def recount_status_counts(tenant: Tenant) -> dict[int, int]:
    """Rebuild the tenant's per-status counts from the orders (repair; the bench's bulk load)."""
    with scope(tenant=tenant), transaction.atomic():
        counts = dict(
            Order.objects.filter(tenant=tenant)
            .order_by()
            .values_list("status_id")
            .annotate(n=Count("id"))
            .values_list("status_id", "n")
        )
        OrderStatusCount.objects.filter(tenant=tenant).delete()
        OrderStatusCount.objects.bulk_create(
            [
                OrderStatusCount(tenant=tenant, status_id=status_id, count=n)
                for status_id, n in sorted(counts.items())
            ]
        )
    return counts


def _ensure_usable(order_tenant_id: int, status: OrderStatus) -> None:
    if status.tenant_id != order_tenant_id:
        # Never happens through the forms (they only offer the tenant's statuses): a guard.
        raise OrderStatusError(_("This status does not exist."), code="status_unknown")
    if not status.is_active:
        raise OrderStatusError(
            _("“%(name)s” is not active; activate it in Administration first.")
            % {"name": status.name},
            code="status_inactive",
        )


def change_order_status(
    order: Order,
    new_status: OrderStatus,
    actor: User | None,
    *,
    source: ChangeSource = ChangeSource.STAFF,
    tell_allegro: bool = True,
) -> bool:
    """Move one order to `new_status`, writing the timeline (who, when, from → to).

    Returns False (and writes nothing) when the order already has that status.
    ``tell_allegro=False``: the status's mapping is not pushed (see after_status_change).
    """
    with transaction.atomic():
        # Locked without joining the status: a row another transaction changed meanwhile is
        # re-checked against the join's old status row and would drop out (DoesNotExist).
        locked = Order.objects.select_for_update().get(pk=order.pk, tenant_id=order.tenant_id)
        _ensure_usable(locked.tenant_id, new_status)
        if locked.status_id == new_status.pk:
            return False
        previous = locked.status
        locked.status = new_status
        locked.save(update_fields=["status", "updated_at"])
        adjust_status_counts(locked.tenant_id, {previous.pk: -1, new_status.pk: +1})
        events.record_status_change(locked, previous, new_status, actor, source)
        after_status_change(locked, previous, actor, source, tell_allegro=tell_allegro)
    order.status = new_status
    order.updated_at = locked.updated_at
    return True


@dataclass
class BulkChangeResult:
    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    # Ids that are not the tenant's orders (or no longer exist): nothing was done to them.
    not_found: list[int] = field(default_factory=list)


def bulk_change_status(
    tenant: Tenant,
    order_ids: Iterable[int],
    new_status: OrderStatus,
    actor: User | None,
) -> BulkChangeResult:
    """Move many orders of `tenant` to `new_status` in one transaction (one UPDATE, one INSERT
    of timeline entries). Ids of other tenants' orders are reported as not found."""
    wanted = sorted({int(pk) for pk in order_ids})
    result = BulkChangeResult()
    with scope(tenant=tenant), transaction.atomic():
        _ensure_usable(tenant.pk, new_status)
        # Locked without joining the statuses (see change_order_status), then read them.
        orders = list(
            Order.objects.select_for_update().filter(tenant=tenant, pk__in=wanted).order_by("pk")
        )
        known = OrderStatus.objects.in_bulk({order.status_id for order in orders})
        for order in orders:
            order.status = known[order.status_id]
        found = {order.pk for order in orders}
        result.not_found = [pk for pk in wanted if pk not in found]
        now = timezone.now()
        entries = []
        changed: list[tuple[Order, OrderStatus]] = []
        for order in orders:
            if order.status_id == new_status.pk:
                result.unchanged.append(order.pk)
                continue
            previous = order.status
            entries.append(
                events.status_change(order, previous, new_status, actor, ChangeSource.STAFF)
            )
            order.status = new_status
            order.updated_at = now
            changed.append((order, previous))
            result.changed.append(order.pk)
        if changed:
            Order.objects.filter(tenant=tenant, pk__in=result.changed).update(
                status=new_status, updated_at=now
            )
            deltas: dict[int, int] = {new_status.pk: len(changed)}
            for _order, previous in changed:
                deltas[previous.pk] = deltas.get(previous.pk, 0) - 1
            adjust_status_counts(tenant.pk, deltas)
            events.record_all(entries)
            after_status_changes(changed, actor, ChangeSource.STAFF)
    return result


def resolve_attention(order: Order, actor: User | None) -> bool:
    """Staff have dealt with the order's alert: clear the flag and say so on the timeline."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk, tenant_id=order.tenant_id)
        if not locked.needs_attention:
            return False
        locked.needs_attention = False
        locked.save(update_fields=["needs_attention", "updated_at"])
        events.record_attention_cleared(locked, actor)
    order.needs_attention = False
    return True
