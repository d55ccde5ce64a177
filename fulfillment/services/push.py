"""The push outbox: changes that must reach Allegro, written with the change, sent after it.

Writing (inside the caller's transaction):
    ``queue_status_pushes`` — from ``orders.order_services.after_status_changes`` for every status
    change by people whose new status is mapped to an Allegro fulfillment status (a change that
    came from Allegro's own state, through the import, is never pushed back);
    ``queue_shipment_push`` — from ``services.shipments.add_shipment`` when the channel passes
    shipment information.
Each dispatches ``fulfillment.tasks.push_order`` with ``transaction.on_commit``; the beat
sweeper (``sweep_due``) re-dispatches rows that are due, so a lost message only delays a push.

Sending (``process_orders``, in a task, outside any transaction): one sender per order at a
time, under a PostgreSQL session advisory lock keyed by (tenant, order) and held across the HTTP
calls. The sender takes the orders' pending rows in id order (= commit order: every writer
holds the order row's lock), marks every status row but the latest as superseded (only the
latest status is sent), and sends the rest one by one:

* status: ``PUT /order/checkout-forms/{id}/fulfillment?checkoutForm.revision=…`` — only when
  Allegro does not already have that status (REFERENCE §7.8: 100 changes per order, ever).
  409 (the buyer changed the order: new revision) → GET the form, import it, retry.
* shipment: ``POST …/shipments``. If an earlier try may have reached Allegro (a timeout, a
  killed worker), ``GET …/shipments`` first and take the one with our carrier and waybill, so a
  retry never creates a second shipment. A 409 is checked the same way.

Outcomes: 2xx → sent; transient (network, 5xx) → retried with backoff; 429 → retried when the
client id's block ends; 422 and other 4xx → failed, shown on the order and the channel, never
retried automatically (a person can press Retry); not connected → waits for authorization.
A transient failure stops the order's queue (later rows wait: pushes go out in order).

Cost (bench/push_cost.py): one task sends many orders — a bulk change's batch, or the orders
whose own tasks are overdue in the queue (``take_waiting``) — with one statement each for the
locks, the rows, the orders and the token, and the outcomes of lone status pushes written
together in one transaction at the end.

Echo suppression: after a successful PUT the order's ``fulfillment_status`` and stored
``raw_form`` get the new status (and ``form_hash`` follows), so when Allegro's
FULFILLMENT_STATUS_CHANGED event for our own change comes back through the journal, the re-read
form equals what is stored and the import writes nothing.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroConflict,
    AllegroError,
    AllegroPermanentError,
    AllegroRateLimited,
    AllegroTransientError,
    UnknownEnvironment,
)
from channels.models import SalesChannel
from channels.services.api import call, call_batch
from core.locking import lock_name, try_locks
from fulfillment.models import FulfillmentPush, PushKind, PushState, Shipment
from fulfillment.services.mappings import default_for, mapped_targets
from orders.allegro_form import form_hash
from orders.models import Order, OrderEvent, OrderEventKind, OrderStatus

logger = logging.getLogger("fulfillment.push")

# Switched off only by the concurrency test that proves the lock is needed.
_LOCK_ORDERS = True
# 409s in a row (the buyer keeps changing the order) before the try counts as transient.
MAX_CONFLICT_RETRIES = 3


# --------------------------------------------------------------------------- reasons
def reason_text(code: str, detail: str = "") -> str:
    """A push's problem in words a seller understands (active language)."""
    texts = {
        "transient": _("Allegro did not answer or had an error. apilo tries again by itself."),
        "rate_limited": _(
            "Allegro's request limit was reached; apilo waits for it and tries again."
        ),
        "not_connected": _(
            "The sales channel is not connected to Allegro. The change is sent once the "
            "channel is authorized again."
        ),
        "conflict": _("The buyer kept changing the order on Allegro; apilo tries again."),
        "change_limit": _(
            "Allegro refused: this order's status was already changed on Allegro the maximum "
            "number of times (100). Set it in Allegro's own panel if needed."
        ),
        "refused": _("Allegro refused the change."),
        "not_found": _(
            "Allegro no longer knows this order (it may have been merged into another purchase)."
        ),
        "waybill_refused": _("Allegro refused the tracking number."),
        "waybill_used": _(
            "Allegro refused the tracking number: it is already used on too many orders."
        ),
        "configuration": _("The channel's Allegro environment is not configured on this server."),
    }
    text = texts.get(code, code)
    if detail and code in ("refused", "waybill_refused", "change_limit", "waybill_used"):
        # Allegro's own words, as it sent them.
        text = _("%(reason)s (Allegro says: %(detail)s)") % {"reason": text, "detail": detail}
    return text


