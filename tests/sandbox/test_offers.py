"""/sale/offers, /sale/product-offers/{id} and /sale/offer-events."""

from __future__ import annotations

from tests.sandbox.helpers import Connected, one_error


def test_offer_list_paging_and_filters(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    own = sb.offers_of("anna")
    body = api.get("/sale/offers").json()
    assert (body["count"], body["totalCount"]) == (20, 25)  # default limit 20
    assert len(api.get("/sale/offers", params={"limit": 1000}).json()["offers"]) == 25
    page = api.get("/sale/offers", params={"limit": 10, "offset": 20}).json()
    assert (page["count"], page["totalCount"]) == (5, 25)
    sku = own[3]["external_id"]
    found = api.get("/sale/offers", params={"external.id": sku}).json()
    assert [o["external"]["id"] for o in found["offers"]] == [sku]
    active = api.get("/sale/offers", params={"publication.status": "ACTIVE", "limit": 1000}).json()
    assert active["totalCount"] == len([o for o in own if o["status"] == "ACTIVE"])
    assert all(o["publication"]["status"] == "ACTIVE" for o in active["offers"])
    ids = api.get("/sale/offers", params=[("offer.id", own[0]["id"]), ("offer.id", own[1]["id"])])
    assert ids.json()["totalCount"] == 2
    cheap = api.get(
        "/sale/offers", params={"sort": "sellingMode.price.amount", "limit": 1000}
    ).json()["offers"]
    prices = [float(o["sellingMode"]["price"]["amount"]) for o in cheap]
    assert prices == sorted(prices)


def test_offer_list_parameter_limits(connected: Connected) -> None:
    api = connected.api
    for bad in (
        {"limit": 0},
        {"limit": 1001},
        {"offset": -1},
        {"offset": 10_000_000},
        {"publication.status": "LISTED"},
        {"sort": "name"},
        {"external.id": "x" * 101},
        {"offset": 9_999_999, "limit": 2},
    ):
        r = api.get("/sale/offers", params=bad)
        assert r.status_code == 400, bad
        assert one_error(r)["code"] == "VALIDATION_ERROR"
    r = api.get("/sale/offers", params=[("external.id", f"S{i}") for i in range(101)])
    assert r.status_code == 400
    assert api.get("/sale/offers", params={"offset": 9_999_999, "limit": 1}).status_code == 200


def test_product_offer(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    offer = sb.offers_of("anna")[0]
    body = api.get(f"/sale/product-offers/{offer['id']}").json()
    assert body["id"] == offer["id"] and body["external"] == {"id": offer["external_id"]}
    assert api.get("/sale/product-offers/123").status_code == 404
    sb.create_seller("bob", "pass-bob", offers=1)
    other = sb.offers_of("bob")[0]["id"]
    assert api.get(f"/sale/product-offers/{other}").status_code == 404


def test_offer_events_cursor_types_and_retention(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    offer = sb.offers_of("anna")[0]
    events = api.get("/sale/offer-events", params={"limit": 1000}).json()["offerEvents"]
    assert events and all(e["type"] == "OFFER_ACTIVATED" for e in events)
    cursor = events[-1]["id"]
    sb.change_offer(offer["id"], price=77.5)
    sb.change_offer(offer["id"], stock=3)
    new = api.get("/sale/offer-events", params={"from": cursor}).json()["offerEvents"]
    assert [e["type"] for e in new] == ["OFFER_PRICE_CHANGED", "OFFER_STOCK_CHANGED"]
    assert new[0]["offer"]["marketplaces"] == [{"id": "allegro-pl", "changeType": "MANUAL"}]
    assert new[1]["offer"] == {"id": offer["id"], "external": {"id": offer["external_id"]}}
    only = api.get("/sale/offer-events", params={"from": cursor, "type": "OFFER_STOCK_CHANGED"})
    assert [e["type"] for e in only.json()["offerEvents"]] == ["OFFER_STOCK_CHANGED"]
    assert len(api.get("/sale/offer-events", params={"limit": 1}).json()["offerEvents"]) == 1
    for bad in ({"limit": 0}, {"limit": 1001}, {"from": "!!"}, {"type": "OFFER_SOLD"}):
        assert api.get("/sale/offer-events", params=bad).status_code == 400, bad
    sb.advance_clock(23 * 3600)
    assert len(api.get("/sale/offer-events", params={"from": cursor}).json()["offerEvents"]) == 2
    sb.advance_clock(2 * 3600)
    assert api.get("/sale/offer-events").json() == {"offerEvents": []}


def test_orders_reference_seller_offers_and_move_stock(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    (oid,) = sb.create_orders("anna", 1, lines=1, seed=2)
    li = api.get(f"/order/checkout-forms/{oid}").json()["lineItems"][0]
    own = {o["id"]: o for o in sb.offers_of("anna")}
    assert li["offer"]["external"]["id"] == own[li["offer"]["id"]]["external_id"]
    stock = [
        e
        for e in api.get("/sale/offer-events", params={"type": "OFFER_STOCK_CHANGED"}).json()[
            "offerEvents"
        ]
    ]
    assert stock[-1]["offer"]["id"] == li["offer"]["id"]


def test_offers_without_signature_repeated_signatures_and_eans(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.create_offers("anna", 55)  # 80 in all: numbers 0…79
    own = sb.offers_of("anna")
    assert [i for i, o in enumerate(own) if o["external_id"] is None] == [39, 79]
    assert own[20]["external_id"] == own[19]["external_id"]
    assert own[60]["external_id"] == own[59]["external_id"]
    assert len({o["external_id"] for o in own if o["external_id"]}) == 76
    listed = {o["id"]: o for o in api.get("/sale/offers", params={"limit": 1000}).json()["offers"]}
    assert "external" not in listed[own[39]["id"]]
    with_ean = api.get(f"/sale/product-offers/{own[0]['id']}").json()
    (parameter,) = with_ean["productSet"][0]["product"]["parameters"]
    assert parameter["values"] == [own[0]["ean"]] and parameter["options"]["isGTIN"] is True
    assert len(own[0]["ean"]) == 13
    without = api.get(f"/sale/product-offers/{own[2]['id']}").json()
    assert own[2]["ean"] is None and without["productSet"][0]["product"]["parameters"] == []
    # Offers made later are the newest: the listing shows them first.
    assert next(iter(listed)) in {o["id"] for o in own[25:]}


def test_offer_archiving_deleting_and_signature_changes(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    own = sb.offers_of("anna")
    cursor = api.get("/sale/offer-events", params={"limit": 1000}).json()["offerEvents"][-1]["id"]
    sb.change_offer(own[0]["id"], sku="INNY-1")
    sb.change_offer(own[1]["id"], archived=True)
    sb.change_offer(own[2]["id"], deleted=True)
    events = api.get("/sale/offer-events", params={"from": cursor}).json()["offerEvents"]
    assert [(e["type"], e["offer"]["id"]) for e in events] == [
        ("OFFER_CHANGED", own[0]["id"]),
        ("OFFER_ARCHIVED", own[1]["id"]),
    ]
    assert events[0]["offer"]["external"] == {"id": "INNY-1"}
    ids = {o["id"] for o in api.get("/sale/offers", params={"limit": 1000}).json()["offers"]}
    assert own[1]["id"] not in ids and own[2]["id"] not in ids and len(ids) == 23


def test_an_offer_events_cursor_no_longer_kept_is_refused(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    cursor = api.get("/sale/offer-events", params={"limit": 1000}).json()["offerEvents"][-1]["id"]
    assert sb.expire_offer_events("anna") > 0
    refused = api.get("/sale/offer-events", params={"from": cursor})
    assert refused.status_code == 400
    assert one_error(refused)["code"] == "VALIDATION_ERROR"
    assert api.get("/sale/offer-events").json() == {"offerEvents": []}
