"""Injected faults, each shown happening over real HTTP."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from tests.sandbox.helpers import PUBLIC_V1, REDIRECT, Connected, one_error


def raw_get(connected: Connected, path: str, timeout: float = 5) -> requests.Response:
    return requests.get(
        connected.sandbox.base_url + path,
        timeout=timeout,
        headers={
            "Accept": PUBLIC_V1,
            "Authorization": f"Bearer {connected.tokens['access_token']}",
        },
    )


def test_dropped_events_are_inserted_later(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.create_orders("anna", 1, status="BOUGHT")
    cursor = api.get("/order/events").json()["events"][-1]["id"]
    sb.set_faults(seller="anna", drop_events=1.0)
    (oid,) = sb.create_orders("anna", 1, status="READY_FOR_PROCESSING")
    assert api.get("/order/events", params={"from": cursor}).json() == {"events": []}
    assert api.get(f"/order/checkout-forms/{oid}").json()["status"] == "READY_FOR_PROCESSING"
    assert [e["type"] for e in sb.journal("anna")["withheld"]] == [
        "BOUGHT",
        "FILLED_IN",
        "READY_FOR_PROCESSING",
    ]
    sb.clear_faults(seller="anna")
    (later,) = sb.create_orders("anna", 1, status="BOUGHT")
    assert sb.release_events("anna") == 3
    events = api.get("/order/events", params={"from": cursor}).json()["events"]
    assert [(e["type"], e["order"]["checkoutForm"]["id"]) for e in events] == [
        ("BOUGHT", later),
        ("BOUGHT", oid),
        ("FILLED_IN", oid),
        ("READY_FOR_PROCESSING", oid),
    ]
    # late events: inserted after a newer order's event, with older occurredAt
    assert events[1]["occurredAt"] <= events[0]["occurredAt"]


def test_duplicate_events(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.set_faults(seller="anna", duplicate_events=1.0)
    sb.create_orders("anna", 1, status="BOUGHT")
    events = api.get("/order/events").json()["events"]
    assert [e["type"] for e in events] == ["BOUGHT", "BOUGHT"]
    assert events[0]["id"] != events[1]["id"]
    assert events[0]["occurredAt"] == events[1]["occurredAt"]


def test_out_of_order_events(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.set_faults(seller="anna", out_of_order=1.0)
    sb.create_orders("anna", 1, status="READY_FOR_PROCESSING", bought_at="2026-01-10T10:00:00Z")
    events = api.get("/order/events").json()["events"]
    assert [e["type"] for e in events] == ["READY_FOR_PROCESSING", "FILLED_IN", "BOUGHT"]
    assert int(events[0]["id"]) < int(events[1]["id"]) < int(events[2]["id"])
    assert [e["occurredAt"] for e in events] == [
        "2026-01-10T10:02:00.000Z",
        "2026-01-10T10:01:00.000Z",
        "2026-01-10T10:00:00.000Z",
    ]


def test_delayed_insertion(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.set_faults(seller="anna", delay_events_seconds=300)
    sb.create_orders("anna", 1, status="BOUGHT")
    assert api.get("/order/events").json() == {"events": []}
    assert len(sb.journal("anna")["pending"]) == 1
    sb.advance_clock(299)
    assert api.get("/order/events").json() == {"events": []}
    sb.advance_clock(2)
    (ev,) = api.get("/order/events").json()["events"]
    assert ev["type"] == "BOUGHT"
    inserted_at = int(ev["id"]) / 1_000_000
    occurred = datetime.fromisoformat(ev["occurredAt"].replace("Z", "+00:00")).timestamp()
    assert inserted_at - occurred >= 300  # the event id (insertion) is 5 min after occurredAt


def test_error_5xx_share_and_path_prefix(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.set_faults(seller="anna", error_5xx=1.0, error_status=503, path_prefix="/order/events")
    r = api.get("/order/events")
    assert r.status_code == 503
    assert one_error(r)["code"] == "SERVICE_UNAVAILABLE"
    assert api.get("/order/checkout-forms").status_code == 200
    sb.set_faults(seller="anna", path_prefix=None, error_status=None)
    r = api.get("/order/checkout-forms")
    assert (r.status_code, one_error(r)["code"]) == (500, "INTERNAL_SERVER_ERROR")
    sb.clear_faults(seller="anna")
    assert api.get("/order/events").status_code == 200


def test_faults_scoped_to_seller_or_client(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.create_seller("bob", "pass-bob", offers=1)
    bob = connected.api_for(sb.connect_seller("bob", "app-1", "secret-1", REDIRECT)["access_token"])
    sb.set_faults(seller="bob", error_5xx=1.0)
    assert bob.get("/order/events").status_code == 500
    assert api.get("/order/events").status_code == 200
    sb.clear_faults()
    sb.create_client_app("app-2", "s2", [REDIRECT])
    other = connected.api_for(sb.connect_seller("anna", "app-2", "s2", REDIRECT)["access_token"])
    sb.set_faults(client_id="app-2", error_5xx=1.0, error_status=502)
    assert other.get("/order/events").status_code == 502
    assert api.get("/order/events").status_code == 200


def test_error_share_is_reproducible(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api

    def run() -> list[int]:
        sb.set_faults(seller="anna", error_5xx=0.5, seed=99)
        return [api.get("/order/event-stats").status_code for _ in range(12)]

    first = run()
    assert run() == first
    assert set(first) == {200, 500}


def test_latency_beyond_client_timeout(connected: Connected) -> None:
    connected.sandbox.set_faults(seller="anna", latency_ms=1500)
    with pytest.raises(requests.exceptions.ReadTimeout):
        raw_get(connected, "/order/events", timeout=0.3)


def test_timeout_hangs_until_client_gives_up(connected: Connected) -> None:
    sb = connected.sandbox
    sb.set_faults(seller="anna", timeout=1.0, hang_seconds=60)
    with pytest.raises(requests.exceptions.ReadTimeout):
        raw_get(connected, "/order/events", timeout=0.5)
    sb.clear_faults()
    assert raw_get(connected, "/order/events").status_code == 200


def test_connection_reset(connected: Connected) -> None:
    connected.sandbox.set_faults(seller="anna", reset=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        raw_get(connected, "/order/events")
    connected.sandbox.clear_faults()
    assert raw_get(connected, "/order/events").status_code == 200


def test_429_block_for_client(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.block_client("app-1", 60)
    r = api.get("/order/events")
    assert r.status_code == 429
    assert one_error(r)["code"] == "TOO_MANY_REQUESTS"
    sb.advance_clock(61)  # the request above extended the block to +60 s from then
    assert api.get("/order/events").status_code == 200


def test_token_endpoint_faults_when_asked(connected: Connected) -> None:
    sb = connected.sandbox
    sb.set_faults(client_id="app-1", error_5xx=1.0, include_auth=True)
    r = requests.post(
        f"{sb.base_url}/auth/oauth/token",
        auth=("app-1", "secret-1"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert r.status_code == 500
    sb.set_faults(client_id="app-1", include_auth=False)
    r = requests.post(
        f"{sb.base_url}/auth/oauth/token",
        auth=("app-1", "secret-1"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert r.status_code == 200


def test_one_chosen_checkout_form_answers_500_until_cleared(connected: Connected) -> None:
    sb = connected.sandbox
    stuck, other = sb.create_orders("anna", 2)
    assert sb.call("PUT", f"/orders/{stuck}/unreadable", {}) == {"id": stuck, "unreadable": 500}

    r = raw_get(connected, f"/order/checkout-forms/{stuck}")
    assert r.status_code == 500
    assert r.json() == {
        "errors": [
            {
                "code": "INTERNAL_SERVER_ERROR",
                "message": "Internal server error.",
                "details": None,
                "path": None,
                "userMessage": "Internal server error. Please try again in a few minutes.",
                "metadata": {},
            }
        ]
    }
    assert raw_get(connected, f"/order/checkout-forms/{other}").status_code == 200
    listed = raw_get(connected, "/order/checkout-forms").json()["checkoutForms"]
    assert sorted(f["id"] for f in listed) == sorted([stuck, other])

    sb.call("PUT", f"/orders/{other}/unreadable", {"status": 503})
    assert raw_get(connected, f"/order/checkout-forms/{other}").status_code == 503
    sb.call("DELETE", f"/orders/{stuck}/unreadable")
    assert raw_get(connected, f"/order/checkout-forms/{stuck}").json()["id"] == stuck


def test_an_unreadable_form_merged_away_answers_404(connected: Connected) -> None:
    sb = connected.sandbox
    old = sb.create_orders("anna", 2, status="BOUGHT")
    sb.call("PUT", f"/orders/{old[0]}/unreadable", {})
    new = sb.merge_orders(old)

    r = raw_get(connected, f"/order/checkout-forms/{old[0]}")
    assert r.status_code == 404
    assert raw_get(connected, f"/order/checkout-forms/{new}").status_code == 200