def _permanent_code(exc: AllegroError, kind: str) -> str:
    if exc.status == 404:
        return "not_found"
    if kind == PushKind.SHIPMENT:
        return "waybill_refused"
    if exc.code == "SellerOrdersStoreUnprocessableEntityException":
        return "change_limit"
    return "refused"


# --------------------------------------------------------------------------- writing
def dispatch(tenant_id: int, order_id: int) -> None:
    """Send the order's pending pushes after the current transaction commits."""
    dispatch_many(tenant_id, [order_id])


def dispatch_many(tenant_id: int, order_ids: list[int]) -> None:
    """Send the pending pushes of these orders (of one tenant) after the current transaction
    commits: one task per order, or for a batch (a bulk change, an import) one task per
    ``FULFILLMENT_DISPATCH_BATCH`` orders, so a bulk change of 500 orders is not 500 messages
    and 500 task start-ups while the orders still spread over the workers."""
    from fulfillment.tasks import push_order, push_orders

    if not settings.FULFILLMENT_DISPATCH_ON_COMMIT:
        return
    ids = list(dict.fromkeys(order_ids))  # once per order, in order
    size = max(1, settings.FULFILLMENT_DISPATCH_BATCH)
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        if len(chunk) == 1:
            transaction.on_commit(partial(push_order.delay, tenant_id, chunk[0]))
        else:
            transaction.on_commit(partial(push_orders.delay, tenant_id, chunk))


def _first_sweep_at() -> Any:
    return timezone.now() + timedelta(seconds=settings.FULFILLMENT_REDISPATCH_AFTER_SECONDS)


def queue_status_pushes(
    changes: Sequence[tuple[Order, OrderStatus | None]],
    actor: User | None,
    source: str,
) -> list[FulfillmentPush]:
    """The batch form (an import of 100 orders): mappings read once per channel, one INSERT."""
    targets: dict[int, dict[int, str]] = {}
    pushes = []
    for order, previous in changes:
        if order.channel_id not in targets:
            targets[order.channel_id] = mapped_targets(order.tenant_id, order.channel_id)
        target = targets[order.channel_id].get(order.status_id)
        if target is None:
            target = default_for(order.status)
        if not target:
            continue
        if previous is None and order.fulfillment_status == target:
            continue  # a new order that Allegro already has in that state: nothing to send
        pushes.append(
            FulfillmentPush(
                tenant_id=order.tenant_id,
                order=order,
                channel_id=order.channel_id,
                kind=PushKind.STATUS,
                target_status=target,
                next_attempt_at=_first_sweep_at(),
                actor=actor if getattr(actor, "pk", None) else None,
            )
        )
    if pushes:
        # bulk_create skips TenantOwnedModel.save(); every row is the order's own tenant.
        FulfillmentPush.objects.bulk_create(pushes)
        by_tenant: dict[int, list[int]] = {}
        for push in pushes:
            by_tenant.setdefault(push.tenant_id, []).append(push.order_id)
        for tenant_id, order_ids in by_tenant.items():
            dispatch_many(tenant_id, order_ids)
    return pushes


def queue_shipment_push(shipment: Shipment, actor: User | None) -> FulfillmentPush:
    push = FulfillmentPush.objects.create(
        tenant_id=shipment.tenant_id,
        order_id=shipment.order_id,
        channel_id=shipment.channel_id,
        kind=PushKind.SHIPMENT,
        shipment=shipment,
        next_attempt_at=_first_sweep_at(),
        actor=actor if getattr(actor, "pk", None) else None,
    )
    dispatch(shipment.tenant_id, shipment.order_id)
    return push


