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

from collections.abc import Callable
from dataclasses import dataclass
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
    """What a text is rendered for. ``shipment`` may be a draft (waybill and carrier name only)."""

    order: Any = None
    shipment: Any = None


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
