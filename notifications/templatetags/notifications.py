"""Template tags of the notifications app for pages other apps render: the channel page's card
of its sender address (what the refresh task stored; no Allegro call while rendering)."""

from __future__ import annotations

from typing import Any

from django import template

from notifications.models import SenderRegistration
from notifications.registration import missing_scope_problem, problem_text, sender_address

register = template.Library()


@register.inclusion_tag("notifications/_sender_card.html", takes_context=True)
def sender_address_card(context: template.Context, channel: Any) -> dict[str, Any]:
    stored = SenderRegistration.objects.filter(channel=channel).first()
    address = sender_address(channel)
    # What the stored authorization lacks is known without asking Allegro: said at once.
    missing = missing_scope_problem(channel) if channel.is_connected else ""
    return {
        "channel": channel,
        "tenant": context.get("tenant"),
        "csrf_token": context.get("csrf_token"),
        "address": address,
        "mailbox": channel.mailbox,
        "stored": stored,
        "registered": stored is not None
        and stored.refreshed_at is not None
        and stored.is_registered(address),
        "problem": problem_text(missing)
        if missing
        else problem_text(stored.problem)
        if stored is not None and stored.problem
        else "",
    }