def retry_push(push: FulfillmentPush, actor: User | None) -> bool:
    """A person asks to send a failed (or waiting) push again now."""
    with transaction.atomic():
        locked = FulfillmentPush.objects.select_for_update().get(
            pk=push.pk, tenant_id=push.tenant_id
        )
        if locked.state not in (PushState.FAILED, PushState.PENDING):
            return False
        locked.state = PushState.PENDING
        locked.next_attempt_at = _first_sweep_at()
        locked.finished_at = None
        locked.save(update_fields=["state", "next_attempt_at", "finished_at"])
        dispatch(locked.tenant_id, locked.order_id)
    return True


# --------------------------------------------------------------------------- the lock
def _lock_key(tenant_id: int, order_id: int) -> str:
    return lock_name("fulfillment:push", tenant_id, order_id)


@contextmanager
def order_locks(
    tenant_id: int, order_ids: list[int], at_most: int | None = None
) -> Iterator[set[int]]:
    """Try to become the only sender of these orders (core.locking: released on exit, or by
    PostgreSQL when a killed worker's connection goes away), of ``at_most`` of them, in the
    order given. Yields the orders we got."""
    if not _LOCK_ORDERS:
        yield set(order_ids[:at_most])
        return
    keys = {_lock_key(tenant_id, order_id): order_id for order_id in order_ids}
    with try_locks(list(keys), at_most=at_most) as acquired:
        yield {keys[key] for key in acquired}


# --------------------------------------------------------------------------- sending
@dataclass
class ProcessResult:
    """What sending did for one order (for tasks, tests and the bench)."""

    busy: bool = False
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    # Seconds until the order should be tried again (a transient failure or a 429), or None.
    retry_in: float | None = None
    # An unexpected error while sending this order (its rows stay pending for the sweeper).
    error: Exception | None = None


class _Stop(Exception):
    """The order's queue stops here (transient failure / rate limit / not connected)."""

    def __init__(self, retry_in: float) -> None:
        self.retry_in = retry_in


def process_order(tenant_id: int, order_id: int) -> ProcessResult:
    """Send one order's pending pushes, in order (see process_orders); raises what went wrong
    unexpectedly."""
    result = process_orders(tenant_id, [order_id])[order_id]
    if result.error is not None:
        raise result.error
    return result


def process_orders(
    tenant_id: int, order_ids: list[int], *, take_waiting: int = 0
) -> dict[int, ProcessResult]:
    """Send the pending pushes of these orders of one tenant: per order in order, only the
    latest status. Must run inside the tenant's scope and outside any transaction (HTTP calls
    are made).

    ``take_waiting``: also send up to this many other orders of the tenant whose first try is
    overdue (FULFILLMENT_TAKE_WAITING_AFTER_SECONDS): their own tasks are still queued behind
    this one, so the workers are behind. One task then sends many orders with a handful of
    statements, and the queued tasks find nothing left to do. Without a backlog nothing is
    taken and every order keeps its own task (and its own worker).

    An order whose sending fails unexpectedly does not hold up the others: its rows stay
    pending for the sweeper and the error is in its result."""
    wanted = list(dict.fromkeys(order_ids))
    results = {order_id: ProcessResult() for order_id in wanted}
    # Candidates beyond the limit: other workers take the overdue orders at the head of the
    # line, so this one takes the next free ones instead of finding them all busy.
    own, taken = _orders_to_send(tenant_id, wanted, 4 * max(0, take_waiting))
    todo = own + taken
    # Only the first round is limited; later rounds take what was committed meanwhile.
    at_most: int | None = len(own) + max(0, take_waiting)
    if taken:
        # For operators: the workers are behind (the queue holds these orders' own tasks).
        logger.info(
            "push: taking along up to %s overdue orders of tenant %s", len(taken), tenant_id
        )
    for _round in range(20):
        if not todo:
            break
        with order_locks(tenant_id, todo, at_most) as locked:
            for order_id in own:
                # Another worker sends this order's pushes; it looks again before letting go.
                results[order_id].busy = order_id not in locked
            mine = [order_id for order_id in todo if order_id in locked]
            for order_id in mine:
                results.setdefault(order_id, ProcessResult())
            stopped = _send_orders(tenant_id, mine, results)
        # Rows committed while we held the locks, whose own tasks found the lock taken.
        todo = own = _with_pending(tenant_id, [o for o in mine if o not in stopped])
        at_most = None
    return results


