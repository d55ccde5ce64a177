"""Template tags of the fulfillment app, for pages other apps render: the order detail's
Allegro panel and the channel page's card (timeline sentences: fulfillment.timeline)."""

from __future__ import annotations

from typing import Any

from django import template

from core.variables import Context as TextContext
from core.variables import variables_for
from fulfillment.forms import shipment_form_for
from fulfillment.models import FulfillmentPush, PushState, Shipment
from fulfillment.services.labels.queries import panel_context
from fulfillment.services.push import reason_text

register = template.Library()


@register.simple_tag
def push_reason(push: FulfillmentPush) -> str:
    return reason_text(push.error_code, push.error_detail) if push.error_code else ""


@register.inclusion_tag("fulfillment/_order_panel.html", takes_context=True)
def fulfillment_order_panel(context: template.Context, order: Any) -> dict[str, Any]:
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
        **panel_context(order),
        "request": context.get("request"),
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
