"""Order journal, checkout forms, fulfillment and shipments, as Allegro answers them."""

from __future__ import annotations

from tests.sandbox.helpers import REDIRECT, Connected, one_error

ZERO_UUID = "00000000-0000-4000-8000-000000000000"


def test_events_order_cursor_type_and_limit(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    ids = sb.create_orders("anna", 3, status="READY_FOR_PROCESSING", seed=1)
    events = api.get("/order/events").json()["events"]
    assert [e["type"] for e in events] == ["BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING"] * 3
    assert [e["order"]["checkoutForm"]["id"] for e in events[::3]] == ids
    eids = [int(e["id"]) for e in events]
    assert all(len(e["id"]) == 16 for e in events)
    assert eids == sorted(eids) and len(set(eids)) == 9
    after = api.get("/order/events", params={"from": events[4]["id"]}).json()["events"]
    assert [e["id"] for e in after] == [e["id"] for e in events[5:]]
    assert api.get("/order/events", params={"from": events[-1]["id"]}).json() == {"events": []}
    assert len(api.get("/order/events", params={"limit": 2}).json()["events"]) == 2
    rfp = api.get("/order/events", params={"type": "READY_FOR_PROCESSING"}).json()["events"]
    assert len(rfp) == 3
    both = api.get("/order/events", params=[("type", "BOUGHT"), ("type", "FILLED_IN")])
    assert len(both.json()["events"]) == 6
    assert len(api.get("/order/events", params={"type": "BOUGHT,FILLED_IN"}).json()["events"]) == 6
    assert len(api.get("/order/events", params={"from": "0"}).json()["events"]) == 9
    assert api.get("/order/events", params={"limit": 1000}).status_code == 200
    for bad in ({"limit": 0}, {"limit": 1001}, {"from": "abc"}, {"type": "SHIPPED"}):
        r = api.get("/order/events", params=bad)
        assert r.status_code == 422, bad
        assert one_error(r)["code"] == "VALIDATION_ERROR"


def test_event_stats_and_sixty_day_retention(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    assert api.get("/order/event-stats").json() == {"latestEvent": None}
    sb.create_orders("anna", 2, status="BOUGHT")
    events = api.get("/order/events").json()["events"]
    latest = api.get("/order/event-stats").json()["latestEvent"]
    assert latest == {"id": events[-1]["id"], "occurredAt": events[-1]["occurredAt"]}
    sb.advance_clock(59 * 86400)
    assert len(api.get("/order/events").json()["events"]) == 2
    sb.advance_clock(2 * 86400)
    assert api.get("/order/events").json() == {"events": []}
    assert api.get("/order/event-stats").json() == {"latestEvent": None}


def test_event_payload_matches_checkout_form(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    (oid,) = sb.create_orders("anna", 1, status="BOUGHT", seed=5)
    ev = api.get("/order/events").json()["events"][0]
    form = api.get(f"/order/checkout-forms/{oid}").json()
    assert ev["order"]["seller"] == {"id": "50000001"}
    assert ev["order"]["checkoutForm"] == {"id": oid, "revision": form["revision"]}
    assert ev["order"]["buyer"]["email"] == form["buyer"]["email"]
    assert [li["id"] for li in ev["order"]["lineItems"]] == [li["id"] for li in form["lineItems"]]


def test_checkout_form_list_filters_sort_and_paging(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    rfp = sb.create_orders("anna", 3, status="READY_FOR_PROCESSING", spread_seconds=3600)
    bought = sb.create_orders("anna", 2, status="BOUGHT")
    body = api.get("/order/checkout-forms").json()
    assert (body["count"], body["totalCount"]) == (5, 5)
    assert [f["id"] for f in body["checkoutForms"]][-3:] == rfp[::-1]  # newest first
    asc = api.get("/order/checkout-forms", params={"sort": "lineItems.boughtAt"}).json()
    assert [f["id"] for f in asc["checkoutForms"]][:3] == rfp
    page = api.get("/order/checkout-forms", params={"limit": 2, "offset": 1}).json()
    assert (page["count"], page["totalCount"]) == (2, 5)
    st = api.get("/order/checkout-forms", params={"status": "BOUGHT"}).json()
    assert sorted(f["id"] for f in st["checkoutForms"]) == sorted(bought)
    both = api.get(
        "/order/checkout-forms", params=[("status", "BOUGHT"), ("status", "READY_FOR_PROCESSING")]
    )
    assert both.json()["totalCount"] == 5
    login = body["checkoutForms"][0]["buyer"]["login"]
    by_login = api.get("/order/checkout-forms", params={"buyer.login": login}).json()
    assert all(f["buyer"]["login"] == login for f in by_login["checkoutForms"])
    first = asc["checkoutForms"][0]
    by_payment = api.get(
        "/order/checkout-forms", params={"payment.id": first["payment"]["id"]}
    ).json()
    assert [f["id"] for f in by_payment["checkoutForms"]] == [first["id"]]
    gte = api.get(
        "/order/checkout-forms",
        params={"lineItems.boughtAt.gte": asc["checkoutForms"][3]["lineItems"][0]["boughtAt"]},
    ).json()
    assert gte["totalCount"] == 2
    sent = api.get("/order/checkout-forms", params={"fulfillment.status": "SENT"}).json()
    assert sent["totalCount"] == 0


def test_checkout_form_list_limits(connected: Connected) -> None:
    api = connected.api
    r = api.get("/order/checkout-forms", params={"offset": 9901, "limit": 100})
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "VALIDATION_ERROR"
    assert r.json()["errors"][0]["message"] == (
        "Offset and limit parameters exceed maximal result size of 10000 items"
    )
    assert api.get("/order/checkout-forms", params={"offset": 9900, "limit": 100}).json() == {
        "checkoutForms": [],
        "count": 0,
        "totalCount": 0,
    }
    assert api.get("/order/checkout-forms", params={"limit": 101}).status_code == 422
    assert api.get("/order/checkout-forms", params={"limit": 0}).status_code == 422
    assert api.get("/order/checkout-forms", params={"offset": -1}).status_code == 422
    assert api.get("/order/checkout-forms", params={"status": "SHIPPED"}).status_code == 400
    assert api.get("/order/checkout-forms", params={"sort": "id"}).status_code == 400
    r = api.get("/order/checkout-forms", params={"updatedAt.gte": "yesterday"})
    assert r.status_code == 400


def test_checkout_form_detail_and_not_found(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    (oid,) = sb.create_orders("anna", 1)
    form = api.get(f"/order/checkout-forms/{oid}").json()
    assert form["id"] == oid and form["status"] == "READY_FOR_PROCESSING"
    assert len(form["revision"]) == 8
    r = api.get(f"/order/checkout-forms/{ZERO_UUID}")
    assert r.status_code == 404
    assert r.json() == {
        "errors": [
            {
                "code": "CheckoutFormNotFoundException",
                "message": f"Checkout form {ZERO_UUID} not found",
                "details": None,
                "path": f"/order/checkout-forms/{ZERO_UUID}",
                "userMessage": f"Checkout form {ZERO_UUID} not found",
                "metadata": {},
            }
        ]
    }
    assert api.get("/order/checkout-forms/not-a-uuid").status_code == 422
    # another seller's order is not found for anna
    sb.create_seller("bob", "pass-bob", offers=2)
    (other,) = sb.create_orders("bob", 1)
    assert api.get(f"/order/checkout-forms/{other}").status_code == 404
    assert api.get(f"/order/checkout-forms/{other}/shipments").status_code == 404


def test_fulfillment_put(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    (oid,) = sb.create_orders("anna", 1)
    before = api.get(f"/order/checkout-forms/{oid}").json()
    last = api.get("/order/event-stats").json()["latestEvent"]["id"]
    r = api.put(
        f"/order/checkout-forms/{oid}/fulfillment",
        params={"checkoutForm.revision": before["revision"]},
        json={"status": "PROCESSING"},
    )
    assert r.status_code == 204
    after = api.get(f"/order/checkout-forms/{oid}").json()
    assert after["fulfillment"]["status"] == "PROCESSING"
    assert after["updatedAt"] == before["updatedAt"]
    assert after["revision"] == before["revision"]
    new = api.get("/order/events", params={"from": last}).json()["events"]
    assert [e["type"] for e in new] == ["FULFILLMENT_STATUS_CHANGED"]
    assert sb.fulfillment_of(oid)["status"] == "PROCESSING"
    r = api.put(
        f"/order/checkout-forms/{oid}/fulfillment",
        params={"checkoutForm.revision": "deadbeef"},
        json={"status": "SENT"},
    )
    assert r.status_code == 409
    assert one_error(r)["message"] == "Conflict. Provided revision is outdated."
    r = api.put(f"/order/checkout-forms/{oid}/fulfillment", json={"status": "RETURNED"})
    assert r.status_code == 422
    assert one_error(r)["code"] == "SellerOrdersStoreUnprocessableEntityException"
    r = api.put(f"/order/checkout-forms/{oid}/fulfillment", json={"status": "PACKED"})
    assert r.status_code == 422
    r = api.put(f"/order/checkout-forms/{ZERO_UUID}/fulfillment", json={"status": "SENT"})
    assert r.status_code == 404
    # buyer-side change moves the revision: the old one now conflicts
    sb.advance_order(oid, "MODIFY")
    r = api.put(
        f"/order/checkout-forms/{oid}/fulfillment",
        params={"checkoutForm.revision": before["revision"]},
        json={"status": "SENT"},
    )
    assert r.status_code == 409


def test_fulfillment_change_cap_of_one_hundred(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    (oid,) = sb.create_orders("anna", 1)
    statuses = ["PROCESSING", "READY_FOR_SHIPMENT"]
    for i in range(100):
        r = api.put(f"/order/checkout-forms/{oid}/fulfillment", json={"status": statuses[i % 2]})
        assert r.status_code == 204
    r = api.put(f"/order/checkout-forms/{oid}/fulfillment", json={"status": "SENT"})
    assert r.status_code == 422
    assert one_error(r) == {
        "code": "SellerOrdersStoreUnprocessableEntityException",
        "message": f"Failed to set status SENT on order {oid}.",
        "details": None,
        "path": f"/order/checkout-forms/{oid}/fulfillment",
        "userMessage": f"Failed to set status SENT on order {oid}.",
        "metadata": {},
    }
    assert sb.fulfillment_of(oid)["changes"] == 100


def test_shipments(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    (oid,) = sb.create_orders("anna", 1, lines=2, seed=3)
    form = api.get(f"/order/checkout-forms/{oid}").json()
    li = [x["id"] for x in form["lineItems"]]
    url = f"/order/checkout-forms/{oid}/shipments"
    r = api.post(
        url,
        json={
            "carrierId": "INPOST",
            "waybill": "620000000000000000000001",
            "lineItems": [{"id": li[0]}],
        },
    )
    assert r.status_code == 201
    created = r.json()
    assert created["waybill"] == "620000000000000000000001"
    assert created["carrierId"] == "INPOST" and created["lineItems"] == [{"id": li[0]}]
    assert api.get(f"/order/checkout-forms/{oid}").json()["fulfillment"]["shipmentSummary"] == {
        "lineItemsSent": "SOME"
    }
    r = api.post(
        url, json={"carrierId": "OTHER", "carrierName": "Kurier Janek", "waybill": "JAN-1"}
    )
    assert r.status_code == 201 and r.json()["carrierName"] == "Kurier Janek"
    assert r.json()["lineItems"] == [{"id": x} for x in li]
    assert api.get(url).json()["shipments"] == [created, r.json()]
    assert sb.shipments_of(oid) == [created, r.json()]
    assert api.get(f"/order/checkout-forms/{oid}").json()["fulfillment"]["shipmentSummary"] == {
        "lineItemsSent": "ALL"
    }
    cases = [
        ({"waybill": "X1"}, 400, "carrierId"),
        ({"carrierId": "NOPE", "waybill": "X1"}, 400, "carrierId"),
        ({"carrierId": "DPD"}, 400, "waybill"),
        ({"carrierId": "DPD", "waybill": "X" * 65}, 400, "waybill"),
        ({"carrierId": "DPD", "waybill": "ŻÓŁW 1"}, 400, "waybill"),
        ({"carrierId": "OTHER", "waybill": "X1", "carrierName": "N" * 31}, 400, "carrierName"),
        ({"carrierId": "DPD", "waybill": "X1", "lineItems": [{"id": ZERO_UUID}]}, 422, "lineItems"),
        ({"carrierId": "INPOST", "waybill": "620000000000000000000001"}, 409, "waybill"),
    ]
    for body, status, path in cases:
        r = api.post(url, json=body)
        assert (r.status_code, one_error(r)["path"]) == (status, path), body
    r = api.post(url, json={"carrierId": "DPD", "waybill": "ŻÓŁW 1"})
    assert one_error(r)["code"] == "WaybillValidationException"
    assert one_error(r)["userMessage"] == "Przekazany numer przesyłki jest niepoprawny"


def test_waybill_overuse_is_409(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    ids = sb.create_orders("anna", 6)
    for oid in ids[:5]:
        r = api.post(
            f"/order/checkout-forms/{oid}/shipments",
            json={"carrierId": "DPD", "waybill": "SAME123"},
        )
        assert r.status_code == 201
    r = api.post(
        f"/order/checkout-forms/{ids[5]}/shipments", json={"carrierId": "DPD", "waybill": "SAME123"}
    )
    assert r.status_code == 409
    assert one_error(r)["message"] == "Maximum waybill usage exceeded"


def test_auto_sent_after_waybill_setting(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.update_seller("anna", auto_sent_after_waybill=True)
    (oid,) = sb.create_orders("anna", 1)
    api.post(f"/order/checkout-forms/{oid}/shipments", json={"carrierId": "DPD", "waybill": "A1"})
    assert api.get(f"/order/checkout-forms/{oid}").json()["fulfillment"]["status"] == "SENT"
    assert sb.fulfillment_of(oid)["history"][-1]["source"] == "AUTO_AFTER_WAYBILL"


def test_carriers(connected: Connected) -> None:
    carriers = connected.api.get("/order/carriers").json()["carriers"]
    assert {"id": "OTHER"} in carriers
    assert {"id": "DPD", "name": "DPD"} in carriers


def test_lifecycle_cancel_modify_and_merge(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    a, b, c = sb.create_orders("anna", 3, status="BOUGHT")
    form = api.get(f"/order/checkout-forms/{a}").json()
    assert form["status"] == "BOUGHT"
    sb.advance_clock(30)
    sb.advance_order(a, "FILLED_IN")
    filled = api.get(f"/order/checkout-forms/{a}").json()
    assert filled["status"] == "FILLED_IN"
    assert filled["revision"] != form["revision"] and filled["updatedAt"] != form["updatedAt"]
    sb.advance_order(a, "READY_FOR_PROCESSING")
    paid = api.get(f"/order/checkout-forms/{a}").json()
    assert paid["status"] == "READY_FOR_PROCESSING"
    sb.advance_order(a, "BUYER_CANCELLED")
    assert api.get(f"/order/checkout-forms/{a}").json()["status"] == "CANCELLED"
    sb.advance_order(b, "AUTO_CANCELLED")
    types = [
        (e["type"], e["order"]["checkoutForm"]["id"])
        for e in api.get("/order/events").json()["events"]
    ]
    assert ("BUYER_CANCELLED", a) in types and ("AUTO_CANCELLED", b) in types
    cancelled = api.get("/order/checkout-forms", params={"status": "CANCELLED"}).json()
    assert cancelled["totalCount"] == 2
    # merge c with a fresh one: new id, old ids answer 404, line items keep their ids
    (d,) = sb.create_orders("anna", 1, status="BOUGHT")
    items = [
        li["id"] for x in (c, d) for li in api.get(f"/order/checkout-forms/{x}").json()["lineItems"]
    ]
    new_id = sb.merge_orders([c, d])
    assert api.get(f"/order/checkout-forms/{c}").status_code == 404
    assert api.get(f"/order/checkout-forms/{d}").status_code == 404
    merged = api.get(f"/order/checkout-forms/{new_id}").json()
    assert [li["id"] for li in merged["lineItems"]] == items
    assert merged["status"] == "READY_FOR_PROCESSING"
    last = api.get("/order/events").json()["events"][-1]
    assert (last["type"], last["order"]["checkoutForm"]["id"]) == ("READY_FOR_PROCESSING", new_id)
    before = merged["revision"]
    sb.advance_order(new_id, "MODIFY")
    assert api.get(f"/order/checkout-forms/{new_id}").json()["revision"] != before
    assert api.get("/order/events").json()["events"][-1]["type"] == "BUYER_MODIFIED"


def test_auto_lifecycle_on_sandbox_clock(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    ids = sb.create_orders("anna", 20, status="BOUGHT", auto_lifecycle=True, seed=11)
    sb.advance_clock(3 * 3600)
    statuses = {f["status"] for f in api.get("/order/checkout-forms").json()["checkoutForms"]}
    assert "BOUGHT" not in statuses and "READY_FOR_PROCESSING" in statuses
    events = api.get("/order/events", params={"limit": 1000}).json()["events"]
    assert {e["order"]["checkoutForm"]["id"] for e in events} == set(ids)


def test_generated_orders_are_realistic_and_valid(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.create_orders("anna", 100, seed=42)
    sb.create_orders("anna", 3, seed=43, marketplace="allegro-cz")
    sb.create_orders("anna", 3, seed=44, payment_type="CASH_ON_DELIVERY", delivery="courier")
    sb.create_orders("anna", 3, seed=45, invoice=True, lines=3)
    forms = []
    for offset in (0, 100):
        forms += api.get("/order/checkout-forms", params={"offset": offset, "limit": 100}).json()[
            "checkoutForms"
        ]
    assert len(forms) == 109
    assert all(f["buyer"]["email"].endswith("@allegromail.pl") for f in forms)
    assert all("+" in f["buyer"]["email"] for f in forms)
    pl = [f for f in forms if f["marketplace"]["id"] == "allegro-pl"]
    assert all(f["buyer"]["phoneNumber"].startswith("+48") for f in pl)
    cz = [f for f in forms if f["marketplace"]["id"] == "allegro-cz"]
    assert len(cz) >= 3 and all(f["summary"]["totalToPay"]["currency"] == "CZK" for f in cz)
    assert any("pickupPoint" in f["delivery"] for f in forms)
    assert any("pickupPoint" not in f["delivery"] for f in forms)
    cod = [f for f in forms if f["payment"]["type"] == "CASH_ON_DELIVERY"]
    assert len(cod) >= 3 and all("paidAmount" not in f["payment"] for f in cod)
    online = [f for f in forms if f["payment"]["type"] == "ONLINE"]
    assert all(f["payment"]["paidAmount"] == f["summary"]["totalToPay"] for f in online)
    assert any(len(f["lineItems"]) >= 3 for f in forms)
    companies = [
        f["invoice"]["address"]["company"]
        for f in forms
        if f["invoice"]["required"] and "company" in f["invoice"]["address"]
    ]
    assert companies
    for company in companies:
        nip = company["ids"][0]["value"]
        weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
        assert company["ids"][0]["type"] == "PL_NIP"
        assert sum(int(d) * w for d, w in zip(nip, weights, strict=False)) % 11 == int(nip[9])
    for f in forms:
        total = sum(float(li["price"]["amount"]) * li["quantity"] for li in f["lineItems"])
        total += float(f["delivery"]["cost"]["amount"])
        assert abs(total - float(f["summary"]["totalToPay"]["amount"])) < 0.01


def test_same_seed_same_orders(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    a = sb.create_orders("anna", 2, seed=7)
    sb.create_seller("bob", "pass-bob", offers=0)
    b_ids = sb.create_orders("bob", 2, seed=7)
    assert a != b_ids  # ids unique per sandbox
    tokens = sb.connect_seller("bob", "app-1", "secret-1", REDIRECT)
    bob_api = connected.api_for(tokens["access_token"])
    fa = api.get(f"/order/checkout-forms/{a[1]}").json()
    fb = bob_api.get(f"/order/checkout-forms/{b_ids[1]}").json()
    assert fa["buyer"]["email"] == fb["buyer"]["email"]


def test_bulk_create_twenty_thousand(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    assert sb.create_orders("anna", 20_000, return_ids=False) == []
    body = api.get("/order/checkout-forms", params={"limit": 1}).json()
    assert body["totalCount"] == 20_000
    assert len(api.get("/order/events", params={"limit": 1000}).json()["events"]) == 1000
