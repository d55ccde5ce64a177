"""The products' pages and the linking screen over HTTP: lists, forms, bulk actions, the order
page's products, the label form's defaults, and every page only for its company."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from catalog.models import OfferLink, Product
from fulfillment.models import CourierAccount
from fulfillment.services.labels.inputs import default_parcel
from tests.catalog import helpers_products
from tests.catalog.helpers_products import (
    form_selling,
    import_forms,
    links_of,
    offer,
    product,
    refreshed,
)

pytestmark = pytest.mark.django_db

channel = helpers_products.channel
other_channel = helpers_products.other_channel


def _client(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def _url(name: str, tenant, *args) -> str:
    return reverse(f"catalog:{name}", args=[tenant.slug, *args])


def test_a_new_product_from_the_form_and_its_refusals_on_their_fields(tenant, staff_user):
    c = _client(staff_user)
    product(tenant, "Kubek", sku="KUB-1")
    url = _url("product_create", tenant)
    assert c.get(url).status_code == 200
    r = c.post(url, {"name": "Drugi", "sku": "KUB-1", "ean": "5901234123458", "currency": "PLN"})
    assert r.status_code == 400
    assert r.context["form"].errors.as_data()["ean"][0].code == "ean_invalid"
    r = c.post(url, {"name": "Drugi", "sku": "KUB-1", "ean": "5901234123457", "currency": "PLN"})
    assert r.context["form"].errors.as_data()["sku"][0].code == "sku_taken"
    r = c.post(
        url,
        {
            "name": "Talerz",
            "sku": "TAL-1",
            "ean": "5901234123457",
            "weight_kg": "0.5",
            "length_cm": "30",
            "width_cm": "30",
            "height_cm": "3",
            "price": "25.00",
            "currency": "PLN",
            "initial_stock": "12",
        },
    )
    assert r.status_code == 302
    with scope(tenant=tenant):
        plate = Product.objects.get(tenant=tenant, sku="TAL-1")
    assert r["Location"] == _url("product", tenant, plate.pk)
    assert (plate.stock, plate.weight_kg, plate.height_cm) == (12, Decimal("0.500"), Decimal("3.0"))
    # The edit form has no stock: a stock sent along is ignored.
    r = c.post(
        _url("product_edit", tenant, plate.pk),
        {"name": "Talerz płytki", "sku": "TAL-1", "currency": "PLN", "stock": "99"},
    )
    assert r.status_code == 302
    plate = refreshed(plate)
    assert (plate.name, plate.stock, plate.ean, plate.weight_kg) == ("Talerz płytki", 12, "", None)


def test_the_products_list_searches_filters_and_pages(tenant, other_tenant, staff_user, channel):
    c = _client(staff_user)
    mug = product(tenant, "Kubek", sku="KUB-1", stock=3)
    bowl = product(tenant, "Miska", ean="5901234123457")
    product(other_tenant, "Kubek obcy", sku="KUB-2")
    offer(channel, "1", sku="KUB-1")
    helpers_products.link(tenant, "1")
    for n in range(55):
        product(tenant, f"Zestaw {n:02d}", stock=1)

    def names(query: str = "") -> list[str]:
        r = c.get(_url("products", tenant) + query)
        assert r.status_code == 200
        return [p.name for p, _ in r.context["rows"]]

    assert names()[:3] == ["Kubek", "Miska", "Zestaw 00"]
    assert len(names()) == 50
    first = c.get(_url("products", tenant))
    rest = names(f"?cursor={first.context['next_cursor']}")
    assert rest == [f"Zestaw {n:02d}" for n in range(48, 55)]
    assert names("?q=kub") == ["Kubek"]
    assert names("?q=5901234123457") == ["Miska"]
    assert names("?linked=yes") == ["Kubek"]
    assert names(f"?channel={channel.pk}") == ["Kubek"]
    assert names("?stock_zero=on") == ["Miska"]
    assert "Kubek obcy" not in first.content.decode()
    # A damaged cursor is the first page.
    assert names("?cursor=%%%") == names()
    assert mug.pk != bowl.pk


def test_the_product_page_shows_its_offers_per_channel_and_its_stock(tenant, staff_user, channel):
    mug = product(tenant, "Kubek", sku="KUB-1", stock=4)
    offer(channel, "777", sku="KUB-1", url="https://allegro.example/oferta/777")
    helpers_products.link(tenant, "777")
    page = _client(staff_user).get(_url("product", tenant, mug.pk)).content.decode()
    assert 'href="https://allegro.example/oferta/777"' in page
    assert channel.name in page
    assert '<strong data-field="stock">4</strong>' in page


def test_bulk_delete_takes_only_the_companys_products(tenant, other_tenant, staff_user, channel):
    mug = product(tenant, "Kubek", sku="KUB-1")
    theirs = product(other_tenant, "Kubek", sku="KUB-1")
    sold = offer(channel, "1", sku="KUB-1")
    helpers_products.link(tenant, "1")
    r = _client(staff_user).post(
        _url("products_bulk_delete", tenant), {"product_ids": [mug.pk, theirs.pk, "x"]}
    )
    assert r.status_code == 302
    with scope(tenant=other_tenant):
        assert Product.objects.filter(pk=theirs.pk).exists()
    with scope(tenant=tenant):
        assert not Product.objects.filter(pk=mug.pk).exists()
    assert links_of(sold) == (None, "")


def test_the_linking_screen_suggests_links_unlinks_and_creates_products(
    tenant, other_tenant, staff_user, channel, other_channel
):
    c = _client(staff_user)
    mug = product(tenant, "Kubek ceramiczny biały")
    product(tenant, "Miska A", ean="96385074")
    product(tenant, "Miska B", ean="000096385074")
    cup = offer(channel, "1", name="Kubek ceramiczny biały 300 ml")
    bowl = offer(channel, "2", name="Miska", ean="96385074")
    spare = offer(channel, "3", name="Łyżka", sku="LYZ-1")
    offer(other_channel, "4", name="Kubek ceramiczny obcy")

    page = c.get(_url("linking", tenant))
    rows = {o.external_id: ([p.name for p in s], amb) for o, s, amb in page.context["rows"]}
    assert rows == {
        "1": (["Kubek ceramiczny biały"], False),
        "2": (["Miska A", "Miska B"], True),
        "3": ([], False),
    }
    assert "Kubek ceramiczny obcy" not in page.content.decode()
    assert c.get(_url("linking", tenant) + "?q=LYZ").context["rows"][0][0].pk == spare.pk

    r = c.post(_url("link_offers", tenant), {"offer_ids": [cup.pk], "product": mug.pk})
    assert r.status_code == 302
    assert links_of(cup) == (mug.pk, OfferLink.MANUAL)
    r = c.post(_url("products_from_offers", tenant), {"offer_ids": [spare.pk], "back": "q=x"})
    assert r["Location"] == _url("linking", tenant) + "?q=x"
    made = links_of(spare)
    assert made[1] == OfferLink.CREATED
    linked = c.get(_url("linking", tenant) + "?show=linked")
    assert sorted(o.external_id for o, _, _ in linked.context["rows"]) == ["1", "3"]
    c.post(_url("unlink_offers", tenant), {"offer_ids": [cup.pk, spare.pk]})
    assert links_of(cup) == (None, OfferLink.MANUAL)
    assert links_of(spare) == (None, OfferLink.MANUAL)
    assert links_of(bowl) == (None, "")


def test_the_linking_screen_never_touches_another_companys_offers_or_products(
    tenant, other_tenant, staff_user, channel, other_channel
):
    c = _client(staff_user)
    ours = offer(channel, "1", sku="KUB-1")
    mine = product(tenant, "Mój")
    theirs_offer = offer(other_channel, "2", sku="KUB-1")
    theirs = product(other_tenant, "Obcy", sku="KUB-9")
    c.post(_url("link_offers", tenant), {"offer_ids": [ours.pk], "product": theirs.pk})
    assert links_of(ours) == (None, "")
    c.post(_url("link_offers", tenant), {"offer_ids": [theirs_offer.pk], "product": mine.pk})
    c.post(_url("products_from_offers", tenant), {"offer_ids": [theirs_offer.pk]})
    assert links_of(theirs_offer) == (None, "")
    with scope(tenant=other_tenant):
        helpers_products.link(other_tenant, "2")
    c.post(_url("unlink_offers", tenant), {"offer_ids": [theirs_offer.pk]})
    assert links_of(theirs_offer)[0] is None  # nothing matched KUB-1 in their catalogue
    with scope(tenant=other_tenant):
        assert Product.objects.filter(tenant=other_tenant).count() == 1


@pytest.mark.parametrize("name", ["product", "product_edit", "product_delete"])
def test_another_companys_product_answers_404(tenant, other_tenant, staff_user, name):
    theirs = product(other_tenant, "Obcy")
    c = _client(staff_user)
    statuses = {
        c.get(_url(name, tenant, theirs.pk)).status_code,
        c.post(_url(name, tenant, theirs.pk), {"name": "x", "currency": "PLN"}).status_code,
    }
    assert statuses <= {404, 405} and 404 in statuses
    assert refreshed(theirs).name == "Obcy"


def test_the_order_page_shows_each_lines_product_and_offer(tenant, staff_user, channel):
    mug = product(tenant, "Kubek biały", sku="KUB-1")
    offer(channel, "501", sku="KUB-1", url="https://allegro.example/oferta/501")
    helpers_products.link(tenant, "501")
    (order,) = import_forms(channel, form_selling(("501", "KUB-1", 1), ("502", "", 1)))
    page = _client(staff_user).get(reverse("orders:detail", args=[tenant.slug, order.pk]))
    html = page.content.decode()
    product_url = _url("product", tenant, mug.pk)
    assert f'<a href="{product_url}" data-field="line-product"><bdi>Kubek biały</bdi></a>' in html
    assert 'href="https://allegro.example/oferta/501"' in html
    assert '<span class="muted" data-field="line-product">no product</span>' in html


def _account(channel) -> CourierAccount:
    with scope(tenant=channel.tenant):
        return CourierAccount.objects.create(
            tenant=channel.tenant,
            channel=channel,
            name="Kurier",
            sender_name="Jan",
            street="Główna 30",
            postal_code="60-166",
            city="Poznań",
            email="w@example.com",
            phone="500600700",
            length_cm=Decimal(30),
            width_cm=Decimal(20),
            height_cm=Decimal(10),
            weight_kg=Decimal(1),
        )


def test_the_label_form_takes_weight_and_dimensions_of_the_orders_products(
    tenant, admin_user, channel
):
    account = _account(channel)
    product(
        tenant,
        "Kubek",
        sku="KUB-1",
        weight_kg=Decimal("0.355"),
        length_cm=Decimal("12"),
        width_cm=Decimal("10"),
        height_cm=Decimal("10"),
    )
    product(
        tenant,
        "Talerz",
        sku="TAL-1",
        weight_kg=Decimal("0.800"),
        length_cm=Decimal("28"),
        width_cm=Decimal("28"),
        height_cm=Decimal("3"),
    )
    product(tenant, "Bez wagi", sku="BW-1")
    (single, both, partly, unlinked) = import_forms(
        channel,
        form_selling(("1", "KUB-1", 1)),
        form_selling(("1", "KUB-1", 2), ("2", "TAL-1", 1)),
        form_selling(("1", "KUB-1", 1), ("3", "BW-1", 1)),
        form_selling(("9", "", 1)),
    )
    with scope(tenant=tenant):
        sizes = {
            name: (p.length_cm, p.width_cm, p.height_cm, p.weight_kg)
            for name, p in {
                "single": default_parcel(account, single),
                "both": default_parcel(account, both),
                "partly": default_parcel(account, partly),
                "unlinked": default_parcel(account, unlinked),
                "no order": default_parcel(account),
            }.items()
        }
    assert sizes == {
        "single": (Decimal("12.0"), Decimal("10.0"), Decimal("10.0"), Decimal("0.36")),
        # 2 × 0.355 + 0.800 kg; the plate is the larger box (28 × 28 × 3 > 12 × 10 × 10)
        "both": (Decimal("28.0"), Decimal("28.0"), Decimal("3.0"), Decimal("1.51")),
        # one product without a weight: the account's weight, the mug's dimensions
        "partly": (Decimal("12.0"), Decimal("10.0"), Decimal("10.0"), Decimal("1")),
        "unlinked": (Decimal(30), Decimal(20), Decimal(10), Decimal(1)),
        "no order": (Decimal(30), Decimal(20), Decimal(10), Decimal(1)),
    }
    page = _client(admin_user).get(reverse("fulfillment:label", args=[tenant.slug, both.pk]))
    assert page.status_code == 200
    assert page.context["parcels"].forms[0].initial["weight_kg"] == Decimal("1.51")
    assert page.context["parcels"].forms[0].initial["length_cm"] == Decimal("28.0")
