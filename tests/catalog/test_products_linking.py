"""Offers linked to products by SKU, then EAN; links by hand kept; a SKU changed on Allegro;
order lines linked when imported and when their offer is linked later."""

from __future__ import annotations

import pytest
from django_scopes import scope

from catalog.models import Offer, OfferLink
from catalog.services.linking import (
    ambiguous_eans,
    link_by_hand,
    link_offers,
    suggestions,
    unlink_by_hand,
)
from catalog.services.products import delete_products
from tests.catalog import helpers_products
from tests.catalog.helpers_products import (
    form_selling,
    import_forms,
    line_links,
    links_of,
    offer,
    product,
    refreshed,
)

pytestmark = pytest.mark.django_db

channel = helpers_products.channel
other_channel = helpers_products.other_channel
second_channel = helpers_products.second_channel


def _link(tenant, *offers: Offer) -> int:
    with scope(tenant=tenant):
        return link_offers(tenant.pk, [o.pk for o in offers])


def test_offers_link_by_sku_then_by_ean_each_with_its_own_outcome(tenant, channel):
    mug = product(tenant, "Kubek", sku="KUB-1", ean="5901234123457")
    plate = product(tenant, "Talerz", sku="TAL-1", ean="4006381333931")
    # Two products share one EAN: an offer with it is not linked.
    product(tenant, "Miska A", ean="96385074")
    product(tenant, "Miska B", ean="000096385074")
    by_sku = offer(channel, "1001", sku="KUB-1", ean="4006381333931")
    by_ean = offer(channel, "1002", sku="NIEZNANY", ean="4006381333931")
    padded_ean = offer(channel, "1003", ean="05901234123457")
    ambiguous = offer(channel, "1004", ean="96385074")
    other_case = offer(channel, "1005", sku="kub-1")
    nothing = offer(channel, "1006")

    offers = [by_sku, by_ean, padded_ean, ambiguous, other_case, nothing]
    assert _link(tenant, *offers) == 3

    assert links_of(by_sku) == (mug.pk, OfferLink.SKU)  # SKU first, although its EAN is a plate's
    assert links_of(by_ean) == (plate.pk, OfferLink.EAN)
    assert links_of(padded_ean) == (mug.pk, OfferLink.EAN)
    assert links_of(ambiguous) == (None, "")
    assert links_of(other_case) == (None, "")  # SKUs are compared exactly
    assert links_of(nothing) == (None, "")
    with scope(tenant=tenant):
        assert ambiguous_eans(tenant.pk, [refreshed(o) for o in offers]) == {ambiguous.pk}
    # Linking again changes nothing.
    assert _link(tenant, *offers) == 0


def test_a_link_by_hand_is_never_replaced_by_an_automatic_one(tenant, channel):
    mug = product(tenant, "Kubek", sku="KUB-1")
    plate = product(tenant, "Talerz")
    chosen = offer(channel, "2001", sku="KUB-1")
    refused = offer(channel, "2002", sku="KUB-1")
    with scope(tenant=tenant):
        assert link_by_hand(tenant.pk, [chosen.pk], plate.pk) == 1
        assert link_offers(tenant.pk, [refused.pk]) == 1
        assert unlink_by_hand(tenant.pk, [refused.pk]) == 1

    assert _link(tenant, chosen, refused) == 0
    assert links_of(chosen) == (plate.pk, OfferLink.MANUAL)
    assert links_of(refused) == (None, OfferLink.MANUAL)  # unlinked by hand stays unlinked
    assert mug.pk != plate.pk


def test_an_offer_whose_sku_changed_on_allegro_is_linked_again_or_unlinked(tenant, channel):
    mug = product(tenant, "Kubek", sku="KUB-1")
    plate = product(tenant, "Talerz", sku="TAL-1")
    moved = offer(channel, "3001", sku="KUB-1")
    gone = offer(channel, "3002", sku="TAL-1")
    assert _link(tenant, moved, gone) == 2
    with scope(tenant=tenant):
        # What the offers' importer stores when Allegro shows new SKUs.
        Offer.objects.filter(pk=moved.pk).update(sku="TAL-1")
        Offer.objects.filter(pk=gone.pk).update(sku="STARY")

    assert _link(tenant, moved, gone) == 1
    assert links_of(moved) == (plate.pk, OfferLink.SKU)
    assert links_of(gone) == (None, "")
    assert mug.pk != plate.pk


