"""A push's problem in the seller's words, and which problem an Allegro refusal is."""

from __future__ import annotations

from django.utils.translation import gettext as _

from channels.clients.allegro import AllegroError
from fulfillment.models import PushError, PushKind

# Problems Allegro explained: its own words go beside ours.
_WITH_ALLEGROS_WORDS = frozenset(
    {
        PushError.REFUSED,
        PushError.WAYBILL_REFUSED,
        PushError.CHANGE_LIMIT,
        PushError.WAYBILL_USED,
    }
)


def reason_text(code: str, detail: str = "") -> str:
    """A push's problem in words a seller understands (active language). A code this version
    does not know (a row written by another one) is shown as it is."""
    try:
        error = PushError(code)
    except ValueError:
        return code
    text = str(error.label)
    if detail and error in _WITH_ALLEGROS_WORDS:
        # Allegro's own words, as it sent them.
        text = _("%(reason)s (Allegro says: %(detail)s)") % {"reason": text, "detail": detail}
    return text


def permanent_code(exc: AllegroError, kind: str) -> PushError:
    """What a refusal (a 4xx other than 409 and 429) means for this push."""
    if exc.status == 404:
        return PushError.NOT_FOUND
    if kind == PushKind.SHIPMENT:
        return PushError.WAYBILL_REFUSED
    if exc.code == "SellerOrdersStoreUnprocessableEntityException":
        return PushError.CHANGE_LIMIT
    return PushError.REFUSED
