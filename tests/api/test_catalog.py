"""Offers and products through the API: exact bodies, filters, cursor pages, ETags, writes
through the catalogue's services, Idempotency-Key replays of stock changes, and another
company's ids answering 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django_scopes import scope
from rest_framework import serializers

from api import keys
from api.models import IdempotentRequest, KeyScope
from catalog.models import Offer, Product, ProductStockChange
from catalog.services.stock import change_stock
from tests.api.helpers import api
from tests.catalog.helpers_products import offer, product, refreshed
from tests.support.channels import channel_of

SEEN = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _json(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def ids(response):
    return [row["id"] for row in _json(response)["results"]]


def _offer_body(o: Offer) -> dict:
    channel = o.channel
    return {
        "id": o.pk,
        "channel": {"id": channel.pk, "name": channel.name, "alias": channel.alias},
        "offer_id": o.external_id,
        "name": o.name,
        "status": o.status,
        "price": f"{o.price:.2f}" if o.price is not None else None,
        "currency": o.currency,
        "stock_available": o.stock_available,
        "sku": o.sku,
        "ean": o.ean,
        "category_id": o.category_id,
        "image_url": o.image_url,
        "url": o.url,
        "product_id": o.product_id,
        "removed_at": _at(o.removed_at) if o.removed_at else None,
        "last_seen_at": _at(o.last_seen_at),
    }


def _at(value: dt.datetime) -> str:
    """As the API writes a time (ISO 8601 in the site's time zone)."""
    return serializers.DateTimeField().to_representation(value)


@pytest.fixture
def offers(tenant):
    """Four offers of two channels: a linked one, one without stock, one removed."""
    al, be = channel_of(tenant, "AL", "Allegro AL"), channel_of(tenant, "BE", "Allegro BE")
    kubek = product(tenant, "Kubek", sku="KUB-1")
    made = [
        offer(al, "1001", name="Kubek biały", sku="KUB-1", last_seen_at=SEEN),
        offer(al, "1002", name="Talerz", sku="TAL-1", ean="5901234123457", last_seen_at=SEEN),
        offer(be, "2001", name="Miska", status="ENDED", stock_available=0, last_seen_at=SEEN),
        offer(be, "2002", name="Dzbanek", removed_at=SEEN, last_seen_at=SEEN),
    ]
    with scope(tenant=tenant):
        Offer.objects.filter(pk=made[0].pk).update(product=kubek, link="sku")
    return [refreshed(o) for o in made]


def test_the_offer_list_answers_exact_rows_and_filters(offers, write_key):
    client, url = api(write_key), reverse("api:offers")
    linked, plate, bowl, jug = offers
    first = _json(client.get(url))
    assert first == {
        "next_cursor": None,
        "previous_cursor": None,
        "results": [_offer_body(bowl), _offer_body(plate), _offer_body(linked)],
    }
    assert first["results"][2]["product_id"] == linked.product_id is not None
    assert first["results"][1]["price"] == "19.99"
    assert ids(client.get(url, {"channel": bowl.channel_id})) == [bowl.pk]
    assert ids(client.get(url, {"status": "ENDED"})) == [bowl.pk]
    assert ids(client.get(url, {"sku": "TAL-1"})) == [plate.pk]
    assert ids(client.get(url, {"ean": "5901234123457"})) == [plate.pk]
    assert ids(client.get(url, {"linked": "true"})) == [linked.pk]
    assert ids(client.get(url, {"linked": "false"})) == [bowl.pk, plate.pk]
    assert ids(client.get(url, {"q": "kubek"})) == [linked.pk]
    assert ids(client.get(url, {"q": "1002"})) == [plate.pk]
    assert ids(client.get(url, {"q": "tal-1"})) == [plate.pk]
    assert ids(client.get(url, {"stock_zero": "true"})) == [bowl.pk]
    assert ids(client.get(url, {"removed": "true"})) == [jug.pk]
    assert _json(client.get(url, {"removed": "true"}))["results"][0]["removed_at"] == _at(SEEN)
    assert _json(client.get(url, {"status": "SOLD"}), 400) == {
        "code": "invalid_choice",
        "message": '"SOLD" is not a valid choice.',
        "field": "status",
    }


def test_offer_pages_follow_their_cursors_both_ways(tenant, write_key):
    channel = channel_of(tenant)
    made = [offer(channel, str(3000 + n)) for n in range(5)]
    newest_first = [o.pk for o in reversed(made)]
    client, url = api(write_key), reverse("api:offers")
    one = _json(client.get(url, {"limit": 2}))
    assert [r["id"] for r in one["results"]] == newest_first[:2]
    assert one["previous_cursor"] is None
    two = _json(client.get(url, {"limit": 2, "cursor": one["next_cursor"]}))
    assert [r["id"] for r in two["results"]] == newest_first[2:4]
    three = _json(client.get(url, {"limit": 2, "cursor": two["next_cursor"]}))
    assert [r["id"] for r in three["results"]] == newest_first[4:]
    assert three["next_cursor"] is None
    back = _json(client.get(url, {"limit": 2, "cursor": three["previous_cursor"]}))
    assert [r["id"] for r in back["results"]] == newest_first[2:4]
    assert (
        _json(client.get(url, {"limit": 2, "cursor": back["previous_cursor"]}))["results"]
        == (one["results"])
    )
    # A products cursor is not an offers cursor.
    products_cursor = _json(client.get(reverse("api:offers"), {"limit": 1}))["next_cursor"]
    assert _json(client.get(reverse("api:products"), {"cursor": products_cursor}), 400) == {
        "code": "cursor_invalid",
        "message": "This cursor is not valid for this list; start from the first page.",
        "field": "cursor",
    }
    assert _json(client.get(url, {"cursor": "nie-kursor"}), 400)["code"] == "cursor_invalid"


def test_the_offer_detail_has_an_etag(offers, write_key):
    client, url = api(write_key), reverse("api:offer", args=[offers[1].pk])
    response = client.get(url)
    assert _json(response) == _offer_body(offers[1])
    again = client.get(url, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    with scope(tenant=offers[1].tenant):
        Offer.objects.filter(pk=offers[1].pk).update(stock_available=7)
    changed = client.get(url, headers={"If-None-Match": response["ETag"]})
    assert _json(changed)["stock_available"] == 7
    assert changed["ETag"] != response["ETag"]


def _product_body(p: Product, offers: list | None = None) -> dict:
    body = {
        "id": p.pk,
        "name": p.name,
        "sku": p.sku,
        "ean": p.ean,
        "stock": p.stock,
        "weight_kg": f"{p.weight_kg:.3f}" if p.weight_kg is not None else None,
        "length_cm": f"{p.length_cm:.1f}" if p.length_cm is not None else None,
        "width_cm": f"{p.width_cm:.1f}" if p.width_cm is not None else None,
        "height_cm": f"{p.height_cm:.1f}" if p.height_cm is not None else None,
        "price": f"{p.price:.2f}" if p.price is not None else None,
        "currency": p.currency,
        "created_at": _at(p.created_at),
        "updated_at": _at(p.updated_at),
    }
    if offers is not None:
        body["offers"] = offers
    return body


def test_the_product_list_filters_and_pages_by_name(tenant, write_key):
    channel = channel_of(tenant)
    cup = product(tenant, "Kubek", sku="KUB-1", stock=3)
    plate = product(tenant, "Talerz płaski", sku="TAL-1", ean="5901234123457")
    bowl = product(tenant, "Miska", stock=2)
    offer(channel, "1001", sku="KUB-1")  # linked to the cup on its SKU when created
    with scope(tenant=tenant):
        Offer.objects.filter(external_id="1001").update(product=cup, link="sku")
    client, url = api(write_key), reverse("api:products")
    assert _json(client.get(url)) == {
        "next_cursor": None,
        "previous_cursor": None,
        "results": [_product_body(refreshed(p)) for p in (cup, bowl, plate)],
    }
    assert ids(client.get(url, {"q": "talerz 590"})) == [plate.pk]
    assert ids(client.get(url, {"q": "kub"})) == [cup.pk]
    assert ids(client.get(url, {"sku": "TAL-1"})) == [plate.pk]
    assert ids(client.get(url, {"sku": "tal-1"})) == []
    assert ids(client.get(url, {"ean": "5901234123457"})) == [plate.pk]
    assert ids(client.get(url, {"linked": "true"})) == [cup.pk]
    assert ids(client.get(url, {"linked": "false"})) == [bowl.pk, plate.pk]
    assert ids(client.get(url, {"stock_zero": "true"})) == [plate.pk]
    one = _json(client.get(url, {"limit": 2}))
    assert [r["id"] for r in one["results"]] == [cup.pk, bowl.pk]
    two = _json(client.get(url, {"limit": 2, "cursor": one["next_cursor"]}))
    assert [r["id"] for r in two["results"]] == [plate.pk]
    assert two["next_cursor"] is None
    back = _json(client.get(url, {"limit": 2, "cursor": two["previous_cursor"]}))
    assert [r["id"] for r in back["results"]] == [cup.pk, bowl.pk]
    assert back["previous_cursor"] is None


def test_a_product_cursor_carries_the_longest_name(tenant, write_key):
    longest = [product(tenant, "Żółw 🐢" * 50) for _n in range(2)]
    one = _json(api(write_key).get(reverse("api:products"), {"limit": 1}))
    assert len(one["results"][0]["name"]) == 300
    two = _json(
        api(write_key).get(reverse("api:products"), {"limit": 1, "cursor": one["next_cursor"]})
    )
    assert [one["results"][0]["id"], two["results"][0]["id"]] == [p.pk for p in longest]
    assert two["next_cursor"] is None


def test_the_product_detail_lists_its_offers(offers, tenant, write_key):
    linked = offers[0]
    with scope(tenant=tenant):
        cup = Product.objects.get(pk=linked.product_id)
    response = api(write_key).get(reverse("api:product", args=[cup.pk]))
    assert _json(response) == _product_body(
        cup,
        [
            {
                "id": linked.pk,
                "channel": {"id": linked.channel_id, "name": "Allegro AL", "alias": "AL"},
                "offer_id": "1001",
                "name": "Kubek biały",
                "status": "ACTIVE",
                "stock_available": 5,
                "link": "sku",
                "removed_at": None,
            }
        ],
    )
    again = api(write_key).get(
        reverse("api:product", args=[cup.pk]), headers={"If-None-Match": response["ETag"]}
    )
    assert again.status_code == 304


def _post(secret, name, args, body, **headers):
    return api(secret).post(
        reverse(name, args=args), body, content_type="application/json", headers=headers
    )


def test_a_product_is_created_through_the_catalogue(tenant, write_key):
    channel = channel_of(tenant)
    waiting = offer(channel, "1001", sku="KUB-300")
    body = {
        "name": " Kubek 300 ml ",
        "sku": "KUB-300",
        "ean": "5901234123457",
        "weight_kg": "0.35",
        "price": "29.99",
        "initial_stock": 12,
    }
    answer = _json(_post(write_key, "api:products", [], body), 201)
    with scope(tenant=tenant):
        made = Product.objects.get(sku="KUB-300")
        changes = list(
            ProductStockChange.objects.filter(product=made).values_list("reason", "delta")
        )
    assert answer == _product_body(
        made,
        [
            {
                "id": waiting.pk,
                "channel": {"id": channel.pk, "name": channel.name, "alias": "AL"},
                "offer_id": "1001",
                "name": "Oferta 1001",
                "status": "ACTIVE",
                "stock_available": 5,
                "link": "sku",
                "removed_at": None,
            }
        ],
    )
    assert (made.name, made.stock, str(made.weight_kg), made.currency) == (
        "Kubek 300 ml",
        12,
        "0.350",
        "PLN",
    )
    assert changes == [("manual", 12)]


def test_a_taken_sku_is_a_conflict(tenant, write_key):
    product(tenant, "Kubek", sku="KUB-1")
    response = _post(write_key, "api:products", [], {"name": "Inny kubek", "sku": "KUB-1"})
    assert _json(response, 409) == {
        "code": "sku_taken",
        "message": "Another product already has the SKU KUB-1.",
        "field": "sku",
    }
    with scope(tenant=tenant):
        assert Product.objects.filter(tenant=tenant).count() == 1
    other = product(tenant, "Talerz", sku="TAL-1")
    edit = api(write_key).patch(
        reverse("api:product", args=[other.pk]), {"sku": "KUB-1"}, content_type="application/json"
    )
    assert _json(edit, 409)["code"] == "sku_taken"
    bad_ean = _post(write_key, "api:products", [], {"name": "Miska", "ean": "123"})
    assert _json(bad_ean, 400) == {
        "code": "ean_invalid",
        "message": (
            "This is not a valid EAN: it has 8, 12, 13 or 14 digits and a matching check digit."
        ),
        "field": "ean",
    }


def test_patch_edits_the_product_and_never_its_stock(tenant, write_key):
    cup = product(tenant, "Kubek", sku="KUB-1", stock=4, price="10.00")
    url = reverse("api:product", args=[cup.pk])
    client = api(write_key)
    answer = _json(client.patch(url, {"price": "12.50"}, content_type="application/json"))
    cup = refreshed(cup)
    assert answer == _product_body(cup, [])
    assert (cup.name, cup.sku, str(cup.price), cup.stock) == ("Kubek", "KUB-1", "12.50", 4)
    refused = client.patch(url, {"stock": 40}, content_type="application/json")
    assert _json(refused, 400) == {
        "code": "stock_not_editable",
        "message": "Stock is changed with POST …/stock/, which records why.",
        "field": "stock",
    }
    polish = api(write_key, "pl").patch(url, {"stock": 40}, content_type="application/json")
    assert _json(polish, 400)["message"] == (
        "Stan zmienia się przez POST …/stock/, który zapisuje powód zmiany."
    )
    assert refreshed(cup).stock == 4
    assert _json(client.patch(url, {"name": ""}, content_type="application/json"), 400) == {
        "code": "blank",
        "message": "This field may not be blank.",
        "field": "name",
    }


@pytest.fixture
def user_key(tenant, admin_user):
    with scope(tenant=tenant):
        return keys.create_key(
            tenant, name="Magazyn", scope=KeyScope.READ_WRITE, created_by=admin_user
        ).secret


def test_stock_is_set_or_changed_by_hand_as_the_keys_creator(tenant, user_key):
    cup = product(tenant, "Kubek", stock=4)
    url_args = [cup.pk]
    set_to = _json(_post(user_key, "api:product_stock", url_args, {"stock": 10}), 201)
    taken = _json(
        _post(user_key, "api:product_stock", url_args, {"delta": -3, "note": "Stłuczone"}), 201
    )
    with scope(tenant=tenant):
        first, second = ProductStockChange.objects.filter(product=cup, reason="manual").order_by(
            "id"
        )[1:]
    assert set_to == {
        "stock": 10,
        "change": {
            "id": first.pk,
            "reason": "manual",
            "delta": 6,
            "stock_after": 10,
            "order_id": None,
            "offer_id": None,
            "actor": "admin@alfa.example",
            "note": "",
            "created_at": _at(first.created_at),
        },
    }
    assert taken["stock"] == 7
    assert taken["change"]["id"] == second.pk
    assert (taken["change"]["delta"], taken["change"]["note"]) == (-3, "Stłuczone")
    assert refreshed(cup).stock == 7
    timeline = _json(api(user_key).get(reverse("api:product_stock_changes", args=url_args)))
    assert [(c["delta"], c["stock_after"]) for c in timeline["results"]] == [
        (-3, 7),
        (6, 10),
        (4, 4),
    ]
    assert timeline["results"][0] == taken["change"]
    assert timeline["next_cursor"] is None
    page = _json(
        api(user_key).get(reverse("api:product_stock_changes", args=url_args), {"limit": 2})
    )
    rest = _json(
        api(user_key).get(
            reverse("api:product_stock_changes", args=url_args),
            {"limit": 2, "cursor": page["next_cursor"]},
        )
    )
    assert [c["stock_after"] for c in page["results"] + rest["results"]] == [7, 10, 4]


def test_stock_refusals_have_the_error_shape(tenant, write_key):
    cup = product(tenant, "Kubek", stock=4)
    for body in ({}, {"stock": 3, "delta": 1}):
        assert _json(_post(write_key, "api:product_stock", [cup.pk], body), 400) == {
            "code": "stock_change_missing",
            "message": "Give either the new stock or the amount to add or take away.",
            "field": "stock",
        }
    assert _json(_post(write_key, "api:product_stock", [cup.pk], {"delta": 0}), 400) == {
        "code": "stock_delta_zero",
        "message": "Adding nothing changes nothing.",
        "field": "delta",
    }
    assert _json(_post(write_key, "api:product_stock", [cup.pk], {"stock": -1}), 400)["field"] == (
        "stock"
    )
    assert refreshed(cup).stock == 4


def test_a_replayed_stock_change_answers_the_first_and_changes_stock_once(tenant, write_key):
    cup = product(tenant, "Kubek", stock=4)
    key = {"Idempotency-Key": "stan-1"}
    first = _post(write_key, "api:product_stock", [cup.pk], {"delta": -1}, **key)
    assert _json(first, 201)["stock"] == 3
    # Meanwhile an order takes one more; the replay must not take another.
    with scope(tenant=tenant):
        change_stock(cup, delta=-1, reason="sold", dedupe_key="sold:1:1")
    replay = _post(write_key, "api:product_stock", [cup.pk], {"delta": -1}, **key)
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert refreshed(cup).stock == 2
    with scope(tenant=tenant):
        assert ProductStockChange.objects.filter(product=cup, reason="manual").count() == 2
        assert IdempotentRequest.objects.filter(tenant=tenant, key="stan-1").count() == 1
    conflicting = _post(write_key, "api:product_stock", [cup.pk], {"delta": -5}, **key)
    assert _json(conflicting, 422) == {
        "code": "idempotency_key_reused",
        "message": "This Idempotency-Key was already used for a different request.",
        "field": None,
    }
    assert refreshed(cup).stock == 2


def test_a_replayed_product_creation_makes_one_product(tenant, write_key):
    key = {"Idempotency-Key": "nowy-1"}
    first = _post(write_key, "api:products", [], {"name": "Kubek", "sku": "KUB-1"}, **key)
    replay = _post(write_key, "api:products", [], {"name": "Kubek", "sku": "KUB-1"}, **key)
    assert _json(first, 201) == _json(replay, 201)
    assert replay["Idempotent-Replayed"] == "true"
    with scope(tenant=tenant):
        assert Product.objects.filter(tenant=tenant).count() == 1


def test_a_read_key_may_not_write(tenant, read_key):
    cup = product(tenant, "Kubek", stock=4)
    refused = {
        "code": "key_read_only",
        "message": "This API key may only read.",
        "field": None,
    }
    client = api(read_key)
    answers = [
        _post(read_key, "api:products", [], {"name": "Miska"}),
        _post(read_key, "api:product_stock", [cup.pk], {"stock": 9}),
        client.patch(
            reverse("api:product", args=[cup.pk]), {"name": "X"}, content_type="application/json"
        ),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [(403, refused)] * 3
    cup = refreshed(cup)
    assert (cup.name, cup.stock) == ("Kubek", 4)
    with scope(tenant=tenant):
        assert Product.objects.filter(tenant=tenant).count() == 1
    assert ids(client.get(reverse("api:products"))) == [cup.pk]
    assert _json(client.get(reverse("api:product_stock_changes", args=[cup.pk])))["results"]


def test_another_companys_ids_are_not_found(tenant, other_tenant, offers, other_key):
    with scope(tenant=tenant):
        mine = Product.objects.get(sku="KUB-1")
    theirs = api(other_key)
    not_found = {"code": "not_found", "message": "Not found.", "field": None}
    answers = [
        theirs.get(reverse("api:offer", args=[offers[0].pk])),
        theirs.get(reverse("api:product", args=[mine.pk])),
        theirs.get(reverse("api:product_stock_changes", args=[mine.pk])),
        theirs.patch(
            reverse("api:product", args=[mine.pk]), {"name": "X"}, content_type="application/json"
        ),
        _post(other_key, "api:product_stock", [mine.pk], {"stock": 99}),
    ]
    assert [(a.status_code, a.json()) for a in answers] == [(404, not_found)] * 5
    assert ids(theirs.get(reverse("api:offers"))) == []
    assert ids(theirs.get(reverse("api:products"))) == []
    assert ids(theirs.get(reverse("api:offers"), {"channel": offers[0].channel_id})) == []
    mine = refreshed(mine)
    assert (mine.name, mine.stock) == ("Kubek", 0)
    # Their SKUs are their own: the same SKU is free in the other company.
    made = _post(other_key, "api:products", [], {"name": "Kubek", "sku": "KUB-1"})
    answer = _json(made, 201)
    assert (answer["sku"], answer["offers"]) == ("KUB-1", [])