def _orders_to_send(
    tenant_id: int, order_ids: list[int], overdue_limit: int
) -> tuple[list[int], list[int]]:
    """Those of the orders that have a pending push (the others need no lock at all: a push
    written later comes with its own task), and up to ``overdue_limit`` other orders of the
    tenant whose pushes were written more than FULFILLMENT_TAKE_WAITING_AFTER_SECONDS ago and
    never tried (their tasks are still queued), oldest first. One statement on PostgreSQL."""
    pending = FulfillmentPush.objects.filter(tenant_id=tenant_id, state=PushState.PENDING)
    own_rows = pending.filter(order_id__in=order_ids).order_by().values_list("order_id", "id")
    rows: Iterable[tuple[int, int]] = own_rows
    if overdue_limit > 0:
        overdue = timezone.now() - timedelta(
            seconds=settings.FULFILLMENT_TAKE_WAITING_AFTER_SECONDS
        )
        waiting = (
            pending.filter(attempts=0, error_code="", created_at__lte=overdue)
            .exclude(order_id__in=order_ids)
            .order_by("id")
            .values_list("order_id", "id")[: 2 * overdue_limit]
        )
        if connection.features.supports_slicing_ordering_in_compound:
            rows = own_rows.union(waiting, all=True)
        else:  # SQLite (development) cannot limit one side of a UNION: two statements
            rows = [*own_rows, *waiting]
    found = sorted(rows, key=lambda row: row[1])
    mine = {order_id for order_id, _id in found}
    own = [order_id for order_id in order_ids if order_id in mine]
    others = dict.fromkeys(order_id for order_id, _id in found if order_id not in own)
    return own, list(others)[:overdue_limit]


def _with_pending(tenant_id: int, order_ids: list[int]) -> list[int]:
    """Those of the orders that have a pending push."""
    if not order_ids:
        return []
    return list(
        FulfillmentPush.objects.filter(
            tenant_id=tenant_id, order_id__in=order_ids, state=PushState.PENDING
        )
        .order_by("order_id")
        .values_list("order_id", flat=True)
        .distinct()
    )


# What sending needs of the order: not its stored form, addresses or lines (raw_form alone is
# the whole checkout form, decoded from JSON on every read).
_ORDER_FIELDS = ("id", "tenant_id", "channel_id", "external_id", "revision", "fulfillment_status")


def _send_orders(
    tenant_id: int, order_ids: list[int], results: dict[int, ProcessResult]
) -> set[int]:
    """Send the pending rows of these (locked) orders. Returns the orders whose queue stopped
    (a retry is due later, or an unexpected error)."""
    stopped: set[int] = set()
    if not order_ids:
        return stopped
    # No join on the shipment: a status row (nearly all of them) has none, and a shipment row
    # loads its shipment when it is sent.
    by_order: dict[int, list[FulfillmentPush]] = {}
    for row in FulfillmentPush.objects.filter(
        tenant_id=tenant_id, order_id__in=order_ids, state=PushState.PENDING
    ).order_by("id"):
        by_order.setdefault(row.order_id, []).append(row)
    if not by_order:
        return stopped
    _supersede_older(by_order, results)
    orders = {
        order.pk: order
        for order in Order.objects.select_related("channel")
        .only(*_ORDER_FIELDS, "channel")
        .filter(tenant_id=tenant_id, pk__in=list(by_order))
    }
    # An order whose only row is a status push (nearly all) has its outcome written with the
    # others' at the end, in one transaction; anything else is written as it happens.
    finisher = _Finisher()
    try:
        with call_batch():
            for order_id, rows in by_order.items():
                order = orders.get(order_id)
                if order is None:
                    continue  # deleted meanwhile (its rows went with it)
                deferred = finisher if len(rows) == 1 and rows[0].kind == PushKind.STATUS else None
                try:
                    for row in rows:
                        outcome = _send(row, order, order.channel, deferred)
                        getattr(results[order_id], outcome).append(row.pk)
                except _Stop as stop:
                    results[order_id].retry_in = stop.retry_in
                    stopped.add(order_id)
                except Exception as exc:  # the other orders go on
                    logger.exception("sending the pushes of order %s failed", order_id)
                    results[order_id].error = exc
                    stopped.add(order_id)
    finally:
        finisher.write()
    return stopped


