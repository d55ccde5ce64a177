"""The upsert of checkout forms: parse each form, then, in one transaction under the channel's
lock, skip the unchanged ones, update the changed ones, create the new ones, close the orders
merged into them, and write it all with a handful of bulk statements per batch.

A form whose sha256 equals the stored one is skipped without any write. A batch the database
refuses is retried form by form, each in a savepoint of its own, so one bad form fails alone.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from core.models import Tenant
from orders import events
from orders.allegro_form import (
    FormRejected,
    ParsedForm,
    ParsedLine,
    clean_json,
    form_hash,
    parse_checkout_form,
)
from orders.changes import ChangeSource, adjust_status_counts, after_status_changes
from orders.ingest.batch import Item, Work, count_deltas, ensure_scope_allows, lock_channel
from orders.ingest.merges import close_merged, find_merged
from orders.ingest.numbers import allocate_order_numbers
from orders.ingest.results import BatchResult, Outcome, UpsertResult
from orders.ingest.status_rules import (
    Statuses,
    apply_allegro_changes,
    initial_status,
    load_statuses,
)
from orders.models import DeliveryMethod, Order, OrderLine
from orders.search import order_search_text
from orders.signals import orders_imported

if TYPE_CHECKING:
    from channels.models import SalesChannel

# The package's one logger name, as before it was a package (log configurations name it).
logger = logging.getLogger("orders.ingest")

_ORDER_UPDATE_FIELDS = [
    *ParsedForm.COLUMNS,
    "allegro_status",
    "bought_at",
    "status",
    "needs_attention",
    "merged_into",
    "parse_warnings",
    "raw_form",
    "form_hash",
    "search_text",
    "allegro_synced_at",
    "updated_at",
]
_LINE_FIELDS = [
    "offer_id",
    "offer_name",
    "sku",
    "quantity",
    "price",
    "original_price",
    "currency",
    "bought_at",
    "position",
]


def upsert_order_from_checkout_form(
    channel: SalesChannel,
    form: dict,
    *,
    fetched_at: dt.datetime | None = None,
    backfill: bool = False,
) -> UpsertResult:
    """Create or update the order of one checkout form. Never raises for a bad form."""
    return upsert_orders_from_checkout_forms(
        channel, [form], fetched_at=fetched_at, backfill=backfill
    ).results[0]


def upsert_orders_from_checkout_forms(
    channel: SalesChannel,
    forms: list[Any],
    *,
    fetched_at: dt.datetime | None = None,
    backfill: bool = False,
) -> BatchResult:
    """Create or update the orders of many checkout forms of one channel.

    The batch runs in one transaction (a savepoint inside the caller's). If the database refuses
    it, each form is retried in a savepoint of its own, so one bad form fails alone.
    ``backfill``: the forms are past orders imported on request (a new channel's days, a
    re-import), told to the floors above through ``orders_imported`` (no new-order mails).
    """
    tenant = channel.tenant
    ensure_scope_allows(tenant)
    results: list[UpsertResult | None] = [None] * len(forms)
    items: dict[str, Item] = {}
    for index, form in enumerate(forms):
        parsed = _parse(channel, index, form)
        if isinstance(parsed, UpsertResult):
            results[index] = parsed
        else:
            items[parsed.external_id] = parsed  # a repeated form: the last copy wins
    outcomes = _store(channel, tenant, items, fetched_at, backfill) if items else {}
    for index, form in enumerate(forms):
        if results[index] is None:
            results[index] = outcomes[_external_id_key(form, items)]
    return BatchResult(results=[r for r in results if r is not None])


def _parse(channel: SalesChannel, index: int, form: Any) -> Item | UpsertResult:
    """The form parsed for the batch, or the failed result of a form that cannot be."""
    try:
        parsed = parse_checkout_form(form)
        raw = clean_json(form)
        return Item(index=index, parsed=parsed, raw=raw, hash=form_hash(raw))
    except FormRejected as exc:
        return UpsertResult(_external_id_of(form), Outcome.FAILED, error=str(exc))
    except Exception as exc:  # a parser bug must not stop the batch either
        logger.exception("Checkout form could not be parsed (channel %s)", channel.pk)
        return UpsertResult(
            _external_id_of(form), Outcome.FAILED, error=f"Parser error: {exc!r}"[:300]
        )


def _store(
    channel: SalesChannel,
    tenant: Tenant,
    items: dict[str, Item],
    fetched_at: dt.datetime | None,
    backfill: bool,
) -> dict[str, UpsertResult]:
    """The batch in one savepoint; if the database refuses it, form by form."""
    with scope(tenant=tenant):
        try:
            with transaction.atomic():
                return _upsert(channel, tenant, list(items.values()), fetched_at, backfill)
        except Exception:
            logger.warning(
                "Batch upsert failed for channel %s; retrying form by form",
                channel.pk,
                exc_info=True,
            )
        outcomes: dict[str, UpsertResult] = {}
        for item in items.values():
            try:
                with transaction.atomic():
                    outcomes.update(_upsert(channel, tenant, [item], fetched_at, backfill))
            except Exception as exc:
                logger.exception("Checkout form %s could not be stored", item.external_id)
                outcomes[item.external_id] = UpsertResult(
                    item.external_id, Outcome.FAILED, error=f"{exc!r}"[:300]
                )
        return outcomes


def _external_id_of(form: Any) -> str:
    if isinstance(form, dict) and isinstance(form.get("id"), str | int):
        return str(form["id"])[:64]
    return ""


def _external_id_key(form: Any, items: dict[str, Item]) -> str:
    # The parser cleaned the id; find the item built from this form.
    raw_id = _external_id_of(form).strip()
    if raw_id in items:
        return raw_id
    return next(key for key, item in items.items() if item.raw == clean_json(form))


@dataclass
class _Batch:
    """One run of `_upsert`: the channel, its statuses, the rows it locked, what it writes."""

    channel: SalesChannel
    tenant: Tenant
    now: dt.datetime
    fetched_at: dt.datetime | None
    statuses: Statuses
    locked: dict[int, Order]
    work: Work = field(default_factory=Work)
    by_external: dict[str, Order] = field(default_factory=dict)


def _upsert(
    channel: SalesChannel,
    tenant: Tenant,
    items: list[Item],
    fetched_at: dt.datetime | None,
    backfill: bool,
) -> dict[str, UpsertResult]:
    lock_channel(tenant, channel)
    now = timezone.now()
    known = _known_orders(tenant, channel, items)
    results, new_items, changed_items = _sort_out(items, known)
    if not new_items and not changed_items:
        return results

    statuses = load_statuses(tenant, channel)
    merges = find_merged(tenant, channel, [*new_items, *changed_items])
    lock_ids = {known[i.external_id].pk for i in changed_items}
    lock_ids |= {old_id for old_ids in merges.values() for old_id in old_ids}
    batch = _Batch(channel, tenant, now, fetched_at, statuses, _lock_orders(tenant, lock_ids))
    _update_changed(batch, changed_items, known)
    _create_new(batch, new_items)
    close_merged(merges, batch.locked, batch.by_external, statuses, batch.work, now)
    _write(batch, [*new_items, *changed_items])
    new_ids = {item.external_id for item in new_items}
    orders_imported.send(
        sender=Order,
        channel=channel,
        orders=[
            (batch.by_external[item.external_id], item.external_id in new_ids)
            for item in [*new_items, *changed_items]
        ],
        backfill=backfill,
    )

    results.update(_results(batch, new_items, Outcome.CREATED))
    results.update(_results(batch, changed_items, Outcome.UPDATED))
    return results


def _known_orders(tenant: Tenant, channel: SalesChannel, items: list[Item]) -> dict[str, Order]:
    return {
        o.external_id: o
        for o in Order.objects.filter(
            tenant=tenant, channel=channel, external_id__in=[i.external_id for i in items]
        ).only("id", "external_id", "form_hash", "number", "parse_warnings")
    }


def _sort_out(
    items: list[Item], known: dict[str, Order]
) -> tuple[dict[str, UpsertResult], list[Item], list[Item]]:
    """(results of the unchanged forms, the new forms, the changed forms)."""
    results: dict[str, UpsertResult] = {}
    new_items: list[Item] = []
    changed_items: list[Item] = []
    for item in items:
        order = known.get(item.external_id)
        if order is None:
            new_items.append(item)
        elif order.form_hash == item.hash:
            results[item.external_id] = UpsertResult(
                item.external_id,
                Outcome.UNCHANGED,
                order.pk,
                order.number,
                tuple(order.parse_warnings or ()),
            )
        else:
            changed_items.append(item)
    return results, new_items, changed_items


def _lock_orders(tenant: Tenant, ids: set[int]) -> dict[int, Order]:
    """The changed orders and the orders merged away, locked in pk order."""
    return {
        o.pk: o
        for o in Order.objects.select_for_update(of=("self",))
        .select_related("status")
        .filter(tenant=tenant, pk__in=ids)
        .order_by("pk")
    }


def _update_changed(batch: _Batch, items: list[Item], known: dict[str, Order]) -> None:
    work = batch.work
    existing_lines: dict[int, dict[str, OrderLine]] = defaultdict(dict)
    changed_ids = [known[i.external_id].pk for i in items]
    for line in OrderLine.objects.filter(tenant=batch.tenant, order_id__in=changed_ids):
        existing_lines[line.order_id][line.external_id] = line
    for item in items:
        order = batch.locked[known[item.external_id].pk]
        previous_allegro, previous_fulfillment = order.allegro_status, order.fulfillment_status
        _assign(order, item, batch.now)
        _keep_pushed_fulfillment(order, previous_fulfillment, batch.fetched_at)
        if item.parsed.allegro_status:
            order.allegro_status = item.parsed.allegro_status
        if item.parsed.bought_at:
            order.bought_at = item.parsed.bought_at
        changes = apply_allegro_changes(
            order, previous_allegro, previous_fulfillment, batch.statuses, work
        )
        if not changes:
            work.events.append(events.updated_from_allegro(order, batch.now))
        _sync_lines(order, item.parsed.lines, existing_lines[order.pk], work)
        work.saved_orders.append(order)
        batch.by_external[item.external_id] = order


def _create_new(batch: _Batch, items: list[Item]) -> None:
    if not items:
        return
    work, now = batch.work, batch.now
    numbers = allocate_order_numbers(batch.tenant, batch.channel.alias, len(items), now=now)
    new_orders = [
        _new_order(batch, item, number) for item, number in zip(items, numbers, strict=True)
    ]
    Order.objects.bulk_create(new_orders)
    for order in new_orders:
        work.events.append(events.imported(order, now))
        work.hooks.append((order, None))
        work.moves.append((None, order.status_id))
    for item in items:
        order = batch.by_external[item.external_id]
        work.new_lines.extend(_line(order, line) for line in item.parsed.lines)


def _new_order(batch: _Batch, item: Item, number: str) -> Order:
    parsed, now = item.parsed, batch.now
    order = Order(
        tenant=batch.tenant,
        channel=batch.channel,
        external_id=item.external_id,
        number=number,
        allegro_status=parsed.allegro_status or "",
        bought_at=parsed.bought_at or parsed.allegro_updated_at or now,
        imported_at=now,
    )
    if not parsed.bought_at:
        parsed.warnings.append("No purchase date (lineItems[].boughtAt).")
    _assign(order, item, now)
    order.status = initial_status(order.allegro_status, batch.statuses)
    batch.by_external[item.external_id] = order
    return order


def _write(batch: _Batch, items: list[Item]) -> None:
    """The batch's bulk statements, its timeline, the tab counts and the follow-ups."""
    tenant, work = batch.tenant, batch.work
    if work.saved_orders:
        Order.objects.bulk_update(work.saved_orders, _ORDER_UPDATE_FIELDS)
    if work.new_lines:
        OrderLine.objects.bulk_create(work.new_lines)
    if work.changed_lines:
        OrderLine.objects.bulk_update(work.changed_lines, _LINE_FIELDS)
    if work.deleted_line_ids:
        OrderLine.objects.filter(tenant=tenant, pk__in=work.deleted_line_ids).delete()
    events.record_all(work.events)
    adjust_status_counts(tenant.pk, count_deltas(work))
    _remember_delivery_methods(tenant, items)
    after_status_changes(work.hooks, None, ChangeSource.ALLEGRO)


def _results(batch: _Batch, items: list[Item], outcome: Outcome) -> dict[str, UpsertResult]:
    out = {}
    for item in items:
        order = batch.by_external[item.external_id]
        out[item.external_id] = UpsertResult(
            item.external_id, outcome, order.pk, order.number, tuple(order.parse_warnings)
        )
    return out


def _assign(order: Order, item: Item, now: dt.datetime) -> None:
    parsed = item.parsed
    for name, value in parsed.columns().items():
        setattr(order, name, value)
    order.parse_warnings = list(parsed.warnings)
    order.raw_form = item.raw
    order.form_hash = item.hash
    order.search_text = order_search_text(order, [(li.offer_name, li.sku) for li in parsed.lines])
    order.allegro_synced_at = now
    order.updated_at = now


def _keep_pushed_fulfillment(order: Order, previous: str, fetched_at: dt.datetime | None) -> None:
    """A form read before our own push confirmed the order's fulfillment status (a poll or sweep
    that was already under way when the push went out) must not undo it: keep the pushed status,
    in the stored form too. A form read after that is Allegro's word."""
    confirmed = order.fulfillment_confirmed_at
    if fetched_at is None or confirmed is None or fetched_at >= confirmed:
        return
    if order.fulfillment_status == previous:
        return
    order.fulfillment_status = previous
    stored = order.raw_form.get("fulfillment") if isinstance(order.raw_form, dict) else None
    if isinstance(stored, dict):
        stored["status"] = previous
        order.form_hash = form_hash(order.raw_form)


def _line(order: Order, parsed: ParsedLine) -> OrderLine:
    line = OrderLine(tenant_id=order.tenant_id, order=order, external_id=parsed.external_id)
    for name in _LINE_FIELDS:
        setattr(line, name, getattr(parsed, name))
    return line


def _sync_lines(
    order: Order, parsed_lines: list[ParsedLine], existing: dict[str, OrderLine], work: Work
) -> None:
    seen = set()
    for parsed in parsed_lines:
        seen.add(parsed.external_id)
        line = existing.get(parsed.external_id)
        if line is None:
            work.new_lines.append(_line(order, parsed))
            continue
        if any(getattr(line, name) != getattr(parsed, name) for name in _LINE_FIELDS):
            for name in _LINE_FIELDS:
                setattr(line, name, getattr(parsed, name))
            work.changed_lines.append(line)
    work.deleted_line_ids.extend(line.pk for key, line in existing.items() if key not in seen)


def _remember_delivery_methods(tenant: Tenant, items: list[Item]) -> None:
    methods = {
        i.parsed.delivery_method_id: i.parsed.delivery_method_name
        for i in items
        if i.parsed.delivery_method_id and i.parsed.delivery_method_name
    }
    if not methods:
        return
    DeliveryMethod.objects.bulk_create(
        [
            DeliveryMethod(tenant=tenant, external_id=key, name=name)
            for key, name in sorted(methods.items())
        ],
        update_conflicts=True,
        unique_fields=["tenant", "external_id"],
        update_fields=["name"],
    )
