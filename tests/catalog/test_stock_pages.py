"""The stock pages: the product's stock panel and timeline, the change by hand, the channel's
"send stock to offers" switch (administrators only), each isolated per company."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from catalog.models import OfferStockPush, StockPushState, StockReason
from catalog.services.stock import change_stock
from tests.catalog.helpers_stock import changes_of, offer_of, product_of, pushes_of, send_stock
from tests.support.channels import channel_of

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_stock_page_shows_the_timeline_and_each_offers_pushes(tenant, admin_user):
    channel = channel_of(tenant)
    send_stock(channel)
    product = product_of(tenant, "Kubek", stock=5)
    offer = offer_of(channel, "12345", product)
    with scope(tenant=tenant):
        change_stock(
            product, delta=-2, reason=StockReason.MANUAL, actor=admin_user, note="stłuczka"
        )
        OfferStockPush.objects.filter(offer=offer).update(
            state=StockPushState.FAILED, error_code="refused", error_detail="Oferta zakończona."
        )
    page = _client(admin_user).get(reverse("catalog:product_stock", args=[tenant.slug, product.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-field="stock">3<' in html
    assert 'data-reason="manual"' in html and "stłuczka" in html
    assert 'data-field="delta">-2<' in html
    assert 'data-state="failed"' in html and "Oferta zakończona." in html


def test_a_change_by_hand_sets_or_adds(tenant, staff_user):
    product = product_of(tenant, stock=5)
    client = _client(staff_user)
    url = reverse("catalog:product_stock_change", args=[tenant.slug, product.pk])
    assert client.post(url, {"mode": "set", "amount": "12", "note": "dostawa"}).status_code == 302
    assert client.post(url, {"mode": "add", "amount": "-4", "note": ""}).status_code == 302
    refused = client.post(url, {"mode": "set", "amount": "-1"})
    zero = client.post(url, {"mode": "add", "amount": "0"})
    assert (refused.status_code, zero.status_code) == (400, 400)
    assert [c[:3] for c in changes_of(product)] == [("manual", 7, 12), ("manual", -4, 8)]


def test_another_companys_product_is_not_found(tenant, other_tenant, admin_user):
    theirs = product_of(other_tenant, stock=5)
    client = _client(admin_user)
    for name in ("catalog:product_stock", "catalog:product_stock_change"):
        url = reverse(name, args=[tenant.slug, theirs.pk])
        response = (
            client.post(url, {"mode": "set", "amount": "1"})
            if "change" in name
            else client.get(url)
        )
        assert response.status_code == 404, name
    assert changes_of(theirs) == []


def test_the_switch_is_for_administrators_and_queues_the_linked_offers(
    tenant, admin_user, staff_user
):
    channel = channel_of(tenant)
    product = product_of(tenant, stock=4)
    offer = offer_of(channel, "12345", product)
    url = reverse("catalog:stock_push_switch", args=[tenant.slug, channel.pk])
    assert _client(staff_user).post(url, {"enabled": "on"}).status_code == 403
    assert pushes_of(offer) == []
    admin = _client(admin_user)
    assert admin.post(url, {"enabled": "on"}).status_code == 302
    assert [(p.quantity, p.state) for p in pushes_of(offer)] == [(4, StockPushState.PENDING)]
    card = admin.get(reverse("administration:channels:detail", args=[tenant.slug, channel.pk]))
    assert 'data-field="stock-push">' in card.content.decode()
    assert admin.post(url, {"enabled": "off"}).status_code == 302
    with scope(tenant=tenant):
        change_stock(product, delta=1, reason=StockReason.MANUAL)
    assert len(pushes_of(offer)) == 1


def test_another_companys_channel_cannot_be_switched(tenant, other_tenant, admin_user):
    theirs = channel_of(other_tenant)
    url = reverse("catalog:stock_push_switch", args=[tenant.slug, theirs.pk])
    assert _client(admin_user).post(url, {"enabled": "on"}).status_code == 404
