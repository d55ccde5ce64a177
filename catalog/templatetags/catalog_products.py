"""Template tags of the catalogue's products, for pages other apps render: the order page's
product and offer of each line (orders knows nothing of the catalogue; its template loads
this library)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template

from catalog.models import OrderLineLink
from catalog.queries_products import line_links

register = template.Library()


@register.simple_tag
def catalog_line_links(lines: Sequence[Any]) -> dict[int, OrderLineLink]:
    """The lines' links to offers and products, in one query: line id → link."""
    if not lines:
        return {}
    return line_links(lines[0].tenant_id, [line.pk for line in lines])


@register.inclusion_tag("catalog/_line_product.html", takes_context=True)
def catalog_line_product(
    context: template.Context, links: dict[int, OrderLineLink], line: Any
) -> dict[str, Any]:
    link = links.get(line.pk)
    return {
        "tenant": context.get("tenant"),
        "line": line,
        "product": link.product if link is not None else None,
        "offer": link.offer if link is not None else None,
    }
