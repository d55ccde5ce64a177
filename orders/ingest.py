"""Allegro checkout form → order: the idempotent upsert the sync engine builds on.

API (all functions enter the channel's tenant scope themselves and work inside a caller's
transaction, e.g. the poll that advances its journal cursor in the same transaction):

- `upsert_order_from_checkout_form(channel, form, fetched_at=None) -> UpsertResult`
- `upsert_orders_from_checkout_forms(channel, forms, fetched_at=None) -> BatchResult` — for
  polls, sweeps and backfill: a handful of queries per batch, not per order. Never raises for a
  bad form: each form gets an UpsertResult (created / updated / unchanged / failed with the
  reason). ``fetched_at``: when the forms were asked for; a form read before our own push
  confirmed the order's fulfillment status does not undo it (`_keep_pushed_fulfillment`).
- `mark_order_merged(channel, old_external_id, new_external_id) -> bool` — Allegro merged
  purchases (the old form answers 404): link the old order to the new one and close it.
- `allocate_order_numbers(tenant, alias, count) -> list[str]` — AL + yymm + 6-digit sequence.

Idempotency: Order is unique on (tenant, channel, external_id), OrderLine on (tenant, order,
line id); upserts of one channel are serialised by a transaction-scoped advisory lock keyed on
(tenant, channel), so a journal poll and a reconciliation sweep of the same account never race.
A form whose sha256 equals the stored one is skipped without any write.

Order states in (DESIGN §4): see `_initial_status` and `_apply_allegro_changes`. Every status
change made here comes from Allegro's own state and is followed up with source ALLEGRO, so none
of them is pushed back to Allegro (orders.changes.after_status_change).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django_scopes import get_scope, scope

from core.locking import lock_name, lock_until_commit
from core.models import CrossTenantWrite, Tenant
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
from orders.models import (
    AllegroStatus,
    DeliveryMethod,
    Order,
    OrderEvent,
    OrderLine,
    OrderNumberCounter,
    OrderStatus,
    StatusGroup,
    SystemStatus,
)
from orders.search import order_search_text
from orders.signals import orders_imported

if TYPE_CHECKING:
    from channels.models import SalesChannel

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class UpsertResult:
    """What happened to one checkout form. `order_id`/`number` are set unless it failed;
    `warnings` are the parse warnings now stored on the order; `error` says why it failed."""

    external_id: str
    outcome: Outcome
    order_id: int | None = None
    number: str = ""
    warnings: tuple[str, ...] = ()
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome != Outcome.FAILED


@dataclass
class BatchResult:
    """One UpsertResult per input form, in input order."""

    results: list[UpsertResult] = field(default_factory=list)

    def with_outcome(self, outcome: Outcome) -> list[UpsertResult]:
        return [r for r in self.results if r.outcome == outcome]

    @property
    def created(self) -> list[UpsertResult]:
        return self.with_outcome(Outcome.CREATED)

    @property
    def updated(self) -> list[UpsertResult]:
        return self.with_outcome(Outcome.UPDATED)

    @property
    def unchanged(self) -> list[UpsertResult]:
        return self.with_outcome(Outcome.UNCHANGED)

    @property
    def failed(self) -> list[UpsertResult]:
        return self.with_outcome(Outcome.FAILED)

    def counts(self) -> dict[str, int]:
        return {outcome.value: len(self.with_outcome(outcome)) for outcome in Outcome}


# --- Order numbers ----------------------------------------------------------------------------

# The counter row is read under SELECT … FOR UPDATE, and a channel's upserts take an advisory
# lock; the concurrency tests switch these off to show what each lock prevents.
_LOCK_COUNTER = True
_LOCK_CHANNEL = True


def numbering_timezone() -> dt.tzinfo:
    """The time zone whose month an order number carries: the deployment's TIME_ZONE
    (Europe/Warsaw), the same for every tenant, whatever zone a request has activated."""
    return timezone.get_default_timezone()


def allocate_order_numbers(
    tenant: Tenant, alias: str, count: int, *, now: dt.datetime | None = None
) -> list[str]:
    """`count` consecutive numbers alias + yymm + 6-digit sequence, unique per tenant.

    The (tenant, alias, yymm) counter row is created if missing and then locked until the
    caller's transaction ends, so concurrent allocations queue and numbers never repeat; a
    rolled-back import gives its numbers back.
    """
    if count <= 0:
        return []
    moment = timezone.localtime(now or timezone.now(), numbering_timezone())
    period = moment.strftime("%y%m")
    with scope(tenant=tenant), transaction.atomic():
        OrderNumberCounter.objects.bulk_create(
            [OrderNumberCounter(tenant=tenant, alias=alias, period=period, last_value=0)],
            ignore_conflicts=True,
        )
        counters = OrderNumberCounter.objects.filter(tenant=tenant, alias=alias, period=period)
        if _LOCK_COUNTER:
            counters = counters.select_for_update()
        counter = counters.get()
        first = counter.last_value + 1
        OrderNumberCounter.objects.filter(pk=counter.pk).update(
            last_value=counter.last_value + count
        )
    return [f"{alias}{period}{value:06d}" for value in range(first, first + count)]


# --- Statuses ---------------------------------------------------------------------------------

_NEEDED_CODES = (SystemStatus.UNCONFIRMED, SystemStatus.NEW, SystemStatus.CANCELLED)


@dataclass
class _Statuses:
    by_code: dict[str, OrderStatus]
    import_status: OrderStatus

    @property
    def unconfirmed(self) -> OrderStatus:
        return self.by_code[SystemStatus.UNCONFIRMED]

    @property
    def cancelled(self) -> OrderStatus:
        return self.by_code[SystemStatus.CANCELLED]


def _load_statuses(tenant: Tenant, channel: SalesChannel) -> _Statuses:
    chosen_id = channel.import_status_id
    for _attempt in range(2):
        wanted = OrderStatus.objects.filter(tenant=tenant, system_code__in=_NEEDED_CODES)
        if chosen_id:
            wanted = wanted | OrderStatus.objects.filter(tenant=tenant, pk=chosen_id)
        rows = list(wanted)
        by_code = {s.system_code: s for s in rows if s.system_code}
        if all(code in by_code for code in _NEEDED_CODES):
            break
        # A tenant without its built-ins (never seeded): seed them, as the import needs them.
        from orders.statuses import seed_default_statuses

        seed_default_statuses(tenant)
    chosen = next((s for s in rows if chosen_id and s.pk == chosen_id), None)
    return _Statuses(by_code=by_code, import_status=import_status_for(channel, by_code, chosen))


def import_status_for(
    channel: SalesChannel,
    by_code: dict[str, OrderStatus],
    chosen: OrderStatus | None = None,
) -> OrderStatus:
    """The status a newly paid (READY_FOR_PROCESSING) order of this channel lands in.

    The channel's `import_status` when set and active; otherwise the tenant's SystemStatus.NEW
    status ("Nowe").
    """
    if chosen is not None and chosen.is_active:
        return chosen
    return by_code[SystemStatus.NEW]


def _is_shipped(status: OrderStatus) -> bool:
    """Shipped: a completed-tab status that is not a cancellation or a return (built-in SENT
    or a tenant's own, e.g. "Dostarczone")."""
    return status.group == StatusGroup.COMPLETED and status.system_code not in (
        SystemStatus.CANCELLED,
        SystemStatus.RETURNED,
    )


# --- The upsert -------------------------------------------------------------------------------


@dataclass
class _Item:
    index: int
    parsed: ParsedForm
    raw: Any
    hash: str

    @property
    def external_id(self) -> str:
        return self.parsed.external_id


@dataclass
class _Work:
    """What one batch writes, gathered before the bulk statements run."""

    events: list[OrderEvent] = field(default_factory=list)
    hooks: list[tuple[Order, OrderStatus | None]] = field(default_factory=list)
    # (status left or None for a new order, status entered): for the per-status counts.
    moves: list[tuple[int | None, int]] = field(default_factory=list)
    new_lines: list[OrderLine] = field(default_factory=list)
    changed_lines: list[OrderLine] = field(default_factory=list)
    deleted_line_ids: list[int] = field(default_factory=list)
    saved_orders: list[Order] = field(default_factory=list)


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
    _ensure_scope_allows(tenant)
    results: list[UpsertResult | None] = [None] * len(forms)
    items: dict[str, _Item] = {}
    for index, form in enumerate(forms):
        try:
            parsed = parse_checkout_form(form)
            raw = clean_json(form)
            item = _Item(index=index, parsed=parsed, raw=raw, hash=form_hash(raw))
        except FormRejected as exc:
            results[index] = UpsertResult(_external_id_of(form), Outcome.FAILED, error=str(exc))
            continue
        except Exception as exc:  # a parser bug must not stop the batch either
            logger.exception("Checkout form could not be parsed (channel %s)", channel.pk)
            results[index] = UpsertResult(
                _external_id_of(form), Outcome.FAILED, error=f"Parser error: {exc!r}"[:300]
            )
            continue
        items[item.external_id] = item  # a repeated form: the last copy wins

    outcomes: dict[str, UpsertResult] = {}
    if items:
        with scope(tenant=tenant):
            try:
                with transaction.atomic():
                    outcomes = _upsert(channel, tenant, list(items.values()), fetched_at, backfill)
            except Exception:
                logger.warning(
                    "Batch upsert failed for channel %s; retrying form by form",
                    channel.pk,
                    exc_info=True,
                )
                outcomes = {}
                for item in items.values():
                    try:
                        with transaction.atomic():
                            outcomes.update(_upsert(channel, tenant, [item], fetched_at, backfill))
                    except Exception as exc:
                        logger.exception("Checkout form %s could not be stored", item.external_id)
                        outcomes[item.external_id] = UpsertResult(
                            item.external_id, Outcome.FAILED, error=f"{exc!r}"[:300]
                        )
    for index, form in enumerate(forms):
        if results[index] is None:
            results[index] = outcomes[_external_id_key(form, items)]
    return BatchResult(results=[r for r in results if r is not None])


def _external_id_of(form: Any) -> str:
    if isinstance(form, dict) and isinstance(form.get("id"), str | int):
        return str(form["id"])[:64]
    return ""


def _external_id_key(form: Any, items: dict[str, _Item]) -> str:
    # The parser cleaned the id; find the item built from this form.
    raw_id = _external_id_of(form).strip()
    if raw_id in items:
        return raw_id
    return next(key for key, item in items.items() if item.raw == clean_json(form))


def _ensure_scope_allows(tenant: Tenant) -> None:
    active = get_scope()
    if active.get("_enabled", False):
        scoped = active.get("tenant")
        if getattr(scoped, "pk", scoped) != tenant.pk:
            raise CrossTenantWrite("Orders of one tenant imported inside another tenant's scope.")


def _lock_channel(tenant: Tenant, channel: SalesChannel) -> None:
    """Serialise upserts of one channel until the transaction ends (poll vs. sweep)."""
    if _LOCK_CHANNEL:
        lock_until_commit(lock_name("orders.ingest", tenant.pk, channel.pk))


def _upsert(
    channel: SalesChannel,
    tenant: Tenant,
    items: list[_Item],
    fetched_at: dt.datetime | None,
    backfill: bool,
) -> dict[str, UpsertResult]:
    _lock_channel(tenant, channel)
    now = timezone.now()
    known = {
        o.external_id: o
        for o in Order.objects.filter(
            tenant=tenant, channel=channel, external_id__in=[i.external_id for i in items]
        ).only("id", "external_id", "form_hash", "number", "parse_warnings")
    }
    results: dict[str, UpsertResult] = {}
    new_items: list[_Item] = []
    changed_items: list[_Item] = []
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
    if not new_items and not changed_items:
        return results

    statuses = _load_statuses(tenant, channel)
    merges = _find_merged(tenant, channel, [*new_items, *changed_items])
    lock_ids = {known[i.external_id].pk for i in changed_items}
    lock_ids |= {old_id for old_ids in merges.values() for old_id in old_ids}
    locked = {
        o.pk: o
        for o in Order.objects.select_for_update(of=("self",))
        .select_related("status")
        .filter(tenant=tenant, pk__in=lock_ids)
        .order_by("pk")
    }
    work = _Work()
    by_external: dict[str, Order] = {}

    # Changed orders.
    existing_lines: dict[int, dict[str, OrderLine]] = defaultdict(dict)
    changed_ids = [known[i.external_id].pk for i in changed_items]
    for line in OrderLine.objects.filter(tenant=tenant, order_id__in=changed_ids):
        existing_lines[line.order_id][line.external_id] = line
    for item in changed_items:
        order = locked[known[item.external_id].pk]
        previous_allegro, previous_fulfillment = order.allegro_status, order.fulfillment_status
        _assign(order, item, now)
        _keep_pushed_fulfillment(order, previous_fulfillment, fetched_at)
        if item.parsed.allegro_status:
            order.allegro_status = item.parsed.allegro_status
        if item.parsed.bought_at:
            order.bought_at = item.parsed.bought_at
        changes = _apply_allegro_changes(
            order, previous_allegro, previous_fulfillment, statuses, work
        )
        if not changes:
            work.events.append(events.updated_from_allegro(order, now))
        _sync_lines(order, item.parsed.lines, existing_lines[order.pk], work)
        work.saved_orders.append(order)
        by_external[item.external_id] = order

    # New orders.
    new_orders: list[Order] = []
    if new_items:
        numbers = allocate_order_numbers(tenant, channel.alias, len(new_items), now=now)
        for item, number in zip(new_items, numbers, strict=True):
            order = Order(
                tenant=tenant,
                channel=channel,
                external_id=item.external_id,
                number=number,
                allegro_status=item.parsed.allegro_status or "",
                bought_at=item.parsed.bought_at or item.parsed.allegro_updated_at or now,
                imported_at=now,
            )
            if not item.parsed.bought_at:
                item.parsed.warnings.append("No purchase date (lineItems[].boughtAt).")
            _assign(order, item, now)
            order.status = _initial_status(order.allegro_status, statuses)
            new_orders.append(order)
            by_external[item.external_id] = order
        Order.objects.bulk_create(new_orders)
        for order in new_orders:
            work.events.append(events.imported(order, now))
            work.hooks.append((order, None))
            work.moves.append((None, order.status_id))
        for item in new_items:
            order = by_external[item.external_id]
            work.new_lines.extend(_line(order, line) for line in item.parsed.lines)

    # Merged purchases: the older orders holding these line items are closed.
    for new_external_id, old_ids in merges.items():
        for old_id in sorted(old_ids):
            old = locked.get(old_id)
            if old is not None and old.merged_into_id is None:
                _merge(old, by_external[new_external_id], statuses, work, now)
                if old not in work.saved_orders:
                    work.saved_orders.append(old)

    if work.saved_orders:
        Order.objects.bulk_update(work.saved_orders, _ORDER_UPDATE_FIELDS)
    if work.new_lines:
        OrderLine.objects.bulk_create(work.new_lines)
    if work.changed_lines:
        OrderLine.objects.bulk_update(work.changed_lines, _LINE_FIELDS)
    if work.deleted_line_ids:
        OrderLine.objects.filter(tenant=tenant, pk__in=work.deleted_line_ids).delete()
    events.record_all(work.events)
    adjust_status_counts(tenant.pk, _count_deltas(work))
    _remember_delivery_methods(tenant, [*new_items, *changed_items])
    after_status_changes(work.hooks, None, ChangeSource.ALLEGRO)
    orders_imported.send(
        sender=Order,
        channel=channel,
        orders=[(by_external[i.external_id], i in new_items) for i in [*new_items, *changed_items]],
        backfill=backfill,
    )

    for item in new_items:
        order = by_external[item.external_id]
        results[item.external_id] = UpsertResult(
            item.external_id, Outcome.CREATED, order.pk, order.number, tuple(order.parse_warnings)
        )
    for item in changed_items:
        order = by_external[item.external_id]
        results[item.external_id] = UpsertResult(
            item.external_id, Outcome.UPDATED, order.pk, order.number, tuple(order.parse_warnings)
        )
    return results


def _assign(order: Order, item: _Item, now: dt.datetime) -> None:
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
    order: Order, parsed_lines: list[ParsedLine], existing: dict[str, OrderLine], work: _Work
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


def _initial_status(allegro_status: str, statuses: _Statuses) -> OrderStatus:
    """A new order's status: paid → the channel's import status; cancelled → cancelled;
    bought / filled in / unknown → unconfirmed (its data may still change)."""
    if allegro_status == AllegroStatus.READY_FOR_PROCESSING:
        return statuses.import_status
    if allegro_status == AllegroStatus.CANCELLED:
        return statuses.cancelled
    return statuses.unconfirmed


def _set_status(order: Order, new: OrderStatus, work: _Work) -> None:
    previous = order.status
    order.status = new
    work.events.append(events.status_change(order, previous, new, None, ChangeSource.ALLEGRO))
    work.hooks.append((order, previous))
    work.moves.append((previous.pk, new.pk))


def _alert(order: Order, alert: OrderEvent, work: _Work) -> None:
    order.needs_attention = True
    work.events.append(alert)


def _apply_allegro_changes(
    order: Order,
    previous_allegro: str,
    previous_fulfillment: str,
    statuses: _Statuses,
    work: _Work,
) -> bool:
    """React to a changed form of a known order; True if a timeline entry says what changed.

    - READY_FOR_PROCESSING: unconfirmed → the channel's import status; any other status means
      staff already moved the order on, and it stays. A repeated RFP changes nothing.
    - CANCELLED: → cancelled, unless the order was already shipped: then an alert on the
      timeline and `needs_attention`, never a silent overwrite.
    - The fulfillment status is Allegro's own field: recorded, not mapped to our status.
    """
    now = order.updated_at
    said = False
    if order.allegro_status != previous_allegro:
        said = True
        work.events.append(
            events.allegro_status_change(order, previous_allegro, order.allegro_status, now)
        )
        if order.allegro_status == AllegroStatus.READY_FOR_PROCESSING:
            if order.status_id == statuses.unconfirmed.pk:
                _set_status(order, statuses.import_status, work)
        elif order.allegro_status == AllegroStatus.CANCELLED:
            if order.status.system_code == SystemStatus.CANCELLED:
                pass
            elif _is_shipped(order.status):
                _alert(order, events.cancelled_after_shipping(order, order.status.name, now), work)
            else:
                _set_status(order, statuses.cancelled, work)
    if order.fulfillment_status != previous_fulfillment:
        said = True
        work.events.append(
            events.fulfillment_status_change(
                order, previous_fulfillment, order.fulfillment_status, now
            )
        )
    return said


def _find_merged(tenant: Tenant, channel: SalesChannel, items: list[_Item]) -> dict[str, set[int]]:
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


def _merge(old: Order, new: Order, statuses: _Statuses, work: _Work, now: dt.datetime) -> None:
    """Link `old` to the order Allegro merged it into and close it."""
    old.merged_into = new
    old.updated_at = now
    work.events.append(events.merged_into(old, new, now))
    work.events.append(events.merged_from(new, old, now))
    if old.status.system_code == SystemStatus.CANCELLED:
        return
    if _is_shipped(old.status):
        _alert(old, events.merged_after_shipping(old, new.number, now), work)
    else:
        _set_status(old, statuses.cancelled, work)


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
    _ensure_scope_allows(tenant)
    with scope(tenant=tenant), transaction.atomic():
        _lock_channel(tenant, channel)
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
        statuses = _load_statuses(tenant, channel)
        work = _Work()
        now = timezone.now()
        _merge(old, new, statuses, work, now)
        adjust_status_counts(tenant.pk, _count_deltas(work))
        for event in work.events:
            event.actor = actor
        old.save(update_fields=["merged_into", "status", "needs_attention", "updated_at"])
        events.record_all(work.events)
        after_status_changes(work.hooks, actor, ChangeSource.ALLEGRO)
    return True


def _count_deltas(work: _Work) -> dict[int, int]:
    """Per-status count changes of a batch: one order entering a status (and leaving another,
    unless it was just imported) per move."""
    deltas: dict[int, int] = defaultdict(int)
    for left, entered in work.moves:
        deltas[entered] += 1
        if left is not None:
            deltas[left] -= 1
    return dict(deltas)


def _remember_delivery_methods(tenant: Tenant, items: list[_Item]) -> None:
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