def _supersede_older(
    by_order: dict[int, list[FulfillmentPush]], results: dict[int, ProcessResult]
) -> None:
    """Only the latest status is sent: every earlier pending status row of an order is marked
    superseded (one UPDATE and one INSERT for all the orders)."""
    older: list[tuple[FulfillmentPush, FulfillmentPush]] = []
    for order_id, rows in by_order.items():
        status_rows = [r for r in rows if r.kind == PushKind.STATUS]
        for row in status_rows[:-1]:
            older.append((row, status_rows[-1]))
        if len(status_rows) > 1:
            results[order_id].superseded.extend(r.pk for r in status_rows[:-1])
            by_order[order_id] = [r for r in rows if r not in status_rows[:-1]]
    if not older:
        return
    now = timezone.now()
    with transaction.atomic():
        FulfillmentPush.objects.filter(
            tenant_id=older[0][0].tenant_id,
            pk__in=[row.pk for row, _latest in older],
            state=PushState.PENDING,
        ).update(state=PushState.SUPERSEDED, finished_at=now)
        OrderEvent.objects.bulk_create(
            [
                _event(row, "superseded", now, replaced_by=latest.target_status)
                for row, latest in older
            ]
        )


def _event(push: FulfillmentPush, outcome: str, now: Any, **data: Any) -> OrderEvent:
    body: dict[str, Any] = {"push": push.pk, "kind": push.kind, "outcome": outcome}
    if push.kind == PushKind.STATUS:
        body["target"] = push.target_status
    elif push.shipment is not None:
        body["waybill"] = push.shipment.waybill
        body["carrier"] = push.shipment.carrier_label
    body.update(data)
    return OrderEvent(
        tenant_id=push.tenant_id,
        order_id=push.order_id,
        kind=OrderEventKind.FULFILLMENT_PUSH,
        data=body,
        created_at=now,
    )


def _begin_attempt(push: FulfillmentPush) -> None:
    """Count the try. A shipment's count is committed before Allegro is called: if the worker
    dies mid-call, the next try knows an earlier one may have reached Allegro (and looks before
    posting again). A status PUT is idempotent, so its count is stored with the outcome."""
    push.attempts += 1
    if push.kind == PushKind.SHIPMENT:
        FulfillmentPush.objects.filter(tenant_id=push.tenant_id, pk=push.pk).update(
            attempts=push.attempts
        )


def _call(push: FulfillmentPush, channel: SalesChannel, method: str, path: str, **kw: Any):
    push.requests += 1  # stored with the outcome (_finish / _defer)
    return call(channel, method, path, **kw)


def _send(
    push: FulfillmentPush, order: Order, channel: SalesChannel, finisher: _Finisher | None
) -> str:
    """Send one row. Its outcome is written now, or (a status row with a ``finisher``) with the
    batch's others at the end."""
    if not channel.is_connected:
        _defer(push, "not_connected", settings.FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS)
    finish = finisher or _Finisher(write_each=True)
    _begin_attempt(push)
    try:
        if push.kind == PushKind.STATUS:
            return _send_status(push, order, channel, finish)
        return _send_shipment(push, order, channel, finish)
    except AllegroRateLimited as exc:
        _defer(push, "rate_limited", max(1.0, float(exc.retry_after)), detail="")
    except AllegroAuthRevoked:
        _defer(push, "not_connected", settings.FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS)
    except (AllegroTransientError, AllegroConflict) as exc:
        code = "conflict" if isinstance(exc, AllegroConflict) else "transient"
        _defer(push, code, _backoff(push.attempts))
    except AllegroPermanentError as exc:
        finish.add(
            push, PushState.FAILED, code=_permanent_code(exc, push.kind), detail=exc.user_message
        )
        return "failed"
    except UnknownEnvironment:
        _defer(push, "configuration", settings.FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS)
    raise AssertionError("unreachable")  # pragma: no cover


