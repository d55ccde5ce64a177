"""The push outbox: changes that must reach Allegro, written with the change, sent after it.

Writing (inside the caller's transaction):
    ``queue_status_push`` — from ``orders.order_services.after_status_change`` for every status
    change whose new status is mapped to an Allegro fulfillment status;
    ``queue_shipment_push`` — from ``services.shipments.add_shipment`` when the channel passes
    shipment information.
Each dispatches ``fulfillment.tasks.push_order`` with ``transaction.on_commit``; the beat
sweeper (``sweep_due``) re-dispatches rows that are due, so a lost message only delays a push.

Sending (``process_order``, in a task, outside any transaction): one sender per order at a time,
under a PostgreSQL session advisory lock keyed by (tenant, order) and held across the HTTP
calls. The sender takes the order's pending rows in id order (= commit order: every writer
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

Echo suppression: after a successful PUT the order's ``fulfillment_status`` and stored
``raw_form`` get the new status (and ``form_hash`` follows), so when Allegro's
FULFILLMENT_STATUS_CHANGED event for our own change comes back through the journal, the re-read
form equals what is stored and the import writes nothing.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
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
from channels.services.api import call
from core.locking import try_lock
from fulfillment import conf
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
        text = f"{text} ({_('Allegro says')}: {detail})"
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

    if not conf.get("FULFILLMENT_DISPATCH_ON_COMMIT"):
        return
    ids = list(dict.fromkeys(order_ids))  # once per order, in order
    size = max(1, int(conf.get("FULFILLMENT_DISPATCH_BATCH")))
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        if len(chunk) == 1:
            transaction.on_commit(lambda order_id=chunk[0]: push_order.delay(tenant_id, order_id))
        else:
            transaction.on_commit(lambda chunk=chunk: push_orders.delay(tenant_id, chunk))


def _first_sweep_at() -> Any:
    return timezone.now() + timedelta(seconds=conf.get("FULFILLMENT_REDISPATCH_AFTER_SECONDS"))


def queue_status_push(
    order: Order,
    previous: OrderStatus | None,
    actor: AbstractBaseUser | None,
    source: str,
) -> FulfillmentPush | None:
    """Called in the transaction of every status change (after_status_change): write the push
    of the new status's mapped Allegro fulfillment status, if it has one."""
    pushes = queue_status_pushes([(order, previous)], actor, source)
    return pushes[0] if pushes else None


