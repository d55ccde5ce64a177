"""Sending: one sender per order at a time (a lock per order), taking the orders' pending rows
in order, only the latest status, and each row's outcome written or the order's queue stopped."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroConflict,
    AllegroPermanentError,
    AllegroRateLimited,
    AllegroTransientError,
    UnknownEnvironment,
)
from channels.models import SalesChannel
from channels.services.api import call_batch
from core.locking import lock_name, try_locks
from fulfillment.models import FulfillmentPush, PushError, PushKind, PushState
from fulfillment.services.push.kinds import send_shipment, send_status
from fulfillment.services.push.outcomes import Finisher, supersede_older
from fulfillment.services.push.reasons import permanent_code
from orders.models import Order

logger = logging.getLogger("fulfillment.push")

# Switched off only by the concurrency test that proves the lock is needed.
_LOCK_ORDERS = True


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

    def add(self, outcome: PushState, push_id: int) -> None:
        """Note how one of the order's pushes ended."""
        by_outcome = {
            PushState.SENT: self.sent,
            PushState.SKIPPED: self.skipped,
            PushState.SUPERSEDED: self.superseded,
            PushState.FAILED: self.failed,
        }
        by_outcome[outcome].append(push_id)


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
    supersede_older(by_order, results)
    orders = {
        order.pk: order
        for order in Order.objects.select_related("channel")
        .only(*_ORDER_FIELDS, "channel")
        .filter(tenant_id=tenant_id, pk__in=list(by_order))
    }
    # An order whose only row is a status push (nearly all) has its outcome written with the
    # others' at the end, in one transaction; anything else is written as it happens.
    finisher = Finisher()
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
                        results[order_id].add(outcome, row.pk)
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


def _begin_attempt(push: FulfillmentPush) -> None:
    """Count the try. A shipment's count is committed before Allegro is called: if the worker
    dies mid-call, the next try knows an earlier one may have reached Allegro (and looks before
    posting again). A status PUT is idempotent, so its count is stored with the outcome."""
    push.attempts += 1
    if push.kind == PushKind.SHIPMENT:
        FulfillmentPush.objects.filter(tenant_id=push.tenant_id, pk=push.pk).update(
            attempts=push.attempts
        )


def _send(
    push: FulfillmentPush, order: Order, channel: SalesChannel, finisher: Finisher | None
) -> PushState:
    """Send one row. Its outcome is written now, or (a status row with a ``finisher``) with the
    batch's others at the end."""
    if not channel.is_connected:
        _defer(push, PushError.NOT_CONNECTED, settings.FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS)
    finish = finisher or Finisher(write_each=True)
    _begin_attempt(push)
    try:
        if push.kind == PushKind.STATUS:
            return send_status(push, order, channel, finish)
        return send_shipment(push, order, channel, finish)
    except AllegroRateLimited as exc:
        _defer(push, PushError.RATE_LIMITED, max(1.0, float(exc.retry_after)), detail="")
    except AllegroAuthRevoked:
        _defer(push, PushError.NOT_CONNECTED, settings.FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS)
    except (AllegroTransientError, AllegroConflict) as exc:
        code = PushError.CONFLICT if isinstance(exc, AllegroConflict) else PushError.TRANSIENT
        _defer(push, code, _backoff(push.attempts))
    except AllegroPermanentError as exc:
        finish.add(
            push, PushState.FAILED, code=permanent_code(exc, push.kind), detail=exc.user_message
        )
        return PushState.FAILED
    except UnknownEnvironment:
        _defer(push, PushError.CONFIGURATION, settings.FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS)
    raise AssertionError("unreachable")  # pragma: no cover


def _backoff(attempts: int) -> float:
    base = settings.FULFILLMENT_RETRY_BASE_SECONDS
    delay = min(settings.FULFILLMENT_RETRY_MAX_SECONDS, base * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.2)


def _defer(push: FulfillmentPush, code: PushError, seconds: float, detail: str = "") -> None:
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