def _backoff(attempts: int) -> float:
    base = settings.FULFILLMENT_RETRY_BASE_SECONDS
    delay = min(settings.FULFILLMENT_RETRY_MAX_SECONDS, base * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.2)


def _defer(push: FulfillmentPush, code: str, seconds: float, detail: str = "") -> None:
    now = timezone.now()
    FulfillmentPush.objects.filter(
        tenant_id=push.tenant_id, pk=push.pk, state=PushState.PENDING
    ).update(
        next_attempt_at=now + timedelta(seconds=seconds),
        attempts=push.attempts,
        requests=push.requests,
        error_code=code,
        error_detail=detail[:500],
        error_at=now,
    )
    logger.info("push %s of order %s deferred %.1fs: %s", push.pk, push.order_id, seconds, code)
    raise _Stop(seconds)


@dataclass
class _Outcome:
    push: FulfillmentPush
    state: str
    code: str = ""
    detail: str = ""
    # What Allegro's fulfillment status now is (a status push that went through).
    fulfillment_status: str = ""
    shipment_external_id: str = ""


@dataclass
class _Finisher:
    """Writes the outcomes of finished pushes: the row's state, its timeline entry, and what
    Allegro now has on the order and the shipment. ``write_each``: at once, one transaction
    per outcome; otherwise all of a batch in one transaction when ``write()`` is called."""

    write_each: bool = False
    outcomes: list[_Outcome] = field(default_factory=list)

    def add(self, push: FulfillmentPush, state: str, **kw: Any) -> None:
        self.outcomes.append(_Outcome(push, state, **kw))
        if self.write_each:
            self.write()

    def write(self) -> None:
        outcomes, self.outcomes = self.outcomes, []
        if not outcomes:
            return
        tenant_id = outcomes[0].push.tenant_id
        now = timezone.now()
        with transaction.atomic():
            outcomes = _mark_finished(tenant_id, outcomes, now)
            OrderEvent.objects.bulk_create(
                [
                    _event(
                        o.push,
                        o.state,
                        now,
                        **({"error": o.code, "detail": o.detail[:500]} if o.code else {}),
                    )
                    for o in outcomes
                ]
            )
            _record_fulfillment(
                tenant_id,
                {o.push.order_id: o.fulfillment_status for o in outcomes if o.fulfillment_status},
            )
            for o in outcomes:
                if o.shipment_external_id and o.push.shipment_id:
                    Shipment.objects.filter(tenant_id=tenant_id, pk=o.push.shipment_id).update(
                        external_id=o.shipment_external_id[:200]
                    )
        for o in outcomes:
            o.push.state = o.state


def _mark_finished(tenant_id: int, outcomes: list[_Outcome], now: Any) -> list[_Outcome]:
    """Write the rows' outcomes; returns those whose row was still pending. A row someone else
    finished meanwhile (only possible without the lock) stays as it is, with no second
    timeline entry."""
    if len(outcomes) == 1:  # the UPDATE's row count says whether it was still pending
        groups: dict[tuple[Any, ...], list[int]] = {
            _finished_key(outcomes[0]): [outcomes[0].push.pk]
        }
        pending = FulfillmentPush.objects.filter(tenant_id=tenant_id, state=PushState.PENDING)
        return outcomes if _update_groups(pending, groups, now) else []
    still_pending = set(
        FulfillmentPush.objects.select_for_update()
        .filter(
            tenant_id=tenant_id,
            pk__in=[o.push.pk for o in outcomes],
            state=PushState.PENDING,
        )
        .values_list("pk", flat=True)
    )
    outcomes = [o for o in outcomes if o.push.pk in still_pending]
    groups = {}
    for o in outcomes:
        groups.setdefault(_finished_key(o), []).append(o.push.pk)
    _update_groups(FulfillmentPush.objects.filter(tenant_id=tenant_id), groups, now)
    return outcomes


