"""Template tags of the catalogue for pages other apps render: the channel page's card of the
channel's offers (what the import stored; no Allegro call while rendering)."""

from __future__ import annotations

from typing import Any

from django import template

from catalog.services.offers import import_view

register = template.Library()


@register.inclusion_tag("catalog/_channel_card.html", takes_context=True)
def offers_card(context: template.Context, channel: Any) -> dict[str, Any]:
    request = context.get("request")
    membership = getattr(request, "membership", None)
    return {
        "channel": channel,
        "tenant": context.get("tenant"),
        "csrf_token": context.get("csrf_token"),
        "can_import": membership is not None and membership.is_administrator,
        "offers_import": import_view(channel),
    }
