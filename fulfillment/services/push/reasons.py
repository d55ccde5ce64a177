"""A push's problem in the seller's words, and which problem an Allegro refusal is."""

from __future__ import annotations

from django.utils.translation import gettext as _

from channels.clients.allegro import AllegroError
from fulfillment.models import PushKind


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


def permanent_code(exc: AllegroError, kind: str) -> str:
    if exc.status == 404:
        return "not_found"
    if kind == PushKind.SHIPMENT:
        return "waybill_refused"
    if exc.code == "SellerOrdersStoreUnprocessableEntityException":
        return "change_limit"
    return "refused"
