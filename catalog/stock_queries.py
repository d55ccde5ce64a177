"""What the stock panel shows: a product's timeline of changes (keyset pages, newest first) and
the pushes of each linked offer with their state. Reads only; a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.models import (
    ChannelCatalogState,
    Offer,
    OfferStockPush,
    Product,
    ProductStockChange,
)
from channels.clients.allegro import missing_stock_scopes
from channels.models import AllegroCredential

TIMELINE_PAGE = 50
PUSHES_PER_OFFER = 5


@dataclass
class OfferPushes:
    offer: Offer
    sends_stock: bool
    scope_missing: bool
    pushes: list[OfferStockPush] = field(default_factory=list)


@dataclass
class StockPanel:
    product: Product
    changes: list[ProductStockChange]
    older: int | None  # the ``before`` of the next page, or None
    offers: list[OfferPushes]


def stock_panel(product: Product, *, before: int | None = None) -> StockPanel:
    changes_qs = ProductStockChange.objects.filter(
        tenant_id=product.tenant_id, product_id=product.pk
    ).select_related("order", "actor")
    if before is not None:
        changes_qs = changes_qs.filter(pk__lt=before)
    rows = list(changes_qs.order_by("-id")[: TIMELINE_PAGE + 1])
    older = rows[TIMELINE_PAGE - 1].pk if len(rows) > TIMELINE_PAGE else None
    offers = list(
        Offer.objects.filter(tenant_id=product.tenant_id, product_id=product.pk)
        .select_related("channel")
        .order_by("channel_id", "id")
    )
    channel_ids = {o.channel_id for o in offers}
    sending = set(
        ChannelCatalogState.objects.filter(
            tenant_id=product.tenant_id, channel_id__in=channel_ids, stock_push_enabled=True
        ).values_list("channel_id", flat=True)
    )
    scopes = dict(
        AllegroCredential.objects.filter(channel_id__in=channel_ids).values_list(
            "channel_id", "scopes"
        )
    )
    pushes: dict[int, list[OfferStockPush]] = {o.pk: [] for o in offers}
    for push in OfferStockPush.objects.filter(
        tenant_id=product.tenant_id, offer_id__in=list(pushes)
    ).order_by("offer_id", "-id"):
        if len(pushes[push.offer_id]) < PUSHES_PER_OFFER:
            pushes[push.offer_id].append(push)
    return StockPanel(
        product=product,
        changes=rows[:TIMELINE_PAGE],
        older=older,
        offers=[
            OfferPushes(
                offer=o,
                sends_stock=o.channel_id in sending,
                scope_missing=o.channel_id in scopes
                and bool(missing_stock_scopes(scopes[o.channel_id])),
                pushes=pushes[o.pk],
            )
            for o in offers
        ],
    )


def channel_stock_state(channel_id: int, tenant_id: int) -> tuple[bool, bool]:
    """(sends stock, authorized without the scope to send it) of a channel."""
    enabled = ChannelCatalogState.objects.filter(
        tenant_id=tenant_id, channel_id=channel_id, stock_push_enabled=True
    ).exists()
    granted = (
        AllegroCredential.objects.filter(channel_id=channel_id)
        .values_list("scopes", flat=True)
        .first()
    )
    return enabled, granted is not None and bool(missing_stock_scopes(granted))
