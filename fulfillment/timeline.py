"""Timeline sentences of the fulfillment app's entries (pushes to Allegro and shipments).

orders.events writes these entries and describes every kind of its own; the words for these two
live here, beside the push's reason texts, and FulfillmentConfig.ready registers them with
orders.events.register_describer (orders must not import fulfillment)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from channels import allegro_names
from fulfillment.models import PushKind, PushState
from fulfillment.services.labels.explain import opaque_text
from fulfillment.services.push import reason_text
from orders import events
from orders.models import OrderEvent, OrderEventKind


def fulfillment_event_text(event: OrderEvent) -> str:
    """The sentence of a fulfillment_push / shipment_added timeline entry (active language)."""
    data = event.data or {}
    if event.kind == OrderEventKind.SHIPMENT_ADDED:
        text = _("Shipment added: %(carrier)s, tracking number %(waybill)s.") % {
            "carrier": data.get("carrier", ""),
            "waybill": data.get("waybill", ""),
        }
        if data.get("to_allegro"):
            text += " " + _("It is being passed on to Allegro.")
        return text
    # "Sent" here means handed to Allegro, not a parcel sent: the sentences say "passed on".
    outcome = data.get("outcome")
    if data.get("kind") == PushKind.SHIPMENT:
        what = _("shipment %(waybill)s") % {"waybill": data.get("waybill", "")}
    else:
        what = _("fulfillment status “%(status)s”") % {
            "status": allegro_names.name("fulfillment", data.get("target")) or "—"
        }
    if outcome == PushState.SENT:
        return _("Passed on to Allegro: %(what)s.") % {"what": what}
    if outcome == PushState.SKIPPED:
        return _("Nothing to pass on to Allegro, it already shows %(what)s.") % {"what": what}
    if outcome == PushState.SUPERSEDED:
        return _(
            "Not passed on to Allegro: %(what)s. A later change (“%(later)s”) replaced it."
        ) % {
            "what": what,
            "later": allegro_names.name("fulfillment", data.get("replaced_by")) or "—",
        }
    if outcome == PushState.FAILED:
        return _("Could not pass on to Allegro: %(what)s. %(reason)s") % {
            "what": what,
            "reason": reason_text(data.get("error", ""), data.get("detail", "")),
        }
    return events.fallback(event)


def label_event_text(event: OrderEvent) -> str:
    """The sentence of a label timeline entry (Wysyłam z Allegro)."""
    data = event.data or {}
    outcome = data.get("outcome")
    waybills = ", ".join(data.get("waybills") or [])
    if outcome == "made":
        return _(
            "Label made through Wysyłam z Allegro: %(carrier)s, tracking number %(waybills)s."
        ) % {
            "carrier": data.get("carrier", ""),
            "waybills": waybills,
        }
    if outcome == "cancelled":
        return _("Label cancelled: shipment %(waybills)s.") % {"waybills": waybills or "—"}
    if outcome == "error":
        # our explanations of Allegro's opaque errors are put in words here, as read
        words = [
            opaque_text(fact.removeprefix("opaque:")) if fact.startswith("opaque:") else fact
            for fact in data.get("errors") or []
        ]
        return _("Allegro could not make the label: %(errors)s") % {
            "errors": " ".join(words) or "—"
        }
    return events.fallback(event)
