"""Read side of the products list and the linking screen: search, filters and keyset
pagination (a page is the rows after a cursor on (name, id) or on id; no OFFSET, so a deep page
costs what the first one does). Every query names the tenant."""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from catalog.models import Offer, OrderLineLink, Product
from channels.models import SalesChannel
from orders.models import Order, OrderLine

PAGE_SIZE = 50
_MAX_ID = 2**63 - 1


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str = ""
    extra: dict[int, Any] = field(default_factory=dict)


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(text: str, kinds: tuple[type, ...]) -> tuple[Any, ...] | None:
    """The cursor's values if they are of the kinds given (else None: the first page)."""
    if not text or len(text) > 600:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != len(kinds):
        return None
    if not all(type(v) is k for v, k in zip(values, kinds, strict=True)):
        return None
    if not 0 < values[-1] <= _MAX_ID:
        return None
    return tuple(values)


def _text_search(q: str, fields: tuple[str, ...]) -> Q:
    condition = Q()
    for word in q.split():
        either = Q()
        for name in fields:
            either |= Q(**{f"{name}__icontains": word})
        condition &= either
    return condition


def products_page(
    tenant_id: int,
    *,
    q: str = "",
    linked: str = "",
    stock_zero: bool = False,
    channel_id: int | None = None,
    cursor: str = "",
) -> Page:
    rows: QuerySet[Product] = Product.objects.filter(tenant_id=tenant_id)
    if q.strip():
        rows = rows.filter(_text_search(q, ("name", "sku", "ean")))
    has_offers = Offer.objects.filter(tenant_id=tenant_id, product_id=OuterRef("pk"))
    if channel_id is not None:
        rows = rows.filter(Exists(has_offers.filter(channel_id=channel_id)))
    if linked == "yes":
        rows = rows.filter(Exists(has_offers))
    elif linked == "no":
        rows = rows.filter(~Exists(has_offers))
    if stock_zero:
        rows = rows.filter(stock__lte=0)
    after = decode_cursor(cursor, (str, int))
    if after is not None:
        name, pk = after
        rows = rows.filter(Q(name__gt=name) | Q(name=name, pk__gt=pk))
    found = list(rows.order_by("name", "pk")[: PAGE_SIZE + 1])
    page = Page(found[:PAGE_SIZE])
    if len(found) > PAGE_SIZE:
        last = page.rows[-1]
        page.next_cursor = encode_cursor(last.name, last.pk)
    counts: dict[int, int] = defaultdict(int)
    for product_id in Offer.objects.filter(
        tenant_id=tenant_id, product_id__in=[p.pk for p in page.rows]
    ).values_list("product_id", flat=True):
        counts[product_id] += 1
    page.extra = dict(counts)
    return page


def offers_page(
    tenant_id: int,
    *,
    q: str = "",
    show: str = "unlinked",
    channel_id: int | None = None,
    cursor: str = "",
) -> Page:
    """Offers still on Allegro: without a product (the default) or linked."""
    rows = Offer.objects.filter(tenant_id=tenant_id, removed_at__isnull=True).select_related(
        "channel", "product"
    )
    rows = rows.filter(product__isnull=show != "linked")
    if q.strip():
        rows = rows.filter(_text_search(q, ("name", "sku", "ean", "external_id")))
    if channel_id is not None:
        rows = rows.filter(channel_id=channel_id)
    after = decode_cursor(cursor, (int,))
    if after is not None:
        rows = rows.filter(pk__gt=after[0])
    found = list(rows.order_by("pk")[: PAGE_SIZE + 1])
    page = Page(found[:PAGE_SIZE])
    if len(found) > PAGE_SIZE:
        page.next_cursor = encode_cursor(page.rows[-1].pk)
    return page


def offers_of_product(product: Product) -> list[tuple[SalesChannel, list[Offer]]]:
    """The product's offers, per channel."""
    per: dict[int, tuple[SalesChannel, list[Offer]]] = {}
    for offer in (
        Offer.objects.filter(tenant_id=product.tenant_id, product_id=product.pk)
        .select_related("channel")
        .order_by("channel__name", "channel_id", "pk")
    ):
        per.setdefault(offer.channel_id, (offer.channel, []))[1].append(offer)
    return list(per.values())


def line_links(tenant_id: int, line_ids: list[int]) -> dict[int, OrderLineLink]:
    return {
        row.line_id: row
        for row in OrderLineLink.objects.filter(
            tenant_id=tenant_id, line_id__in=line_ids
        ).select_related("offer", "product")
    }


@dataclass(frozen=True)
class ParcelSize:
    """What an order's products say of its parcel; None where they do not say it."""

    weight_kg: Decimal | None
    dimensions_cm: tuple[Decimal, Decimal, Decimal] | None


def parcel_size(order: Order) -> ParcelSize | None:
    """The parcel of an order whose every line is linked to a product: the weight of all its
    items (when every product has one) and the dimensions of its largest product (by volume;
    the one product's for a single item). None when a line has no product."""
    lines = list(OrderLine.objects.filter(tenant_id=order.tenant_id, order_id=order.pk))
    if not lines:
        return None
    links = line_links(order.tenant_id, [line.pk for line in lines])
    items: list[tuple[Product, int]] = []
    for line in lines:
        link = links.get(line.pk)
        if link is None or link.product is None:
            return None
        items.append((link.product, line.quantity))
    weight: Decimal | None = None
    if all(p.weight_kg is not None for p, _ in items):
        weight = sum((p.weight_kg * n for p, n in items if p.weight_kg is not None), Decimal(0))
    sized = [
        (p.length_cm, p.width_cm, p.height_cm)
        for p, _ in items
        if p.length_cm is not None and p.width_cm is not None and p.height_cm is not None
    ]
    dimensions = max(sized, key=lambda d: (d[0] * d[1] * d[2], d)) if sized else None
    return ParcelSize(weight, dimensions)
