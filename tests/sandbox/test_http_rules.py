"""Headers, error bodies, trace ids and the per-client rate limiter."""

from __future__ import annotations

import requests

from tests.sandbox.helpers import REDIRECT, Connected, one_error

NOT_ACCEPTABLE = {
    "errors": [
        {
            "code": "NotAcceptableException",
            "message": (
                "Not acceptable representation requested. Please check 'Accept' request header"
            ),
            "details": None,
            "path": None,
            "userMessage": "Request contains invalid data. Contact the application author.",
            "metadata": {},
        }
    ]
}


def test_accept_header_is_required(connected: Connected) -> None:
    api = connected.api
    for accept in (None, "application/json", "application/vnd.allegro.beta.v1+json", "*/*"):
        r = api.get("/order/events", headers={"Accept": accept})
        assert r.status_code == 406, accept
        assert r.json() == NOT_ACCEPTABLE
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    r = api.get(
        "/order/events",
        headers={"Accept": "application/json, application/vnd.allegro.public.v1+json"},
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/vnd.allegro.public.v1+json"


def test_content_type_is_required_on_bodies(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    (oid,) = sb.create_orders("anna", 1)
    url = f"/order/checkout-forms/{oid}/fulfillment"
    for ctype in ("application/json", None):
        r = api.put(url, json={"status": "SENT"}, headers={"Content-Type": ctype})
        assert r.status_code == 415, ctype
        assert one_error(r)["code"] == "NotSupportedException"
        assert one_error(r)["message"] == (
            "Unsupported content type. Please check 'Content-Type' request header"
        )
    r = api.put(
        url,
        json={"status": "SENT"},
        headers={"Content-Type": "application/vnd.allegro.public.v1+json;charset=UTF-8"},
    )
    assert r.status_code == 204
    r = api.post(
        f"/order/checkout-forms/{oid}/shipments",
        json={"carrierId": "DPD", "waybill": "A"},
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 415


def test_trace_id_everywhere(connected: Connected) -> None:
    base = connected.sandbox.base_url
    ids = set()
    for r in (
        requests.get(f"{base}/order/events", timeout=5),
        requests.get(f"{base}/nope", timeout=5),
        requests.post(f"{base}/auth/oauth/token", timeout=5),
        requests.get(f"{base}/__sandbox__/health", timeout=5),
    ):
        assert len(r.headers["trace-id"]) == 32
        ids.add(r.headers["trace-id"])
    assert len(ids) == 4


def test_rate_limit_blocks_and_requests_extend_the_block(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.create_client_app("app-2", "s2", [REDIRECT])
    other = connected.api_for(sb.connect_seller("anna", "app-2", "s2", REDIRECT)["access_token"])
    sb.set_rate_limit(limit=3, client_id="app-1")
    assert [api.get("/order/event-stats").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert other.get("/order/event-stats").status_code == 200  # per client id
    sb.advance_clock(30)
    assert api.get("/order/event-stats").status_code == 429  # extends the block to t+90
    sb.advance_clock(40)
    r = api.get("/order/event-stats")
    assert r.status_code == 429  # would have ended at t+60 without the extension
    assert one_error(r)["code"] == "TOO_MANY_REQUESTS"
    sb.advance_clock(61)
    assert api.get("/order/event-stats").status_code == 200
    assert sb.stats()["by_status"]["429"] == 3


def test_default_limit_is_9000_per_minute(connected: Connected) -> None:
    cfg = connected.sandbox.set_rate_limit()
    assert (cfg["limit"], cfg["window_seconds"], cfg["block_seconds"]) == (9000, 60.0, 60.0)


def test_request_counts(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    for _ in range(3):
        api.get("/order/events")
    api.get("/order/carriers")
    stats = sb.stats()
    assert stats["requests"]["order_events"] == 3
    assert stats["requests"]["carriers"] == 1
    assert stats["by_client"]["app-1"] == 4
    assert stats["token_calls"]["app-1"]["calls"] == {"authorization_code": 1}
