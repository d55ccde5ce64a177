"""Template tags of notifications for pages other apps render: the customer zone link on the
order page and the channel page's card of customer mails (categories Allegro forbids)."""

from __future__ import annotations

from typing import Any

from django import template

from notifications import customer_zone
from notifications.models import FORBIDDEN_ON_ALLEGRO, Category
from notifications.template_sets import allowances_of, is_forbidden_for

register = template.Library()


@register.simple_tag
def customer_zone_url(order: Any) -> str:
    """The order's customer zone address ("" when its channel has the zone off). The first
    view of an order without a link creates it (a row, no outside call)."""
    return customer_zone.url_for(order)


@register.inclusion_tag("notifications/_channel_card.html", takes_context=True)
def customer_mails_card(context: template.Context, channel: Any) -> dict[str, Any]:
    allowances = allowances_of(channel)
    categories = [
        (value, label, allowances.get(value))
        for value, label in Category.choices
        if value in FORBIDDEN_ON_ALLEGRO
    ]
    return {
        "channel": channel,
        "tenant": context.get("tenant"),
        "csrf_token": context.get("csrf_token"),
        "guarded": is_forbidden_for(channel, Category.ORDER_CONFIRMATION),
        "categories": categories,
        "template_set": channel.template_set,
    }
