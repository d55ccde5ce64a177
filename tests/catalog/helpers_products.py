"""Builders of the products' and linking tests: offers as the importer stores them, products
through their service, orders imported from checkout forms whose lines sell given offers."""

from __future__ import annotations

import copy
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django_scopes import scope

from catalog.models import Offer, OrderLineLink, Product
from catalog.services.products import ProductData, create_product
from channels.models import SalesChannel
from core.models import Tenant
from orders.ingest import upsert_orders_from_checkout_forms
from orders.models import Order
from tests.support.channels import channel_of
from tests.support.orders import checkout_form


def offer(channel: SalesChannel, external_id: str, **fields: Any) -> Offer:
    """An offer of the channel as the offers' importer stores it (no product yet)."""
    data: dict[str, Any] = {
        "name": f"Oferta {external_id}",
        "status": "ACTIVE",
        "price": Decimal("19.99"),
        "currency": "PLN",
        "stock_available": 5,
        "url": f"https://allegro.example/oferta/{external_id}",
    }
    data.update(fields)
    with scope(tenant=channel.tenant):
        return Offer.objects.create(
            tenant=channel.tenant, channel=channel, external_id=external_id, **data
        )


def product(tenant: Tenant, name: str = "Kubek", *, stock: int = 0, **fields: Any) -> Product:
    with scope(tenant=tenant):
        return create_product(tenant, ProductData(name=name, **fields), initial_stock=stock)


def refreshed(obj: Any) -> Any:
    with scope(tenant=obj.tenant):
        obj.refresh_from_db()
    return obj


def links_of(o: Offer) -> tuple[int | None, str]:
    o = refreshed(o)
    return o.product_id, o.link


def form_selling(*lines: tuple[str, str, int], form_id: str | None = None) -> dict[str, Any]:
    """A checkout form with one line per (offer id, SKU, quantity)."""
    form = checkout_form()
    if form_id:
        form["id"] = form_id
    template = form["lineItems"][0]
    form["lineItems"] = []
    for offer_id, sku, quantity in lines:
        item = copy.deepcopy(template)
        item["id"] = str(uuid.uuid4())
        item["offer"]["id"] = offer_id
        item["offer"]["name"] = f"Oferta {offer_id}"
        item["offer"]["external"] = {"id": sku} if sku else None
        item["quantity"] = quantity
        form["lineItems"].append(item)
    return form


def import_forms(channel: SalesChannel, *forms: dict[str, Any]) -> list[Order]:
    results = upsert_orders_from_checkout_forms(channel, list(forms)).results
    assert all(r.ok for r in results), [r.error for r in results]
    with scope(tenant=channel.tenant):
        return [Order.objects.get(pk=r.order_id) for r in results]


def line_links(order: Order) -> list[tuple[str, int | None, int | None]]:
    """(line's offer id, linked offer pk, linked product pk) per line, in line order."""
    with scope(tenant=order.tenant):
        return [
            (
                line.offer_id,
                getattr(OrderLineLink.objects.filter(line=line).first(), "offer_id", "none"),
                getattr(OrderLineLink.objects.filter(line=line).first(), "product_id", "none"),
            )
            for line in order.lines.order_by("position", "pk")
        ]


@pytest.fixture
def channel(tenant):
    return channel_of(tenant, "AL")


@pytest.fixture
def second_channel(tenant):
    return channel_of(tenant, "DR", "Allegro drugie")


@pytest.fixture
def other_channel(other_tenant):
    return channel_of(other_tenant, "BE", "Beta Allegro")


def link(tenant: Tenant, *external_ids: str) -> int:
    """Link the company's offers with these ids automatically, as the importer does."""
    from catalog.services.linking import link_offers

    with scope(tenant=tenant):
        ids = list(
            Offer.objects.filter(tenant=tenant, external_id__in=external_ids).values_list(
                "pk", flat=True
            )
        )
        return link_offers(tenant.pk, ids)
