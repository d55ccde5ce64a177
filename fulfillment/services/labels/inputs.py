"""The shipment Allegro is asked to create (``ShipmentCreateRequestDto``): the courier
account's sender and defaults, Allegro's suggestion for the receiver and cash on delivery, the
parcels staff chose, the comment on the label; and the delivery option's limits, checked
before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from catalog.queries_products import parcel_size
from channels.clients.allegro import DeliveryOption
from core.renderer import render_for
from core.variables import Context, Objects
from fulfillment.models import CourierAccount
from orders.models import Order

# What carriers print of textOnLabel: Allegro documents no limit, the sandbox and the labels
# we have seen stop at 100 characters, so the text is cut there (with a preview of the cut).
TEXT_ON_LABEL_MAX = 100
# referenceNumber rules of the older API (REFERENCE §10): 35 of [A-Za-z0-9 _-]
REFERENCE_MAX = 35
MAX_PARCELS = 20


@dataclass(frozen=True)
class Parcel:
    package_type: str
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal
    weight_kg: Decimal

    def wire(self, text: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.package_type,
            "length": {"value": float(self.length_cm), "unit": "CENTIMETER"},
            "width": {"value": float(self.width_cm), "unit": "CENTIMETER"},
            "height": {"value": float(self.height_cm), "unit": "CENTIMETER"},
            "weight": {"value": float(self.weight_kg), "unit": "KILOGRAMS"},
        }
        if text:
            body["textOnLabel"] = text
        return body

    @classmethod
    def from_wire(cls, body: dict[str, Any]) -> Parcel:
        return cls(
            package_type=str(body.get("type") or "PACKAGE"),
            length_cm=_dec((body.get("length") or {}).get("value")),
            width_cm=_dec((body.get("width") or {}).get("value")),
            height_cm=_dec((body.get("height") or {}).get("value")),
            weight_kg=_dec((body.get("weight") or {}).get("value")),
        )


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return Decimal(0)


def default_parcel(account: CourierAccount, order: Order | None = None) -> Parcel:
    """The courier account's default parcel; for an order whose lines are all linked to
    products, with the weight of its products and the dimensions of the largest one where the
    products have them."""
    length, width, height = account.length_cm, account.width_cm, account.height_cm
    weight = account.weight_kg
    size = parcel_size(order) if order is not None else None
    if size is not None:
        if size.dimensions_cm is not None:
            length, width, height = size.dimensions_cm
        if size.weight_kg is not None and size.weight_kg > 0:
            # Labels take weights in 10 g steps: rounded up, a parcel is never lighter.
            weight = size.weight_kg.quantize(Decimal("0.01"), rounding=ROUND_UP)
    return Parcel(account.package_type, length, width, height, weight)


def label_text(order: Order) -> str:
    """The channel's default shipment comment for this order, as the label prints it: through
    the safe renderer (the waybill is not known yet and renders empty), one line, cut to what
    the carrier prints."""
    template = order.channel.default_shipment_comment or ""
    if not template:
        return ""
    text = render_for(template, Objects(order=order), Context.SHIPMENT_COMMENT)
    text = " ".join(text.split())
    return text[:TEXT_ON_LABEL_MAX]


def reference_number(order: Order) -> str:
    """The order number as ``referenceNumber`` where it fits the old rules (often not printed:
    the comment goes to textOnLabel)."""
    number = order.number or ""
    if 0 < len(number) <= REFERENCE_MAX and all(c.isalnum() or c in " _-" for c in number):
        return number
    return ""


def sender(account: CourierAccount) -> dict[str, Any]:
    body: dict[str, Any] = {
        "street": account.street,
        "postalCode": account.postal_code,
        "city": account.city,
        "countryCode": account.country_code,
        "email": account.email,
        "phone": account.phone,
    }
    if account.sender_name:
        body["name"] = account.sender_name
    if account.sender_company:
        body["company"] = account.sender_company
    if account.drop_off_point:
        body["point"] = account.drop_off_point
    return body


def order_value(order: Order) -> Decimal:
    return order.total_to_pay if order.total_to_pay is not None else Decimal(0)


def build_input(
    order: Order,
    account: CourierAccount,
    suggested: dict[str, Any],
    parcels: list[Parcel],
    text: str,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sender": sender(account),
        "receiver": dict(suggested.get("receiver") or {}),
        "packages": [p.wire(text) for p in parcels],
        "labelFormat": account.label_format,
    }
    reference = reference_number(order)
    if reference:
        body["referenceNumber"] = reference
    cod = suggested.get("cashOnDelivery")
    if isinstance(cod, dict) and cod.get("amount"):
        body["cashOnDelivery"] = {
            "amount": str(cod["amount"]),
            "currency": str(cod.get("currency") or order.currency or "PLN"),
            "ownerName": account.cod_owner,
            "iban": account.cod_iban,
        }
    if account.insure_order_value:
        value = order_value(order)
        if value > 0:
            body["insurance"] = {"amount": f"{value:.2f}", "currency": order.currency or "PLN"}
    return body


def limit_problems(
    parcels: list[Parcel], option: DeliveryOption | None, shipment_input: dict[str, Any]
) -> list[tuple[str, str]]:
    """What breaks the delivery option's limits, as (field, message), before sending."""
    out: list[tuple[str, str]] = []
    if not parcels:
        return [("parcels", _("Add at least one parcel."))]
    if len(parcels) > MAX_PARCELS:
        out.append(("parcels", _("At most %(n)d parcels per label.") % {"n": MAX_PARCELS}))
    for n, parcel in enumerate(parcels, start=1):
        sizes = [parcel.length_cm, parcel.width_cm, parcel.height_cm]
        if any(v <= 0 for v in sizes) or parcel.weight_kg <= 0:
            out.append(
                (f"parcel-{n}", _("Parcel %(n)d: enter its dimensions and weight.") % {"n": n})
            )
            continue
        if option is None:
            continue
        if option.max_dimensions_cm is not None:
            mine = sorted(float(v) for v in sizes)
            allowed = sorted(option.max_dimensions_cm)
            if any(a > b for a, b in zip(mine, allowed, strict=True)):
                dims = option.max_dimensions_cm
                out.append(
                    (
                        f"parcel-{n}",
                        _("Parcel %(n)d is larger than this delivery allows (%(dims)s cm).")
                        % {"n": n, "dims": "×".join(f"{d:g}" for d in dims)},
                    )
                )
        if option.max_weight_kg is not None and float(parcel.weight_kg) > option.max_weight_kg:
            out.append(
                (
                    f"parcel-{n}",
                    _("Parcel %(n)d weighs more than this delivery allows (%(kg)s kg).")
                    % {"n": n, "kg": f"{option.max_weight_kg:g}"},
                )
            )
    cod = shipment_input.get("cashOnDelivery") or {}
    if option is not None and cod:
        if option.cod_limit is not None and _dec(cod.get("amount")) > _dec(option.cod_limit):
            out.append(
                (
                    "cod",
                    _("The cash on delivery amount is above this delivery's limit (%(limit)s).")
                    % {"limit": option.cod_limit},
                )
            )
        if not cod.get("iban"):
            out.append(
                (
                    "cod",
                    _(
                        "This order is paid on delivery: enter the bank account for the cash "
                        "in the courier account."
                    ),
                )
            )
    insurance = shipment_input.get("insurance") or {}
    limit = option.insurance_limit if option is not None else None
    if insurance and limit is not None and _dec(insurance.get("amount")) > _dec(limit):
        out.append(
            (
                "insurance",
                _("The insurance is above this delivery's limit (%(limit)s).") % {"limit": limit},
            )
        )
    return out
