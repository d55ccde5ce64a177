"""Allegro's codes as the names a seller reads (channels.allegro_names), for any template:

    {% load allegro_names %}
    {{ order.fulfillment_status|allegro_name:"fulfillment" }}
        → <span title="PROCESSING">W realizacji</span>
    {{ order|payment_name }}
        → <span title="ONLINE · PAYU">Płatność online (PayU)</span>

The code stays in the title for whoever needs it; a code we have no name for is shown as it
came, in <code>.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from channels import allegro_names

register = template.Library()


@register.filter
def allegro_name(code: str | None, kind: str) -> SafeString | str:
    """The name of `code` in the table `kind` (fulfillment, checkout, event, payment, provider,
    wza_delivery, wza_payment, environment); "" for no code, so `|default:"—"` still works."""
    if not code:
        return ""
    if not allegro_names.is_known(kind, code):
        return format_html("<code>{}</code>", code)
    return format_html('<span title="{}">{}</span>', code, allegro_names.name(kind, code))


@register.filter
def payment_name(order: Any) -> SafeString | str:
    """An order's payment type with its provider, e.g. "Płatność online (PayU)"."""
    payment_type = getattr(order, "payment_type", "") or ""
    provider = getattr(order, "payment_provider", "") or ""
    if not payment_type and not provider:
        return ""
    codes = " · ".join(code for code in (payment_type, provider) if code)
    return format_html(
        '<span title="{}">{}</span>', codes, allegro_names.payment_name(payment_type, provider)
    )