def _finished_key(o: _Outcome) -> tuple[Any, ...]:
    return (o.state, o.push.attempts, o.push.requests, o.code, o.detail[:500])


def _update_groups(rows: Any, groups: dict[tuple[Any, ...], list[int]], now: Any) -> int:
    """One UPDATE per distinct outcome (nearly always one: sent, first try, one request)."""
    updated = 0
    for (state, attempts, requests, code, detail), pks in groups.items():
        updated += rows.filter(pk__in=pks).update(
            state=state,
            finished_at=now,
            attempts=attempts,
            requests=requests,
            error_code=code,
            error_detail=detail,
            error_at=now if code else None,
        )
    return updated


def _record_fulfillment(tenant_id: int, statuses: dict[int, str]) -> None:
    """Allegro has these fulfillment statuses now ({order id: status}): say so on the orders,
    in their stored forms too (echo suppression: the journal's re-read of our own change then
    finds nothing new), and when (a form read earlier does not undo it: orders.ingest). Rows
    are locked in id order, as every other writer of orders does."""
    if not statuses:
        return
    now = timezone.now()
    orders = (
        Order.objects.select_for_update(of=("self",))
        .only(
            "id",
            "tenant_id",
            "fulfillment_status",
            "fulfillment_confirmed_at",
            "raw_form",
            "form_hash",
        )
        .filter(tenant_id=tenant_id, pk__in=list(statuses))
        .order_by("pk")
    )
    changed = list(orders)
    for order in changed:
        status = statuses[order.pk]
        order.fulfillment_status = status
        # Even when the order knew already: a form read before now cannot undo it.
        order.fulfillment_confirmed_at = now
        raw = order.raw_form
        stored = raw.get("fulfillment") if isinstance(raw, dict) else None
        if isinstance(stored, dict) and stored.get("status") != status:
            stored["status"] = status
            order.form_hash = form_hash(raw)
    fields = ["fulfillment_status", "fulfillment_confirmed_at", "raw_form", "form_hash"]
    if len(changed) == 1:
        changed[0].save(update_fields=fields)  # cheaper to build than bulk_update's CASE
    elif changed:
        Order.objects.bulk_update(changed, fields)


def _confirmed_status(push: FulfillmentPush) -> str | None:
    """The status our last finished status push left on Allegro, if any."""
    return (
        FulfillmentPush.objects.filter(
            tenant_id=push.tenant_id,
            order_id=push.order_id,
            kind=PushKind.STATUS,
            state__in=[PushState.SENT, PushState.SKIPPED],
        )
        .order_by("-id")
        .values_list("target_status", flat=True)
        .first()
    )


def _send_status(
    push: FulfillmentPush, order: Order, channel: SalesChannel, finish: _Finisher
) -> str:
    target = push.target_status
    # Only PUT when the status actually changes (100 changes per order, ever). The order's
    # field alone could be a stale read of Allegro; our own last confirmed push must agree
    # (looked up only when the field says Allegro has the target already).
    if order.fulfillment_status == target and _confirmed_status(push) in (None, target):
        finish.add(push, PushState.SKIPPED, fulfillment_status=target)
        return "skipped"
    revision = order.revision
    path = f"/order/checkout-forms/{order.external_id}/fulfillment"
    for _conflict in range(MAX_CONFLICT_RETRIES):
        try:
            _call(
                push,
                channel,
                "PUT",
                path,
                params={"checkoutForm.revision": revision} if revision else None,
                json={"status": target},
            )
        except AllegroConflict:
            form = _reread(push, channel, order)
            revision = str(form.get("revision") or "")
            current = (form.get("fulfillment") or {}).get("status")
            if current == target:
                finish.add(push, PushState.SKIPPED, fulfillment_status=target)
                return "skipped"
            continue
        finish.add(push, PushState.SENT, fulfillment_status=target)
        return "sent"
    raise AllegroConflict("revision kept changing")


