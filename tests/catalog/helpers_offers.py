"""Helpers of the offer import tests: the sandbox seller, running a sweep and the events poll
in the tenant's scope the way their tasks do, and reading what was stored."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django_scopes import scope, scopes_disabled

from catalog.models import ChannelCatalogState, Offer
from catalog.services import offers
from channels.models import SalesChannel

CLIENT_ID = "apilo-catalog-test"
SELLER = "catalog-seller"
SELLER_PASSWORD = "catalog-password-1"
SELLER_ID = "70000001"
CHANNEL = {"name": "Allegro oferty", "alias": "AO", "allegro_login": SELLER, "backfill_days": 0}


def state_of(channel: SalesChannel) -> ChannelCatalogState:
    with scopes_disabled():
        return ChannelCatalogState.objects.get(channel_id=channel.pk)


def run_sweep(channel: SalesChannel, *, max_pages: int = 200) -> int:
    """Run the channel's current sweep page by page, as its chained tasks do; the pages run."""
    run = state_of(channel).sweep_run
    with scope(tenant=channel.tenant):
        for pages in range(1, max_pages + 1):
            step = offers.sweep_page(channel.pk, run)
            assert step.retry_in is None, state_of(channel).last_error
            if not step.again:
                return pages
    raise AssertionError("the sweep did not end")


def poll(channel: SalesChannel) -> offers.Step:
    with scope(tenant=channel.tenant):
        return offers.poll_offer_events(channel.pk)


def stored(channel: SalesChannel) -> dict[str, Offer]:
    with scopes_disabled():
        return {o.external_id: o for o in Offer.objects.filter(channel_id=channel.pk)}


def listing_fields(offer: Offer) -> dict[str, Any]:
    return {
        "name": offer.name,
        "status": offer.status,
        "price": offer.price,
        "currency": offer.currency,
        "stock_available": offer.stock_available,
        "sku": offer.sku,
        "category_id": offer.category_id,
        "image_url": offer.image_url,
    }


def sandbox_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """What the sandbox's own record of an offer says the listing shows."""
    return {
        "name": raw["name"],
        "status": raw["status"],
        "price": Decimal(f"{raw['price']:.2f}"),
        "currency": raw["currency"],
        "stock_available": raw["available"],
        "sku": raw["external_id"] or "",
        "category_id": raw["category"],
        "image_url": raw["image"],
    }
