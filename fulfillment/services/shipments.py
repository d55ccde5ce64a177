"""Dodaj przesyłkę: a shipment with its tracking number, written with everything it causes.

The carrier's name comes from the channel's stored list of carriers, read before the
transaction: nothing here calls Allegro (the push does, after commit). In one transaction
(holding the order row): the shipment, its timeline entry, the push that posts it to Allegro,
and the move to the channel's shipment status, whose mapped Allegro status (SENT by default) is
pushed after the shipment.

The channel's "Pass shipment information to Allegro" option governs what Allegro learns about a
shipment: with it off, neither the tracking number nor the status move the shipment causes is
sent (the status changes only here). A status that staff pick by hand still follows its mapping.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import UserError
from core.renderer import TemplateProblem, problems, render, render_for, values_for
from core.variables import Context, Objects
from fulfillment.models import Shipment
from fulfillment.services import push as push_service
from fulfillment.services.carriers import OTHER, label_of
from fulfillment.services.mappings import shipment_status_for
from fulfillment.signals import shipment_added
from orders import events
from orders.changes import OrderStatusError, change_order_status
from orders.models import Order, OrderLine
from orders.search import add_tracking_number

WAYBILL = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]{0,63}")
CARRIER_NAME_MAX = 30


class ShipmentError(UserError):
    """A shipment the rules refuse; ``field`` is the form field of the add-shipment page."""


def comment_prefill(order: Order) -> str:
    """The channel's default comment with the order's variables filled in; the shipment's own
    variables stay as written and are filled in when the shipment is saved."""
    template = order.channel.default_shipment_comment or ""
    if not template:
        return ""
    keep = {"shipment.waybill": "{shipment.waybill}", "shipment.carrier": "{shipment.carrier}"}
    values = {
        name: value.replace("{", "{{").replace("}", "}}")
        for name, value in values_for(Objects(order=order), Context.SHIPMENT_COMMENT).items()
    }
    values.update(keep)
    return render(template, values)


def validate_fields(
    *, carrier_id: str, carrier_name: str, waybill: str, carriers: Sequence[str]
) -> None:
    if carrier_id not in carriers:
        raise ShipmentError(
            _("Choose a carrier from the list."), code="carrier_unknown", field="carrier_id"
        )
    if carrier_id == OTHER:
        if not carrier_name:
            raise ShipmentError(
                _("Enter the carrier's name."), code="carrier_name_missing", field="carrier_name"
            )
        if len(carrier_name) > CARRIER_NAME_MAX:
            raise ShipmentError(
                _("The carrier's name can have at most %(max)d characters.")
                % {"max": CARRIER_NAME_MAX},
                code="carrier_name_too_long",
                field="carrier_name",
            )
    if not WAYBILL.fullmatch(waybill):
        raise ShipmentError(
            _(
                "Enter the tracking number as the carrier gives it: 1 to 64 letters and digits "
                "(also - _ / .), without spaces."
            ),
            code="waybill_invalid",
            field="waybill",
        )


def add_shipment(
    order: Order,
    *,
    carrier_id: str,
    carrier_name: str,
    waybill: str,
    line_ids: Sequence[str] | None,
    comment: str,
    actor: User | None,
    carriers: Sequence[str],
) -> Shipment:
    """Add a shipment to ``order``. ``line_ids``: Allegro line ids in the parcel (None or every
    line = the whole order). Raises ShipmentError with a message for the seller."""
    carrier_name = (carrier_name or "").strip()
    waybill = (waybill or "").strip()
    validate_fields(
        carrier_id=carrier_id, carrier_name=carrier_name, waybill=waybill, carriers=carriers
    )
    found = problems(comment or "", Context.SHIPMENT_COMMENT)
    if found:
        raise ShipmentError(found[0].message, code=found[0].code, field="comment")
    if carrier_id != OTHER:
        carrier_name = label_of(order.channel, carrier_id)
    with transaction.atomic():
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related("channel", "status")
            .get(tenant_id=order.tenant_id, pk=order.pk)
        )
        all_lines = list(
            OrderLine.objects.filter(tenant_id=locked.tenant_id, order=locked).values_list(
                "external_id", flat=True
            )
        )
        chosen = [] if line_ids is None else [i for i in all_lines if i in set(line_ids)]
        if line_ids is not None and not chosen:
            raise ShipmentError(
                _("Choose at least one item for the parcel."), code="no_items", field="line_ids"
            )
        if set(chosen) == set(all_lines):
            chosen = []  # the whole order: Allegro takes an empty list as every item
        shipment = Shipment(
            tenant_id=locked.tenant_id,
            order=locked,
            channel_id=locked.channel_id,
            carrier_id=carrier_id,
            carrier_name=carrier_name,
            waybill=waybill,
            line_ids=chosen,
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=timezone.now(),
        )
        try:
            shipment.comment = render_for(
                comment or "", Objects(order=locked, shipment=shipment), Context.SHIPMENT_COMMENT
            )
        except TemplateProblem as exc:  # pragma: no cover - validated above
            raise ShipmentError(exc.message, code=exc.code, field="comment") from None
        try:
            with transaction.atomic():
                shipment.save()
        except IntegrityError:
            raise ShipmentError(
                _("This order already has a shipment with this carrier and tracking number."),
                code="waybill_taken",
                field="waybill",
            ) from None
        add_tracking_number(locked, waybill)
        passes = locked.channel.pass_shipment_info
        events.record_shipment_added(
            locked,
            shipment_id=shipment.pk,
            carrier=shipment.carrier_label,
            waybill=waybill,
            lines=len(chosen) or len(all_lines),
            to_allegro=passes,
            actor=shipment.created_by,
            at=shipment.created_at,
        )
        if passes:
            push_service.queue_shipment_push(shipment, actor)
        shipment_added.send(sender=Shipment, shipment=shipment, actor=shipment.created_by)
        target = shipment_status_for(locked.channel)
        if target is not None and target.pk != locked.status_id:
            # An inactive status: the shipment stands, the status stays.
            with contextlib.suppress(OrderStatusError):
                change_order_status(locked, target, actor, tell_allegro=passes)
    order.status = locked.status
    return shipment