def queue_status_pushes(
    changes: list[tuple[Order, OrderStatus | None]],
    actor: AbstractBaseUser | None,
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


def queue_shipment_push(shipment: Shipment, actor: AbstractBaseUser | None) -> FulfillmentPush:
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


def retry_push(push: FulfillmentPush, actor: AbstractBaseUser | None) -> bool:
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
    return f"apilo:fulfillment:push:{tenant_id}:{order_id}"


@contextmanager
def order_lock(tenant_id: int, order_id: int) -> Iterator[bool]:
    """Try to become the order's only sender (core.locking: released on exit, or by PostgreSQL
    when a killed worker's connection goes away). Yields whether we got it."""
    if not _LOCK_ORDERS:
        yield True
        return
    with try_lock(_lock_key(tenant_id, order_id)) as acquired:
        yield acquired


# --------------------------------------------------------------------------- sending
@dataclass
class ProcessResult:
    """What one ``process_order`` did (for tasks, tests and the bench)."""

    busy: bool = False
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    # Seconds until the order should be tried again (a transient failure or a 429), or None.
    retry_in: float | None = None


class _Stop(Exception):
    """The order's queue stops here (transient failure / rate limit / not connected)."""

    def __init__(self, retry_in: float) -> None:
        self.retry_in = retry_in


def process_order(tenant_id: int, order_id: int) -> ProcessResult:
    """Send the order's pending pushes, in order. Must run inside the tenant's scope and outside
    any transaction (HTTP calls are made)."""
    result = ProcessResult()
    for _round in range(20):
        with order_lock(tenant_id, order_id) as acquired:
            if not acquired:
                # Another worker sends this order's pushes; it looks again before letting go.
                result.busy = True
                return result
            try:
                _drain(tenant_id, order_id, result)
            except _Stop as stop:
                result.retry_in = stop.retry_in
                return result
        # Rows committed while we held the lock, whose own task found the lock taken.
        if not _pending(tenant_id, order_id).exists():
            return result
    return result


def _pending(tenant_id: int, order_id: int):
    return FulfillmentPush.objects.filter(
        tenant_id=tenant_id, order_id=order_id, state=PushState.PENDING
    ).order_by("id")


def _drain(tenant_id: int, order_id: int, result: ProcessResult) -> None:
    while True:
        # No join on the shipment: a status row (nearly all of them) has none, and a shipment
        # row loads its shipment when it is sent.
        rows = list(_pending(tenant_id, order_id))
        if not rows:
            return
        status_rows = [r for r in rows if r.kind == PushKind.STATUS]
        older = status_rows[:-1]
        if older:
            _supersede(older, status_rows[-1])
            result.superseded.extend(r.pk for r in older)
        for row in rows:
            if row in older:
                continue
            outcome = _send(row)
            getattr(result, outcome).append(row.pk)


def _supersede(rows: list[FulfillmentPush], latest: FulfillmentPush) -> None:
    now = timezone.now()
    with transaction.atomic():
        FulfillmentPush.objects.filter(
            tenant_id=latest.tenant_id, pk__in=[r.pk for r in rows], state=PushState.PENDING
        ).update(state=PushState.SUPERSEDED, finished_at=now)
        OrderEvent.objects.bulk_create(
            [_event(r, "superseded", now, replaced_by=latest.target_status) for r in rows]
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


# What sending needs of the order: not its stored form, addresses or lines (raw_form alone is
# the whole checkout form, decoded from JSON on every read).
_ORDER_FIELDS = ("id", "tenant_id", "channel_id", "external_id", "revision", "fulfillment_status")


def _send(push: FulfillmentPush) -> str:
    order = (
        Order.objects.select_related("channel")
        .only(*_ORDER_FIELDS, "channel")
        .get(tenant_id=push.tenant_id, pk=push.order_id)
    )
    channel = order.channel
    if not channel.is_connected:
        _defer(push, "not_connected", conf.get("FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS"))
    _begin_attempt(push)
    try:
        if push.kind == PushKind.STATUS:
            return _send_status(push, order, channel)
        return _send_shipment(push, order, channel)
    except AllegroRateLimited as exc:
        _defer(push, "rate_limited", max(1.0, float(exc.retry_after)), detail="")
    except AllegroAuthRevoked:
        _defer(push, "not_connected", conf.get("FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS"))
    except (AllegroTransientError, AllegroConflict) as exc:
        code = "conflict" if isinstance(exc, AllegroConflict) else "transient"
        _defer(push, code, _backoff(push.attempts))
    except AllegroPermanentError as exc:
        _finish(
            push, PushState.FAILED, code=_permanent_code(exc, push.kind), detail=exc.user_message
        )
        return "failed"
    except UnknownEnvironment:
        _defer(push, "configuration", conf.get("FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS"))
    raise AssertionError("unreachable")  # pragma: no cover


def _backoff(attempts: int) -> float:
    base = conf.get("FULFILLMENT_RETRY_BASE_SECONDS")
    delay = min(conf.get("FULFILLMENT_RETRY_MAX_SECONDS"), base * 2 ** max(0, attempts - 1))
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


def _finish(
    push: FulfillmentPush,
    state: str,
    *,
    code: str = "",
    detail: str = "",
    order_update: dict[str, Any] | None = None,
    shipment_external_id: str = "",
) -> None:
    now = timezone.now()
    with transaction.atomic():
        updated = FulfillmentPush.objects.filter(
            tenant_id=push.tenant_id, pk=push.pk, state=PushState.PENDING
        ).update(
            state=state,
            finished_at=now,
            attempts=push.attempts,
            requests=push.requests,
            error_code=code,
            error_detail=detail[:500],
            error_at=now if code else None,
        )
        if not updated:
            return  # someone else finished it meanwhile (only without the lock)
        data: dict[str, Any] = {}
        if code:
            data = {"error": code, "detail": detail[:500]}
        OrderEvent.objects.bulk_create([_event(push, state, now, **data)])
        if order_update:
            _record_fulfillment(push, order_update["fulfillment_status"])
        if shipment_external_id and push.shipment_id:
            Shipment.objects.filter(tenant_id=push.tenant_id, pk=push.shipment_id).update(
                external_id=shipment_external_id[:200]
            )
    push.state = state


def _record_fulfillment(push: FulfillmentPush, status: str) -> None:
    """Allegro has ``status`` now: say so on the order, in its stored form too (echo
    suppression: the journal's re-read of our own change then finds nothing new)."""
    order = (
        Order.objects.select_for_update(of=("self",))
        .only("id", "tenant_id", "fulfillment_status", "raw_form", "form_hash")
        .get(tenant_id=push.tenant_id, pk=push.order_id)
    )
    fields = []
    if order.fulfillment_status != status:
        order.fulfillment_status = status
        fields.append("fulfillment_status")
    raw = order.raw_form
    stored = raw.get("fulfillment") if isinstance(raw, dict) else None
    if isinstance(stored, dict) and stored.get("status") != status:
        stored["status"] = status
        order.raw_form = raw
        order.form_hash = form_hash(raw)
        fields += ["raw_form", "form_hash"]
    if fields:
        order.save(update_fields=fields)


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


def _send_status(push: FulfillmentPush, order: Order, channel: SalesChannel) -> str:
    target = push.target_status
    # Only PUT when the status actually changes (100 changes per order, ever). The order's
    # field alone could be a stale read of Allegro; our own last confirmed push must agree
    # (looked up only when the field says Allegro has the target already).
    if order.fulfillment_status == target and _confirmed_status(push) in (None, target):
        _finish(push, PushState.SKIPPED, order_update={"fulfillment_status": target})
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
                _finish(push, PushState.SKIPPED, order_update={"fulfillment_status": target})
                return "skipped"
            continue
        _finish(push, PushState.SENT, order_update={"fulfillment_status": target})
        return "sent"
    raise AllegroConflict("revision kept changing")


def _reread(push: FulfillmentPush, channel: SalesChannel, order: Order) -> dict[str, Any]:
    """GET the checkout form (after a 409) and import it, so the order is current."""
    from orders.ingest import upsert_order_from_checkout_form

    form = _call(push, channel, "GET", f"/order/checkout-forms/{order.external_id}").data
    if not isinstance(form, dict):
        raise AllegroTransientError("Malformed checkout form")
    upsert_order_from_checkout_form(channel, form)
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


def _send_shipment(push: FulfillmentPush, order: Order, channel: SalesChannel) -> str:
    shipment = push.shipment
    assert shipment is not None
    if push.attempts > 1:
        # An earlier try may have reached Allegro (timeout, killed worker): look before posting.
        found = _find_shipment(push, channel, order, shipment)
        if found is not None:
            _finish(push, PushState.SENT, shipment_external_id=str(found.get("id") or ""))
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
            _finish(push, PushState.SENT, shipment_external_id=str(found.get("id") or ""))
            return "sent"
        _finish(push, PushState.FAILED, code="waybill_used", detail=exc.user_message)
        return "failed"
    data = response.data if isinstance(response.data, dict) else {}
    _finish(push, PushState.SENT, shipment_external_id=str(data.get("id") or ""))
    return "sent"


# --------------------------------------------------------------------------- the sweeper
def sweep_due(limit: int | None = None) -> list[tuple[int, int]]:
    """(tenant id, order id) of every order with a pending push that is due, oldest first, for
    the beat sweeper to dispatch. Orders of channels that are not connected wait."""
    limit = int(limit or conf.get("FULFILLMENT_SWEEP_BATCH"))
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
            later = now + timedelta(seconds=conf.get("FULFILLMENT_REDISPATCH_AFTER_SECONDS"))
            FulfillmentPush.objects.filter(
                state=PushState.PENDING,
                next_attempt_at__lte=now,
                order_id__in=[order_id for _t, order_id in due],
            ).update(next_attempt_at=later)
    return due
