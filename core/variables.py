"""The one catalogue of variables tenant-written text may use (DESIGN §3).

Shipment comments now, and e-mail templates later, name variables like ``{order.number}``. Every
name is listed here with what it means, an example value and the kinds of text it may appear in;
its value comes from an explicit function of the objects at hand, never from walking attributes,
so ``{order.__class__}`` or ``{order.channel.credentials}`` cannot reach anything: a name is
either in this table or a validation error.

The table is shown in the UI next to every field that accepts variables
(templates/fulfillment/_variables.html).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _


class Context:
    """Kinds of tenant-written text; each allows the variables its objects can fill in."""

    SHIPMENT_COMMENT = "shipment_comment"
    ORDER_MESSAGE = "order_message"


@dataclass(frozen=True)
class Objects:
    """What a text is rendered for. ``shipment`` may be a draft (waybill and carrier name only).

    ``extra`` holds values only a floor above core can compute, by variable name (notifications:
    the customer zone link and the tracking links); a name missing from it renders empty.
    """

    order: Any = None
    shipment: Any = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Variable:
    name: str
    description: Any  # lazy translated text
    example: str
    contexts: frozenset[str]
    value: Callable[[Objects], str]


def _created(o: Objects) -> str:
    bought = getattr(o.order, "bought_at", None)
    if bought is None:
        return ""
    return date_format(timezone.localtime(bought), "SHORT_DATE_FORMAT")


def _total(o: Objects) -> str:
    order = o.order
    return f"{order.total_to_pay} {order.currency}".strip()


def _buyer_name(o: Objects) -> str:
    return o.order.buyer_name or ""


def _carrier(o: Objects) -> str:
    return getattr(o.shipment, "carrier_label", "") or ""


def _waybill(o: Objects) -> str:
    return getattr(o.shipment, "waybill", "") or ""


def _status(o: Objects) -> str:
    status = getattr(o.order, "status", None)
    return status.shown_to_buyer if status is not None else ""


def _extra(name: str) -> Callable[[Objects], str]:
    def value(o: Objects) -> str:
        return o.extra.get(name, "")

    return value


def _money(amount: Any, currency: str) -> str:
    return "" if amount is None else f"{amount} {currency}".strip()


def _items(o: Objects) -> str:
    """One line per item: "2 × Kubek — 39.98 PLN"."""
    return "\n".join(
        f"{line.quantity} × {line.offer_name} — {_money(line.total, line.currency)}"
        for line in o.order.lines.all()
    )


def _delivery_cost(o: Objects) -> str:
    return _money(o.order.delivery_cost, o.order.currency)


def _address(address: Any) -> str:
    if not isinstance(address, dict) or not address:
        return ""
    rows = [
        " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p),
        address.get("company_name") or "",
        address.get("street") or "",
        " ".join(p for p in (address.get("zip_code"), address.get("city")) if p),
        address.get("country_code") or "",
    ]
    return "\n".join(str(r) for r in rows if r)


def _delivery_address(o: Objects) -> str:
    order = o.order
    if order.pickup_point_id or order.pickup_point_name:
        point = " ".join(p for p in (order.pickup_point_name, order.pickup_point_id) if p)
        return "\n".join(p for p in (point, _address(order.pickup_point_address)) if p)
    return _address(order.delivery_address)


_ALL = frozenset({Context.SHIPMENT_COMMENT, Context.ORDER_MESSAGE})
_SHIPMENT = frozenset({Context.SHIPMENT_COMMENT})
_MESSAGE = frozenset({Context.ORDER_MESSAGE})

VARIABLES: tuple[Variable, ...] = (
    Variable(
        "order.id",
        _("the order's number in apilo"),
        "AL2611000017",
        _ALL,
        lambda o: o.order.number,
    ),
    Variable(
        "order.number",
        _("the order's number in apilo (same as order.id)"),
        "AL2611000017",
        _ALL,
        lambda o: o.order.number,
    ),
    Variable(
        "order.external_id",
        _("the Allegro order (checkout form) id"),
        "29738e61-7f6a-11e8-ac45-09db60ede9d6",
        _ALL,
        lambda o: o.order.external_id,
    ),
    Variable(
        "order.created_at",
        _("the date the order was placed"),
        "12.11.2026",
        _ALL,
        _created,
    ),
    Variable("order.total", _("the order's total with currency"), "129.99 PLN", _MESSAGE, _total),
    Variable(
        "order.status", _("the order's status as the buyer sees it"), "Wysłane", _MESSAGE, _status
    ),
    Variable(
        "order.items",
        _("the items, one per line: quantity × name — value"),
        "2 × Kubek ceramiczny — 39.98 PLN",
        _MESSAGE,
        _items,
    ),
    Variable(
        "order.delivery_method",
        _("the delivery method the buyer chose"),
        "Paczkomaty InPost",
        _MESSAGE,
        lambda o: o.order.delivery_method_name,
    ),
    Variable(
        "order.delivery_cost",
        _("the delivery cost with currency"),
        "12.99 PLN",
        _MESSAGE,
        _delivery_cost,
    ),
    Variable(
        "order.delivery_address",
        _("where the parcel goes: the address, or the pickup point and its address"),
        "Jan Kowalski\nul. Długa 1\n00-001 Warszawa\nPL",
        _MESSAGE,
        _delivery_address,
    ),
    Variable(
        "order.tracking",
        _("every shipment of the order: carrier, tracking number and link, one per line"),
        "InPost 620123456789 https://inpost.pl/sledzenie-przesylek?number=620123456789",
        _MESSAGE,
        _extra("order.tracking"),
    ),
    Variable(
        "order.customer_zone_url",
        _("the link to the order's page for the buyer (channels with the customer zone on)"),
        "https://apilo.example/o/3q2-7wEj…",
        _MESSAGE,
        _extra("order.customer_zone_url"),
    ),
    Variable(
        "buyer.login",
        _("the buyer's Allegro login"),
        "jan_kowalski",
        _ALL,
        lambda o: o.order.buyer_login,
    ),
    Variable("buyer.name", _("the buyer's first and last name"), "Jan Kowalski", _ALL, _buyer_name),
    Variable(
        "shipment.waybill", _("the tracking (waybill) number"), "620123456789", _ALL, _waybill
    ),
    Variable("shipment.carrier", _("the carrier's name"), "InPost", _ALL, _carrier),
    Variable(
        "shipment.tracking_url",
        _("the carrier's tracking page of this shipment (empty for an unknown carrier)"),
        "https://inpost.pl/sledzenie-przesylek?number=620123456789",
        _MESSAGE,
        _extra("shipment.tracking_url"),
    ),
    Variable(
        "channel.name",
        _("the sales channel's name"),
        "Allegro – główne konto",
        _ALL,
        lambda o: o.order.channel.name,
    ),
    Variable(
        "channel.alias",
        _("the sales channel's alias"),
        "AL",
        _ALL,
        lambda o: o.order.channel.alias,
    ),
)

CATALOGUE: dict[str, Variable] = {v.name: v for v in VARIABLES}


def variables_for(context: str) -> list[Variable]:
    """The variables a kind of text may use, in catalogue order (for the UI)."""
    return [v for v in VARIABLES if context in v.contexts]


def names_for(context: str) -> frozenset[str]:
    return frozenset(v.name for v in VARIABLES if context in v.contexts)
