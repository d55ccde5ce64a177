"""The order list (filters, cursor pages), the detail and its ETag."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django_scopes import scope

from orders import changes
from orders.models import Order, OrderStatus
from tests.api.helpers import api, imported_order
from tests.support.orders import status_of

DAY = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def orders(tenant):
    """Five orders, a day apart, of two buyers and two channels."""
    made = []
    for n in range(5):
        made.append(
            imported_order(
                tenant,
                bought_at=DAY + dt.timedelta(days=n),
                email=f"kupujacy{n % 2}@example.com",
                login=f"Kupujacy{n % 2}",
                alias="AL" if n < 3 else "BE",
            )
        )
    return made


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_filters_give_exact_results(orders, tenant, write_key):
    client = api(write_key)
    url = reverse("api:orders")
    newest_first = [o.pk for o in reversed(orders)]
    assert ids(client.get(url)) == newest_first
    assert ids(client.get(url, {"sort": "bought"})) == [o.pk for o in orders]
    assert ids(
        client.get(
            url, {"bought_from": "2026-11-03T09:00:00Z", "bought_to": "2026-11-05T09:00:00Z"}
        )
    ) == [orders[2].pk, orders[1].pk]
    assert ids(client.get(url, {"buyer_email": "KUPUJACY1@example.com"})) == [
        orders[3].pk,
        orders[1].pk,
    ]
    assert ids(client.get(url, {"buyer_login": "Kupujacy0"})) == [
        orders[4].pk,
        orders[2].pk,
        orders[0].pk,
    ]
    assert ids(client.get(url, {"channel": orders[4].channel_id})) == [orders[4].pk, orders[3].pk]
    assert ids(client.get(url, {"external_id": orders[2].external_id})) == [orders[2].pk]
    assert ids(client.get(url, {"number": orders[1].number})) == [orders[1].pk]
    paid = orders[0].payment_status
    assert ids(client.get(url, {"payment_status": paid})) == newest_first
    assert ids(client.get(url, {"payment_status": "none"})) == []
    with scope(tenant=tenant):
        changes.change_order_status(orders[1], status_of(tenant, "in_progress"), None)
        changed_at = Order.objects.get(pk=orders[1].pk).updated_at
        imported_at = orders[3].imported_at
    in_progress = status_of(tenant, "in_progress").pk
    assert ids(client.get(url, {"status": in_progress})) == [orders[1].pk]
    assert ids(client.get(url, {"updated_from": changed_at.isoformat()})) == [orders[1].pk]
    assert orders[4].pk not in ids(client.get(url, {"created_to": imported_at.isoformat()}))
    assert ids(client.get(url, {"created_from": imported_at.isoformat()})) == [
        orders[4].pk,
        orders[3].pk,
    ]


def test_cursor_pages_walk_every_order_once(orders, write_key):
    client = api(write_key)
    url = reverse("api:orders")
    first = client.get(url, {"limit": 2}).json()
    assert [r["id"] for r in first["results"]] == [orders[4].pk, orders[3].pk]
    assert first["previous_cursor"] is None
    second = client.get(url, {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [r["id"] for r in second["results"]] == [orders[2].pk, orders[1].pk]
    third = client.get(url, {"limit": 2, "cursor": second["next_cursor"]}).json()
    assert [r["id"] for r in third["results"]] == [orders[0].pk]
    assert third["next_cursor"] is None
    back = client.get(url, {"limit": 2, "cursor": third["previous_cursor"]}).json()
    assert [r["id"] for r in back["results"]] == [orders[2].pk, orders[1].pk]


def test_a_bad_cursor_or_filter_says_which(write_key):
    client = api(write_key)
    response = client.get(reverse("api:orders"), {"cursor": "nonsense"})
    assert response.status_code == 400
    assert response.json()["code"] == "cursor_invalid"
    assert response.json()["field"] == "cursor"
    response = client.get(reverse("api:orders"), {"bought_from": "wczoraj"})
    assert response.status_code == 400
    assert response.json()["field"] == "bought_from"
    assert response.json()["code"] == "invalid"
    response = client.get(reverse("api:orders"), {"limit": 1000})
    assert response.json()["field"] == "limit"
    assert response.json()["code"] == "max_value"


def test_detail_has_lines_addresses_payments_shipments_timeline(orders, tenant, write_key):
    order = orders[0]
    with scope(tenant=tenant):
        offer_ids = [line.offer_id for line in order.lines.all()]
        kinds = [e.kind for e in order.events.order_by("-created_at", "-id")]
    response = api(write_key).get(reverse("api:order", args=[order.pk]))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == order.pk
    assert body["number"] == order.number
    assert body["status"] == {"id": order.status_id, "name": order.status.name}
    assert body["channel"]["alias"] == "AL"
    assert body["buyer_email"] == "kupujacy0@example.com"
    assert [line["offer_id"] for line in body["lines"]] == offer_ids
    assert body["addresses"]["delivery"] == order.delivery_address
    assert body["payments"] == [
        {
            "id": order.payment_id,
            "type": "ONLINE",
            "provider": "PAYU",
            "status": order.payment_status,
            "paid_amount": "123.45",
            "paid_at": body["paid_at"],
        }
    ]
    assert body["shipments"] == []
    assert [entry["kind"] for entry in body["timeline"]] == kinds


def test_etag_answers_304_until_the_order_changes(orders, tenant, write_key):
    client = api(write_key)
    url = reverse("api:order", args=[orders[0].pk])
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and len(etag) == 34
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    with scope(tenant=tenant):
        changes.change_order_status(orders[0], status_of(tenant, "in_progress"), None)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["status"]["id"] == status_of(tenant, "in_progress").pk


def test_statuses_and_channels(orders, tenant, write_key):
    client = api(write_key)
    with scope(tenant=tenant):
        expected = list(
            OrderStatus.objects.filter(tenant=tenant)
            .order_by("position", "pk")
            .values_list("pk", "name")
        )
    assert len(expected) >= 5
    assert [(s["id"], s["name"]) for s in client.get(reverse("api:statuses")).json()] == expected
    channels = client.get(reverse("api:channels")).json()
    assert [(c["alias"], c["sync"]["orders_today"]) for c in channels] == [("AL", 0), ("BE", 0)]
    assert channels[0]["sync"]["stuck_total"] == 0
    assert channels[0]["connection_state"] == "connected"
