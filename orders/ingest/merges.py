"""Merged purchases: Allegro merged a buyer's purchases into a new checkout form holding the same
line items (the old form answers 404). The older order is linked to the new one and closed,
either in the batch that imports the new form or through `mark_order_merged`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from core.models import Tenant
from orders import events
from orders.changes import ChangeSource, adjust_status_counts, after_status_changes
from orders.ingest.batch import Item, Work, count_deltas, ensure_scope_allows, lock_channel
from orders.ingest.status_rules import Statuses, alert, is_shipped, load_statuses, set_status
from orders.models import Order, OrderLine, SystemStatus

if TYPE_CHECKING:
    from channels.models import SalesChannel


def find_merged(tenant: Tenant, channel: SalesChannel, items: list[Item]) -> dict[str, set[int]]:
    """{new form id: ids of other, not yet merged orders of the channel holding its line items}."""
    owner = {line.external_id: item.external_id for item in items for line in item.parsed.lines}
    owner = {k: v for k, v in owner.items() if not k.startswith("missing-")}
    if not owner:
        return {}
    merges: dict[str, set[int]] = defaultdict(set)
    rows = (
        OrderLine.objects.filter(
            tenant=tenant,
            external_id__in=list(owner),
            order__channel=channel,
            order__merged_into__isnull=True,
        )
        .values_list("external_id", "order_id", "order__external_id")
        .distinct()
    )
    for line_id, order_id, order_external_id in rows:
        if order_external_id != owner[line_id]:
            merges[owner[line_id]].add(order_id)
    return dict(merges)


def close_merged(
    merges: dict[str, set[int]],
    locked: dict[int, Order],
    by_external: dict[str, Order],
    statuses: Statuses,
    work: Work,
    now: dt.datetime,
) -> None:
    """The older orders holding the line items of a batch's forms are linked and closed."""
    for new_external_id, old_ids in merges.items():
        for old_id in sorted(old_ids):
            old = locked.get(old_id)
            if old is not None and old.merged_into_id is None:
                merge(old, by_external[new_external_id], statuses, work, now)
                if old not in work.saved_orders:
                    work.saved_orders.append(old)


def merge(old: Order, new: Order, statuses: Statuses, work: Work, now: dt.datetime) -> None:
    """Link `old` to the order Allegro merged it into and close it."""
    old.merged_into = new
    old.updated_at = now
    work.events.append(events.merged_into(old, new, now))
    work.events.append(events.merged_from(new, old, now))
    if old.status.system_code == SystemStatus.CANCELLED:
        return
    if is_shipped(old.status):
        alert(old, events.merged_after_shipping(old, new.number, now), work)
    else:
        set_status(old, statuses.cancelled, work)


def mark_order_merged(
    channel: SalesChannel,
    old_external_id: str,
    new_external_id: str,
    *,
    actor: User | None = None,
) -> bool:
    """Allegro merged the purchase `old_external_id` into `new_external_id` (the old form now
    answers 404). Import the new form first; returns False if either order is missing or the
    link already exists."""
    tenant = channel.tenant
    ensure_scope_allows(tenant)
    with scope(tenant=tenant), transaction.atomic():
        lock_channel(tenant, channel)
        orders = {
            o.external_id: o
            for o in Order.objects.select_for_update(of=("self",))
            .select_related("status")
            .filter(
                tenant=tenant, channel=channel, external_id__in=[old_external_id, new_external_id]
            )
            .order_by("pk")
        }
        old, new = orders.get(old_external_id), orders.get(new_external_id)
        if old is None or new is None or old.pk == new.pk or old.merged_into_id is not None:
            return False
        statuses = load_statuses(tenant, channel)
        work = Work()
        now = timezone.now()
        merge(old, new, statuses, work, now)
        adjust_status_counts(tenant.pk, count_deltas(work))
        for event in work.events:
            event.actor = actor
        old.save(update_fields=["merged_into", "status", "needs_attention", "updated_at"])
        events.record_all(work.events)
        after_status_changes(work.hooks, actor, ChangeSource.ALLEGRO)
    return True
