"""Template tags of the stock panel for pages of other parts: the product page's stock panel
and the channel page's card of "send stock to offers"."""

from __future__ import annotations

from typing import Any

from django import template

from catalog.forms_stock import StockChangeForm
from catalog.stock_queries import channel_stock_state, stock_panel

register = template.Library()


@register.inclusion_tag("catalog/_stock_panel.html", takes_context=True)
def product_stock_panel(context: template.Context, product: Any) -> dict[str, Any]:
    return {
        "tenant": context.get("tenant"),
        "csrf_token": context.get("csrf_token"),
        "panel": context.get("panel") or stock_panel(product),
        "form": context.get("form") or StockChangeForm(),
        "product": product,
    }


@register.inclusion_tag("catalog/_stock_push_card.html", takes_context=True)
def stock_push_card(context: template.Context, channel: Any) -> dict[str, Any]:
    enabled, scope_missing = channel_stock_state(channel.pk, channel.tenant_id)
    membership = context.get("request") and getattr(context["request"], "membership", None)
    return {
        "tenant": context.get("tenant"),
        "csrf_token": context.get("csrf_token"),
        "channel": channel,
        "enabled": enabled,
        "scope_missing": scope_missing,
        "is_administrator": bool(membership and membership.is_administrator),
    }