def test_order_lines_are_linked_when_the_orders_are_imported(tenant, channel, second_channel):
    mug = product(tenant, "Kubek", sku="KUB-1")
    plate = product(tenant, "Talerz", sku="TAL-1")
    linked = offer(channel, "4001", sku="KUB-1")
    _link(tenant, linked)
    unlinked = offer(channel, "4002")
    # The same offer id on another channel of the company is not this order's offer.
    elsewhere = offer(second_channel, "4003", sku="KUB-1")
    _link(tenant, elsewhere)

    (order,) = import_forms(
        channel,
        form_selling(("4001", "KUB-1", 1), ("4002", "", 2), ("4003", "", 1), ("9999", "TAL-1", 1)),
    )

    assert line_links(order) == [
        ("4001", linked.pk, mug.pk),
        ("4002", unlinked.pk, None),
        ("4003", None, None),
        ("9999", None, plate.pk),  # no such offer yet: the product by the line's SKU
    ]


def test_order_lines_are_linked_when_their_offer_is_imported_and_linked_later(tenant, channel):
    mug = product(tenant, "Kubek", sku="KUB-1")
    (order,) = import_forms(channel, form_selling(("5001", "", 1), ("5002", "", 1)))
    assert line_links(order) == [("5001", None, None), ("5002", None, None)]

    # The offers' importer stores the offers, then links them.
    first = offer(channel, "5001", sku="KUB-1")
    second = offer(channel, "5002")
    assert _link(tenant, first, second) == 1
    assert line_links(order) == [("5001", first.pk, mug.pk), ("5002", None, None)]

    # A product made for the other offer links its line too.
    from catalog.services.products import create_products_from_offers

    with scope(tenant=tenant):
        assert create_products_from_offers(tenant, [second.pk]) == 1
    made = refreshed(second).product_id
    assert line_links(order) == [("5001", first.pk, mug.pk), ("5002", second.pk, made)]


def test_an_updated_order_with_lines_without_product_gets_them_linked(tenant, channel):
    form = form_selling(("6001", "", 1))
    (order,) = import_forms(channel, form)
    mug = product(tenant, "Kubek", sku="KUB-1")
    # Not linked by the offers' importer (no offer yet), the line's SKU shows up on Allegro.
    form["lineItems"][0]["offer"]["external"] = {"id": "KUB-1"}
    form["status"] = "BOUGHT" if form["status"] != "BOUGHT" else "READY_FOR_PROCESSING"
    form["updatedAt"] = "2030-01-01T00:00:00.000Z"
    (again,) = import_forms(channel, form)
    assert again.pk == order.pk
    assert line_links(order) == [("6001", None, mug.pk)]


def test_a_line_keeps_the_product_it_sold_when_its_offer_is_linked_elsewhere(tenant, channel):
    mug = product(tenant, "Kubek", sku="KUB-1")
    plate = product(tenant, "Talerz")
    sold = offer(channel, "7001", sku="KUB-1")
    _link(tenant, sold)
    (order,) = import_forms(channel, form_selling(("7001", "KUB-1", 1)))
    with scope(tenant=tenant):
        link_by_hand(tenant.pk, [sold.pk], plate.pk)
    assert line_links(order) == [("7001", sold.pk, mug.pk)]


def test_deleting_a_product_unlinks_its_offers_first(tenant, channel):
    mug = product(tenant, "Kubek", sku="KUB-1")
    sold = offer(channel, "8001", sku="KUB-1")
    _link(tenant, sold)
    with scope(tenant=tenant):
        assert delete_products(tenant, [mug.pk]) == 1
    assert links_of(sold) == (None, "")


def test_suggestions_by_name_are_the_most_similar_products(tenant, channel):
    product(tenant, "Kubek ceramiczny biały 300 ml")
    product(tenant, "Kubek ceramiczny czarny 300 ml")
    product(tenant, "Rower górski")
    cup = offer(channel, "9001", name="Biały kubek ceramiczny 300ml")
    nameless = offer(channel, "9002", name="")
    with scope(tenant=tenant):
        found = suggestions(tenant.pk, [cup, nameless])
    assert [p.name for p in found[cup.pk]] == [
        "Kubek ceramiczny biały 300 ml",
        "Kubek ceramiczny czarny 300 ml",
    ]
    assert found[nameless.pk] == []


def test_linking_never_reaches_another_companys_offers_or_products(
    tenant, other_tenant, channel, other_channel
):
    theirs = product(other_tenant, "Kubek", sku="KUB-1")
    ours = offer(channel, "10001", sku="KUB-1")
    their_offer = offer(other_channel, "10002", sku="KUB-1")
    assert _link(tenant, ours, their_offer) == 0
    assert links_of(ours) == (None, "")
    assert links_of(their_offer) == (None, "")
    with scope(tenant=tenant):
        from catalog.services.linking import LinkError

        with pytest.raises(LinkError) as refused:
            link_by_hand(tenant.pk, [ours.pk], theirs.pk)
    assert refused.value.code == "product_missing"
