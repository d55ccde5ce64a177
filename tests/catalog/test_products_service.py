"""Products: SKU unique in the company, EANs checked, products made from offers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scope

from catalog.models import OfferLink, Product
from catalog.services.products import (
    ProductData,
    ProductError,
    create_product,
    create_products_from_offers,
    ean_is_valid,
    edit_product,
)
from tests.catalog import helpers_products
from tests.catalog.helpers_products import (
    links_of,
    offer,
    product,
    refreshed,
)

pytestmark = pytest.mark.django_db

channel = helpers_products.channel
other_channel = helpers_products.other_channel
second_channel = helpers_products.second_channel


@pytest.mark.parametrize(
    ("ean", "valid"),
    [
        ("5901234123457", True),
        ("5901234123458", False),
        ("96385074", True),
        ("036000291452", True),
        ("10012345678902", True),
        ("590123412345", False),  # 12 digits, wrong check digit
        ("59012341234", False),  # 11 digits
        ("590123412345a", False),
        ("５９０１２３４１２３４５７", False),  # not ASCII digits
    ],
)
def test_ean_check(ean, valid):
    assert ean_is_valid(ean) is valid


def test_a_sku_is_taken_once_per_company(tenant, other_tenant):
    product(tenant, "Kubek", sku="KUB-1")
    product(other_tenant, "Kubek", sku="KUB-1")  # another company's SKU is no clash
    with scope(tenant=tenant), pytest.raises(ProductError) as refused:
        create_product(tenant, ProductData(name="Drugi kubek", sku=" KUB-1 "))
    assert (refused.value.code, refused.value.field) == ("sku_taken", "sku")
    plate = product(tenant, "Talerz", sku="TAL-1")
    with scope(tenant=tenant), pytest.raises(ProductError) as refused:
        edit_product(plate, ProductData(name="Talerz", sku="KUB-1"))
    assert refused.value.code == "sku_taken"
    with scope(tenant=tenant):
        assert sorted(Product.objects.filter(tenant=tenant).values_list("sku", flat=True)) == [
            "KUB-1",
            "TAL-1",
        ]


def test_an_invalid_ean_is_refused_on_its_field(tenant):
    with scope(tenant=tenant), pytest.raises(ProductError) as refused:
        create_product(tenant, ProductData(name="Kubek", ean="5901234123458"))
    assert (refused.value.code, refused.value.field) == ("ean_invalid", "ean")


def test_editing_keeps_the_stock_and_links_offers_of_a_new_sku(tenant, channel):
    mug = product(tenant, "Kubek", sku="KUB-1", stock=7)
    waiting = offer(channel, "1", sku="KUB-2")
    with scope(tenant=tenant):
        edited = edit_product(
            mug, ProductData(name="Kubek duży", sku="KUB-2", weight_kg=Decimal("0.350"))
        )
    assert (edited.name, edited.sku, edited.stock, edited.weight_kg) == (
        "Kubek duży",
        "KUB-2",
        7,
        Decimal("0.350"),
    )
    assert links_of(waiting) == (mug.pk, OfferLink.SKU)


def test_a_new_product_links_the_offers_waiting_for_its_sku_or_ean(tenant, channel):
    by_sku = offer(channel, "1", sku="KUB-1")
    by_ean = offer(channel, "2", ean="5901234123457")
    mug = product(tenant, "Kubek", sku="KUB-1", ean="5901234123457", stock=3)
    assert links_of(by_sku) == (mug.pk, OfferLink.SKU)
    assert links_of(by_ean) == (mug.pk, OfferLink.EAN)
    assert refreshed(mug).stock == 3


def test_products_from_offers_one_per_sku_and_one_per_offer_without_sku(
    tenant, channel, second_channel
):
    a1 = offer(
        channel,
        "1",
        sku="KUB-1",
        name="Kubek",
        price=Decimal("20.00"),
        ean="5901234123457",
        stock_available=4,
    )
    a2 = offer(second_channel, "2", sku="KUB-1", name="Kubek (drugie konto)", stock_available=6)
    b = offer(channel, "3", sku="", name="Talerz bez SKU", stock_available=None, ean="123")
    c = offer(channel, "4", sku="", name="Miska bez SKU", stock_available=2)
    plate = product(tenant, "Talerz", sku="TAL-1")
    d = offer(channel, "5", sku="TAL-1", link="")  # the company has this SKU already

    with scope(tenant=tenant):
        assert create_products_from_offers(tenant, [a1.pk, a2.pk, b.pk, c.pk, d.pk]) == 3
        # Again: every offer has its product now, nothing is made twice.
        assert create_products_from_offers(tenant, [a1.pk, a2.pk, b.pk, c.pk, d.pk]) == 0
        rows = {
            p.name: (p.sku, p.ean, p.price, p.stock) for p in Product.objects.filter(tenant=tenant)
        }
    assert rows == {
        "Kubek": ("KUB-1", "5901234123457", Decimal("20.00"), 6),
        "Talerz bez SKU": ("", "", Decimal("19.99"), 0),
        "Miska bez SKU": ("", "", Decimal("19.99"), 2),
        "Talerz": ("TAL-1", "", None, 0),
    }
    mug_pk = links_of(a1)[0]
    assert links_of(a1) == (mug_pk, OfferLink.CREATED)
    assert links_of(a2) == (mug_pk, OfferLink.CREATED)
    assert links_of(b)[1] == links_of(c)[1] == OfferLink.CREATED
    assert links_of(b)[0] != links_of(c)[0]
    assert links_of(d) == (plate.pk, OfferLink.SKU)


def test_products_from_offers_never_uses_another_companys_offers(
    tenant, other_tenant, other_channel
):
    theirs = offer(other_channel, "1", sku="KUB-1")
    with scope(tenant=tenant):
        assert create_products_from_offers(tenant, [theirs.pk]) == 0
    with scope(tenant=other_tenant):
        assert Product.objects.filter(tenant=other_tenant).count() == 0
    assert links_of(theirs) == (None, "")