def _reread(push: FulfillmentPush, channel: SalesChannel, order: Order) -> dict[str, Any]:
    """GET the checkout form (after a 409) and import it, so the order is current."""
    from orders.ingest import upsert_order_from_checkout_form

    fetched_at = timezone.now()
    form = _call(push, channel, "GET", f"/order/checkout-forms/{order.external_id}").data
    if not isinstance(form, dict):
        raise AllegroTransientError("Malformed checkout form")
    upsert_order_from_checkout_form(channel, form, fetched_at=fetched_at)
    return form


def _find_shipment(
    push: FulfillmentPush, channel: SalesChannel, order: Order, shipment: Shipment
) -> dict[str, Any] | None:
    data = _call(push, channel, "GET", f"/order/checkout-forms/{order.external_id}/shipments").data
    for entry in (data or {}).get("shipments") or []:
        if (
            isinstance(entry, dict)
            and entry.get("waybill") == shipment.waybill
            and entry.get("carrierId") == shipment.carrier_id
        ):
            return entry
    return None


def _send_shipment(
    push: FulfillmentPush, order: Order, channel: SalesChannel, finish: _Finisher
) -> str:
    shipment = push.shipment
    assert shipment is not None
    if push.attempts > 1:
        # An earlier try may have reached Allegro (timeout, killed worker): look before posting.
        found = _find_shipment(push, channel, order, shipment)
        if found is not None:
            finish.add(push, PushState.SENT, shipment_external_id=str(found.get("id") or ""))
            return "sent"
    body: dict[str, Any] = {"carrierId": shipment.carrier_id, "waybill": shipment.waybill}
    if shipment.carrier_id == "OTHER":
        body["carrierName"] = shipment.carrier_name[:30]
    if shipment.line_ids:
        body["lineItems"] = [{"id": line_id} for line_id in shipment.line_ids]
    path = f"/order/checkout-forms/{order.external_id}/shipments"
    try:
        response = _call(push, channel, "POST", path, json=body)
    except AllegroConflict as exc:
        # Already on the order (our earlier try), or the waybill is used too often elsewhere.
        found = _find_shipment(push, channel, order, shipment)
        if found is not None:
            finish.add(push, PushState.SENT, shipment_external_id=str(found.get("id") or ""))
            return "sent"
        finish.add(push, PushState.FAILED, code="waybill_used", detail=exc.user_message)
        return "failed"
    data = response.data if isinstance(response.data, dict) else {}
    finish.add(push, PushState.SENT, shipment_external_id=str(data.get("id") or ""))
    return "sent"


# --------------------------------------------------------------------------- the sweeper
def sweep_due(limit: int | None = None) -> list[tuple[int, int]]:
    """(tenant id, order id) of every order with a pending push that is due, oldest first, for
    the beat sweeper to dispatch. Orders of channels that are not connected wait."""
    limit = int(limit or settings.FULFILLMENT_SWEEP_BATCH)
    now = timezone.now()
    with scopes_disabled():
        rows = (
            FulfillmentPush.objects.filter(state=PushState.PENDING, next_attempt_at__lte=now)
            .filter(Q(channel__connection_state="connected") & Q(channel__is_active=True))
            .values("tenant_id", "order_id")
            .annotate(due=Min("next_attempt_at"))
            .order_by("due")[:limit]
        )
        due = [(r["tenant_id"], r["order_id"]) for r in rows]
        if due:
            # Not again at the next tick while the dispatched task is on its way.
            later = now + timedelta(seconds=settings.FULFILLMENT_REDISPATCH_AFTER_SECONDS)
            FulfillmentPush.objects.filter(
                state=PushState.PENDING,
                next_attempt_at__lte=now,
                order_id__in=[order_id for _t, order_id in due],
            ).update(next_attempt_at=later)
    return due
