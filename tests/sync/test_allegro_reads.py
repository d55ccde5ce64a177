"""The client's typed reads of the sync engine and the carriers list: what the sandbox serves
arrives as the client's own types, filters and paging reach Allegro, and an answer of a shape
the spec does not allow is the client's AllegroMalformedResponse, never a half-read value; a
checkout form served that way is one bad form, and the poll goes on past it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from django_scopes import scope

from channels.clients.allegro import (
    AllegroCarrier,
    AllegroClient,
    AllegroEnvironment,
    AllegroMalformedResponse,
    AllegroTransientError,
    CheckoutFormsPage,
    JournalEvent,
    OrderEventStats,
    parse_time,
)
from channels.models import SalesChannel
from channels.services.api import on_behalf
from sync.runkit import TRANSIENT_TEXT
from tests.sync.helpers import SELLER, external_ids, poll, state_of

pytestmark = pytest.mark.django_db


def read(channel: SalesChannel, endpoint, *args: Any, **kwargs: Any) -> Any:
    with scope(tenant=channel.tenant):
        return on_behalf(channel, endpoint, *args, **kwargs)


def test_the_journal_arrives_as_events_oldest_first_after_the_cursor(channel, sync_env):
    sandbox = sync_env.sandbox
    ids = sandbox.create_orders(SELLER, 2)
    journal = sandbox.journal(SELLER)["events"]
    expected = [
        JournalEvent(e["id"], e["type"], parse_time(e["occurredAt"]), e["checkoutFormId"])
        for e in journal
    ]
    # Each paid order has its BOUGHT, FILLED_IN and READY_FOR_PROCESSING events.
    assert [(e.checkout_form_id, e.type) for e in expected] == [
        (form_id, kind)
        for form_id in ids
        for kind in ("BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING")
    ]

    assert read(channel, AllegroClient.list_order_events) == expected
    assert read(channel, AllegroClient.list_order_events, after=journal[0]["id"]) == expected[1:]
    assert read(channel, AllegroClient.list_order_events, limit=1) == expected[:1]
    assert read(channel, AllegroClient.list_order_events, after=journal[-1]["id"]) == []


def test_event_stats_name_the_newest_event_or_none(channel, sync_env):
    sandbox = sync_env.sandbox
    assert read(channel, AllegroClient.get_order_event_stats) == OrderEventStats(None, None)
    sandbox.create_orders(SELLER, 3)
    newest = sandbox.journal(SELLER)["events"][-1]
    assert read(channel, AllegroClient.get_order_event_stats) == OrderEventStats(
        newest["id"], parse_time(newest["occurredAt"])
    )


def test_checkout_forms_are_listed_by_purchase_window_buyer_and_page(channel, sync_env):
    sandbox = sync_env.sandbox
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    ids = [
        sandbox.create_orders(SELLER, 1, bought_at=(start + timedelta(hours=n)).isoformat())[0]
        for n in range(3)
    ]

    def page(**filters: Any) -> CheckoutFormsPage:
        return read(channel, AllegroClient.list_checkout_forms, **filters)

    def ids_of(listed: CheckoutFormsPage) -> list[str]:
        return [form["id"] for form in listed.checkout_forms]

    oldest_first = page(sort="lineItems.boughtAt", limit=2)
    assert (ids_of(oldest_first), oldest_first.total_count) == (ids[:2], 3)
    rest = page(sort="lineItems.boughtAt", limit=2, offset=2)
    assert (ids_of(rest), rest.total_count) == (ids[2:], 3)
    assert ids_of(page()) == ids[::-1]  # Allegro's default: the newest purchase first
    window = page(bought_from=start + timedelta(hours=1), bought_to=start + timedelta(hours=1))
    assert (ids_of(window), window.total_count) == ([ids[1]], 1)
    newest_first = page().checkout_forms
    buyer = newest_first[0]["buyer"]["login"]
    assert ids_of(page(buyer_login=buyer)) == [
        form["id"] for form in newest_first if form["buyer"]["login"] == buyer
    ]
    assert ids_of(page(buyer_login="nobody-buys-here")) == []


def test_carriers_arrive_in_allegros_order_with_other_unnamed(channel):
    assert read(channel, AllegroClient.list_carriers) == [
        AllegroCarrier("ALLEGRO", "Allegro One Kurier"),
        AllegroCarrier("INPOST", "InPost"),
        AllegroCarrier("DPD", "DPD"),
        AllegroCarrier("DHL", "DHL"),
        AllegroCarrier("UPS", "UPS"),
        AllegroCarrier("GLS", "GLS"),
        AllegroCarrier("POCZTA_POLSKA", "Poczta Polska"),
        AllegroCarrier("ORLEN", "ORLEN Paczka"),
        AllegroCarrier("FEDEX", "FedEx"),
        AllegroCarrier("GEIS", "Geis"),
        AllegroCarrier("RABEN", "Raben"),
        AllegroCarrier("DB_SCHENKER", "DB Schenker"),
        AllegroCarrier("YUN_EXPRESS", "Yun Express"),
        AllegroCarrier("OTHER", ""),
    ]


# --------------------------------------------------------------------------- odd answers
class _OddAllegro(BaseHTTPRequestHandler):
    """An Allegro-compatible server answering 200 with whatever body the test set for a path
    (the sandbox follows the spec, so it never serves these)."""

    bodies: dict[str, bytes] = {}

    def do_GET(self) -> None:
        body = self.bodies[self.path.split("?", 1)[0]]
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.allegro.public.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def odd_allegro() -> Iterator[tuple[AllegroClient, dict[str, bytes]]]:
    bodies: dict[str, bytes] = {}
    handler = type("Handler", (_OddAllegro,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield AllegroClient(AllegroEnvironment("odd", base, base, "odd-app", "x")), bodies
    finally:
        server.shutdown()
        server.server_close()


READS = {
    "/order/events": AllegroClient.list_order_events,
    "/order/event-stats": AllegroClient.get_order_event_stats,
    "/order/checkout-forms": AllegroClient.list_checkout_forms,
    "/order/carriers": AllegroClient.list_carriers,
}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/order/events", "[]"),
        ("/order/events", "{}"),
        ("/order/events", '{"events": {"id": "1"}}'),
        ("/order/event-stats", '"latest"'),
        ("/order/event-stats", '{"latestEvent": {"occurredAt": "2026-11-02T08:00:00Z"}}'),
        ("/order/event-stats", '{"latestEvent": "1532603898317497"}'),
        ("/order/checkout-forms", ""),
        ("/order/checkout-forms", '{"totalCount": 3}'),
        ("/order/checkout-forms", '{"checkoutForms": null, "count": 0, "totalCount": 0}'),
        ("/order/carriers", "[]"),
        ("/order/carriers", '{"carriers": "DPD"}'),
    ],
)
def test_an_answer_of_the_wrong_shape_is_a_malformed_response(odd_allegro, path, body):
    client, bodies = odd_allegro
    bodies[path] = body.encode()
    with pytest.raises(AllegroMalformedResponse) as caught:
        READS[path](client, access_token="t")
    assert str(caught.value) == f"Malformed {path} response"
    # Handled like a 5xx by every caller that retries or stops on one.
    assert isinstance(caught.value, AllegroTransientError)


def test_what_the_spec_allows_or_an_entry_the_reads_leave_out_is_no_shape_error(odd_allegro):
    client, bodies = odd_allegro
    bodies["/order/events"] = json.dumps(
        {"events": ["odd", {"id": 17, "type": "BOUGHT", "order": {"checkoutForm": {"id": " f "}}}]}
    ).encode()
    bodies["/order/event-stats"] = b'{"latestEvent": null}'
    bodies["/order/checkout-forms"] = b'{"checkoutForms": [{"id": "f"}, "odd"]}'
    bodies["/order/carriers"] = b"{}"

    assert client.list_order_events(access_token="t") == [JournalEvent("17", "BOUGHT", None, "f")]
    assert client.get_order_event_stats(access_token="t") == OrderEventStats(None, None)
    # Every form reaches the ingest as sent (it reports the one it cannot read).
    assert client.list_checkout_forms(access_token="t") == CheckoutFormsPage(
        [{"id": "f"}, "odd"], None
    )
    assert client.list_carriers(access_token="t") == []


# --------------------------------------------------------------------------- one odd form
class _OneOddForm(BaseHTTPRequestHandler):
    """Passes every request on to the sandbox, except the GET of one checkout form, which it
    answers 200 with a body that is no checkout form."""

    sandbox_url = ""
    odd_path = ""

    def do_GET(self) -> None:
        if self.path == self.odd_path:
            status, body = 200, b"[]"
        else:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            answer = requests.get(self.sandbox_url + self.path, headers=headers, timeout=10)
            status, body = answer.status_code, answer.content
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.allegro.public.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_form_served_malformed_is_a_bad_form_and_the_poll_goes_on(channel, sync_env, settings):
    sandbox = sync_env.sandbox
    settings.SYNC_GET_RETRIES = 1
    settings.SYNC_LIST_READS = False  # the odd answer is the single form's
    poll(channel)
    ids = sandbox.create_orders(SELLER, 3)
    handler = type(
        "Handler",
        (_OneOddForm,),
        {"sandbox_url": sandbox.base_url, "odd_path": f"/order/checkout-forms/{ids[1]}"},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = dict(settings.ALLEGRO_ENVIRONMENTS["local"])
    local["api_url"] = f"http://127.0.0.1:{server.server_address[1]}"
    settings.ALLEGRO_ENVIRONMENTS = {"local": local}
    try:
        result = poll(channel)
    finally:
        server.shutdown()
        server.server_close()

    assert (result.status, result.created, result.failed_forms) == ("done", 2, 0)
    assert external_ids(channel) == sorted([ids[0], ids[2]])
    state = state_of(channel)
    assert state.cursor == sandbox.journal(SELLER)["events"][-1]["id"]
    assert [(entry["id"], entry["error"]) for entry in state.bad_forms] == [
        (ids[1], TRANSIENT_TEXT)
    ]
