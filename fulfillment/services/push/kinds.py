"""What one push sends, by kind: a fulfillment status (PUT, re-read on 409) or a shipment
(POST, looked up first when an earlier try may have reached Allegro). The Allegro calls are
the client's typed endpoints, made on the channel's behalf."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.utils import timezone

from channels.clients.allegro import AllegroClient, AllegroConflict, AllegroShipment
from channels.models import SalesChannel
from channels.services.api import on_behalf
from fulfillment.models import FulfillmentPush, PushError, PushKind, PushState, Shipment
from fulfillment.services.push.outcomes import Finisher
from orders.ingest import upsert_order_from_checkout_form
from orders.models import Order

# 409s in a row (the buyer keeps changing the order) before the try counts as transient.
MAX_CONFLICT_RETRIES = 3

T = TypeVar("T")


def _allegro(
    push: FulfillmentPush,
    channel: SalesChannel,
    endpoint: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    push.requests += 1  # stored with the outcome (Finisher / sender._defer)
    return on_behalf(channel, endpoint, *args, **kwargs)


_CONFIRMED = (PushState.SENT, PushState.SKIPPED)


def _earlier_status(push: FulfillmentPush) -> tuple[str, str] | None:
    """(state, target) of the order's latest finished status push before this one, if any."""
    return (
        FulfillmentPush.objects.filter(
            tenant_id=push.tenant_id,
            order_id=push.order_id,
            kind=PushKind.STATUS,
            pk__lt=push.pk,
        )
        .exclude(state=PushState.PENDING)
        .order_by("-id")
        .values_list("state", "target_status")
        .first()
    )


def send_status(
    push: FulfillmentPush, order: Order, channel: SalesChannel, finish: Finisher
) -> PushState:
    target = push.target_status
    revision = order.revision
    # Only PUT when the status actually changes (100 changes per order, ever). The order's
    # field alone could be a stale read of Allegro; our own latest earlier push must agree
    # (looked up only when the field says Allegro has the target already).
    if order.fulfillment_status == target:
        earlier = _earlier_status(push)
        if earlier is None or earlier in [(state, target) for state in _CONFIRMED]:
            finish.add(push, PushState.SKIPPED, fulfillment_status=target)
            return PushState.SKIPPED
        if earlier[0] not in _CONFIRMED:
            # Superseded or failed since: a try of it may have reached Allegro unrecorded (a
            # worker killed before writing the outcome). Ask Allegro rather than spend a change.
            form = _reread(push, channel, order)
            revision = str(form.get("revision") or "")
            if (form.get("fulfillment") or {}).get("status") == target:
                finish.add(push, PushState.SKIPPED, fulfillment_status=target)
                return PushState.SKIPPED
    for _conflict in range(MAX_CONFLICT_RETRIES):
        try:
            _allegro(
                push,
                channel,
                AllegroClient.set_fulfillment_status,
                order.external_id,
                target,
                revision,
            )
        except AllegroConflict:
            form = _reread(push, channel, order)
            revision = str(form.get("revision") or "")
            current = (form.get("fulfillment") or {}).get("status")
            if current == target:
                finish.add(push, PushState.SKIPPED, fulfillment_status=target)
                return PushState.SKIPPED
            continue
        finish.add(push, PushState.SENT, fulfillment_status=target)
        return PushState.SENT
    raise AllegroConflict("revision kept changing")


def _reread(push: FulfillmentPush, channel: SalesChannel, order: Order) -> dict[str, Any]:
    """GET the checkout form (after a 409) and import it, so the order is current."""
    fetched_at = timezone.now()
    form = _allegro(push, channel, AllegroClient.get_checkout_form, order.external_id)
    upsert_order_from_checkout_form(channel, form, fetched_at=fetched_at)
    return form


def _find_shipment(
    push: FulfillmentPush, channel: SalesChannel, order: Order, shipment: Shipment
) -> AllegroShipment | None:
    """Our shipment on Allegro's order (same carrier and waybill), if it is there."""
    on_allegro = _allegro(push, channel, AllegroClient.list_shipments, order.external_id)
    for entry in on_allegro:
        if entry.waybill == shipment.waybill and entry.carrier_id == shipment.carrier_id:
            return entry
    return None


def send_shipment(
    push: FulfillmentPush, order: Order, channel: SalesChannel, finish: Finisher
) -> PushState:
    shipment = push.shipment
    assert shipment is not None
    if push.attempts > 1:
        # An earlier try may have reached Allegro (timeout, killed worker): look before posting.
        found = _find_shipment(push, channel, order, shipment)
        if found is not None:
            finish.add(push, PushState.SENT, shipment_external_id=found.id)
            return PushState.SENT
    try:
        shipment_id = _allegro(
            push,
            channel,
            AllegroClient.add_shipment,
            order.external_id,
            carrier_id=shipment.carrier_id,
            waybill=shipment.waybill,
            carrier_name=shipment.carrier_name,
            line_ids=shipment.line_ids,
        )
    except AllegroConflict as exc:
        # Already on the order (our earlier try), or the waybill is used too often elsewhere.
        found = _find_shipment(push, channel, order, shipment)
        if found is not None:
            finish.add(push, PushState.SENT, shipment_external_id=found.id)
            return PushState.SENT
        finish.add(push, PushState.FAILED, code=PushError.WAYBILL_USED, detail=exc.user_message)
        return PushState.FAILED
    finish.add(push, PushState.SENT, shipment_external_id=shipment_id)
    return PushState.SENT
