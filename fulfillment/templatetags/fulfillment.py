"""Template tags of the fulfillment app, for pages other apps render: the order detail's
Allegro panel, timeline sentences of push and shipment entries, and the channel page's card."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from channels import allegro_names
from fulfillment.models import FulfillmentPush, PushKind, PushState, Shipment
from fulfillment.services.push import reason_text

register = template.Library()


@register.simple_tag
def push_reason(push: FulfillmentPush) -> str:
    return reason_text(push.error_code, push.error_detail) if push.error_code else ""


@register.simple_tag
def fulfillment_event_text(event: Any) -> str:
    """The sentence of a fulfillment_push / shipment_added timeline entry (active language)."""
    data = event.data or {}
    if event.kind == "shipment_added":
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
    return event.message or event.get_kind_display()


@register.inclusion_tag("fulfillment/_order_panel.html", takes_context=True)
def fulfillment_order_panel(context: template.Context, order: Any) -> dict[str, Any]:
    from fulfillment.forms import shipment_form_for
    from notifications.catalogue import Context as TextContext
    from notifications.catalogue import variables_for

    open_pushes = list(
        FulfillmentPush.objects.filter(
            tenant_id=order.tenant_id,
            order_id=order.pk,
            state__in=[PushState.PENDING, PushState.FAILED],
        )
        .select_related("shipment")
        .order_by("id")
    )
    return {
        "order": order,
        "tenant": context.get("tenant"),
        "csrf_token": context.get("csrf_token"),
        "shipments": list(
            Shipment.objects.filter(tenant_id=order.tenant_id, order_id=order.pk).order_by(
                "created_at", "id"
            )
        ),
        "open_pushes": open_pushes,
        # The order page already read the lines.
        "form": shipment_form_for(order, lines=context.get("lines")),
        "variables": variables_for(TextContext.SHIPMENT_COMMENT),
    }


@register.simple_tag
def fulfillment_channel_summary(channel: Any) -> dict[str, int]:
    rows = FulfillmentPush.objects.filter(
        tenant_id=channel.tenant_id,
        channel_id=channel.pk,
        state__in=[PushState.PENDING, PushState.FAILED],
    )
    return {
        "pending": rows.filter(state=PushState.PENDING).count(),
        "failed": rows.filter(state=PushState.FAILED).count(),
    }
