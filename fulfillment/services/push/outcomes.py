"""Writing the outcomes of pushes: the row's state, its timeline entry, and what Allegro now has
on the order (its fulfillment status, in the stored form too: echo suppression) and the
shipment (Allegro's id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from fulfillment.models import FulfillmentPush, PushError, PushKind, PushState, Shipment
from orders import events
from orders.allegro_form import form_hash
from orders.models import Order, OrderEvent

if TYPE_CHECKING:
    from fulfillment.services.push.sender import ProcessResult


def supersede_older(
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
        events.record_all(
            [
                _event(row, PushState.SUPERSEDED, now, replaced_by=latest.target_status)
                for row, latest in older
            ]
        )


def _event(push: FulfillmentPush, outcome: str, now: Any, **data: Any) -> OrderEvent:
    carried: dict[str, Any] = {}
    if push.kind == PushKind.STATUS:
        carried["target"] = push.target_status
    elif push.shipment is not None:
        carried["waybill"] = push.shipment.waybill
        carried["carrier"] = push.shipment.carrier_label
    return events.push_outcome(
        tenant_id=push.tenant_id,
        order_id=push.order_id,
        push_id=push.pk,
        push_kind=push.kind,
        outcome=outcome,
        at=now,
        **carried,
        **data,
    )


@dataclass
class Outcome:
    push: FulfillmentPush
    state: PushState
    code: PushError | str = ""
    detail: str = ""
    # What Allegro's fulfillment status now is (a status push that went through).
    fulfillment_status: str = ""
    shipment_external_id: str = ""


@dataclass
class Finisher:
    """Writes the outcomes of finished pushes: the row's state, its timeline entry, and what
    Allegro now has on the order and the shipment. ``write_each``: at once, one transaction
    per outcome; otherwise all of a batch in one transaction when ``write()`` is called."""

    write_each: bool = False
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, push: FulfillmentPush, state: PushState, **kw: Any) -> None:
        self.outcomes.append(Outcome(push, state, **kw))
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
            events.record_all(
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


def _mark_finished(tenant_id: int, outcomes: list[Outcome], now: Any) -> list[Outcome]:
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


def _finished_key(o: Outcome) -> tuple[Any, ...]:
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
