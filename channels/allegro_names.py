"""The names people read for Allegro's codes: the one place that turns an Allegro enum value
(PROCESSING, READY_FOR_PROCESSING, CASH_ON_DELIVERY, PAYU, …) into the words a seller sees in
Allegro's own panel, in the active language.

Forms, timeline sentences and templates (the `allegro_name` filter in
channels/templatetags/allegro_names.py) all read these tables, so a name is written once. The
code itself stays available to experts (a `title` attribute or a muted `<code>` next to it).

Every label has the message context "allegro", so a name here ("Sent" of a fulfillment status)
can be translated apart from the same English word elsewhere ("Sent" of an e-mail). The enums
are those of the checkout-form spec (/order/checkout-forms, /order/events).
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

# `fulfillment.status`: the seller's status of an order, as Allegro's order list names it.
FULFILLMENT_STATUSES: dict[str, Promise] = {
    "NEW": pgettext_lazy("allegro", "New"),
    "PROCESSING": pgettext_lazy("allegro", "Processing"),
    "READY_FOR_SHIPMENT": pgettext_lazy("allegro", "Ready for shipment"),
    "READY_FOR_PICKUP": pgettext_lazy("allegro", "Ready for pickup"),
    "SENT": pgettext_lazy("allegro", "Sent"),
    "PICKED_UP": pgettext_lazy("allegro", "Picked up"),
    "CANCELLED": pgettext_lazy("allegro", "Cancelled"),
    "SUSPENDED": pgettext_lazy("allegro", "Suspended"),
    "RETURNED": pgettext_lazy("allegro", "Returned"),
}

# The checkout form's own `status`: how far the buyer got with the purchase.
CHECKOUT_FORM_STATUSES: dict[str, Promise] = {
    "BOUGHT": pgettext_lazy("allegro", "Order placed"),
    "FILLED_IN": pgettext_lazy("allegro", "Awaiting payment"),
    "READY_FOR_PROCESSING": pgettext_lazy("allegro", "Ready for processing"),
    "CANCELLED": pgettext_lazy("allegro", "Cancelled"),
}

# Types of the order journal's events (/order/events).
ORDER_EVENT_TYPES: dict[str, Promise] = {
    "BOUGHT": pgettext_lazy("allegro", "Order placed"),
    "FILLED_IN": pgettext_lazy("allegro", "Awaiting payment"),
    "READY_FOR_PROCESSING": pgettext_lazy("allegro", "Ready for processing"),
    "BUYER_CANCELLED": pgettext_lazy("allegro", "Cancelled by the buyer"),
    "AUTO_CANCELLED": pgettext_lazy("allegro", "Cancelled automatically by Allegro"),
    "FULFILLMENT_STATUS_CHANGED": pgettext_lazy("allegro", "Fulfillment status changed"),
    "BUYER_MODIFIED": pgettext_lazy("allegro", "Changed by the buyer"),
}

# `payment.type`.
PAYMENT_TYPES: dict[str, Promise] = {
    "ONLINE": pgettext_lazy("allegro", "Online payment"),
    "CASH_ON_DELIVERY": pgettext_lazy("allegro", "Cash on delivery"),
    "WIRE_TRANSFER": pgettext_lazy("allegro", "Bank transfer"),
    "SPLIT_PAYMENT": pgettext_lazy("allegro", "Split payment"),
    "EXTENDED_TERM": pgettext_lazy("allegro", "Deferred payment"),
}

# `payment.provider`: who processed the payment. OFFLINE (cash on delivery, a plain transfer)
# adds nothing to the type's name, so it is not shown next to it (see payment_name).
PAYMENT_PROVIDERS: dict[str, Promise] = {
    "PAYU": pgettext_lazy("allegro", "PayU"),
    "P24": pgettext_lazy("allegro", "Przelewy24"),
    "AF": pgettext_lazy("allegro", "Allegro Finance"),
    "OFFLINE": pgettext_lazy("allegro", "outside Allegro"),
    "EPT": pgettext_lazy("allegro", "Allegro Pay Business"),
}

# Wysyłam z Allegro's delivery options (`deliveryOptions[]` of a delivery proposal): how the
# parcel reaches the buyer, and whether it is paid for in advance or on delivery.
WZA_DELIVERY_TYPES: dict[str, Promise] = {
    "DOOR": pgettext_lazy("allegro", "Courier to the door"),
    "APM": pgettext_lazy("allegro", "Parcel locker"),
    "PUDO": pgettext_lazy("allegro", "Pickup point"),
}
WZA_PAYMENT_TYPES: dict[str, Promise] = {
    "PREPAID": pgettext_lazy("allegro", "Paid in advance"),
    "POSTPAID": pgettext_lazy("allegro", "Cash on delivery"),
}

# The Allegro environments a deployment can configure (channels.clients.allegro).
ENVIRONMENTS: dict[str, Promise] = {
    "production": pgettext_lazy("allegro", "Allegro.pl"),
    "sandbox": pgettext_lazy("allegro", "Allegro Sandbox (test environment)"),
    "local": pgettext_lazy("allegro", "Allegro simulator on this server (for trying out)"),
}

TABLES: dict[str, dict[str, Promise]] = {
    "fulfillment": FULFILLMENT_STATUSES,
    "checkout": CHECKOUT_FORM_STATUSES,
    "event": ORDER_EVENT_TYPES,
    "payment": PAYMENT_TYPES,
    "provider": PAYMENT_PROVIDERS,
    "wza_delivery": WZA_DELIVERY_TYPES,
    "wza_payment": WZA_PAYMENT_TYPES,
    "environment": ENVIRONMENTS,
}


def is_known(kind: str, code: str | None) -> bool:
    return bool(code) and code in TABLES[kind]


def name(kind: str, code: str | None) -> str:
    """The name of an Allegro code of the given kind (a key of TABLES) in the active language;
    an unknown code is returned as it came (Allegro adds values), "" stays ""."""
    if not code:
        return ""
    label = TABLES[kind].get(code)
    return str(label) if label is not None else code


def choices(kind: str, codes: list[str] | None = None) -> list[tuple[str, Promise]]:
    """(code, name) pairs for a form's select, in the table's order (or the codes given)."""
    table = TABLES[kind]
    return [(code, table[code]) for code in (codes if codes is not None else list(table))]


def payment_name(payment_type: str | None, provider: str | None) -> str:
    """ "Płatność online (PayU)", "Za pobraniem": the type, and who processed it when that says
    something (not for OFFLINE)."""
    type_name = name("payment", payment_type)
    if not provider or provider == "OFFLINE":
        return type_name
    provider_name = name("provider", provider)
    if not type_name:
        return provider_name
    return f"{type_name} ({provider_name})"
