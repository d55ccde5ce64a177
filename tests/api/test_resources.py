"""Bulk status change, shipments, carriers, labels, the mail log, and JSON for unknown paths."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from fulfillment.models import ChannelCarriers, Shipment
from notifications.models import OutgoingMail
from notifications.outbox import queue_mail
from orders.models import Order, OrderEvent, OrderEventKind
from tests.api.helpers import api, imported_order
from tests.support.fulfillment import PDF, label_job_of
from tests.support.orders import status_of

WHEN = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _post(secret, url, body, **headers):
    return api(secret).post(url, body, content_type="application/json", headers=headers)


def test_bulk_status_change_answers_per_order(tenant, other_tenant, write_key):
    first = imported_order(tenant, bought_at=WHEN)
    second = imported_order(tenant, bought_at=WHEN + dt.timedelta(hours=1))
    theirs = imported_order(other_tenant, bought_at=WHEN, alias="BE")
    in_progress = status_of(tenant, "in_progress")
    with scope(tenant=tenant):
        Order.objects.filter(pk=second.pk).update(status=in_progress)
    body = {"orders": [first.pk, second.pk, theirs.pk, 999999, first.pk], "status": in_progress.pk}
    response = _post(write_key, reverse("api:orders_status"), body)
    assert response.status_code == 200
    assert response.json() == {
        "status": {"id": in_progress.pk, "name": "W realizacji"},
        "results": [
            {"id": first.pk, "result": "changed"},
            {"id": second.pk, "result": "unchanged"},
            # another company's order reads exactly like an id that does not exist
            {"id": theirs.pk, "result": "not_found"},
            {"id": 999999, "result": "not_found"},
        ],
    }
    with scope(tenant=tenant):
        assert Order.objects.get(pk=first.pk).status_id == in_progress.pk
        changes = OrderEvent.objects.filter(kind=OrderEventKind.STATUS_CHANGED)
        assert list(changes.values_list("order_id", flat=True)) == [first.pk]
    with scope(tenant=other_tenant):
        assert Order.objects.get(pk=theirs.pk).status.system_code == "new"


def test_bulk_status_change_refuses_an_unknown_status_and_replays(tenant, write_key):
    order = imported_order(tenant, bought_at=WHEN)
    url = reverse("api:orders_status")
    response = _post(write_key, url, {"orders": [order.pk], "status": 999999})
    assert response.status_code == 400
    assert response.json()["code"] == "status_unknown"
    assert _post(write_key, url, {"orders": [], "status": 1}).json()["field"] == "orders"
    body = {"orders": [order.pk], "status": status_of(tenant, "in_progress").pk}
    first = _post(write_key, url, body, **{"Idempotency-Key": "bulk-1"})
    again = _post(write_key, url, body, **{"Idempotency-Key": "bulk-1"})
    assert first.json()["results"] == [{"id": order.pk, "result": "changed"}]
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"


def test_a_shipment_is_added_listed_and_not_added_twice(tenant, write_key):
    order = imported_order(tenant, bought_at=WHEN)
    url = reverse("api:shipments", args=[order.pk])
    body = {"carrier_id": "INPOST", "waybill": "620000111222333444555666"}
    response = _post(write_key, url, body, **{"Idempotency-Key": "ship-1"})
    assert response.status_code == 201
    created = response.json()
    assert created["carrier_id"] == "INPOST" and created["carrier_name"] == "InPost"
    assert created["waybill"] == "620000111222333444555666" and created["line_ids"] == []
    replay = _post(write_key, url, body, **{"Idempotency-Key": "ship-1"})
    assert replay.status_code == 201 and replay.json() == created
    twice = _post(write_key, url, body)
    assert twice.status_code == 400
    assert twice.json()["code"] == "waybill_taken" and twice.json()["field"] == "waybill"
    bad = _post(write_key, url, {"carrier_id": "NOPE", "waybill": "1"})
    assert (bad.status_code, bad.json()["code"]) == (400, "carrier_unknown")
    with scope(tenant=tenant):
        assert Shipment.objects.filter(order=order).count() == 1
    listed = api(write_key).get(url).json()
    assert [s["id"] for s in listed["results"]] == [created["id"]]
    assert listed["next_cursor"] is None
    detail = api(write_key).get(reverse("api:order", args=[order.pk])).json()
    assert [s["waybill"] for s in detail["shipments"]] == ["620000111222333444555666"]


def test_shipments_page_by_cursor(tenant, write_key):
    order = imported_order(tenant, bought_at=WHEN)
    url = reverse("api:shipments", args=[order.pk])
    for n in range(3):
        assert _post(write_key, url, {"carrier_id": "DPD", "waybill": f"W{n}"}).status_code == 201
    page = api(write_key).get(url, {"limit": 2}).json()
    assert [s["waybill"] for s in page["results"]] == ["W0", "W1"]
    rest = api(write_key).get(url, {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [s["waybill"] for s in rest["results"]] == ["W2"] and rest["next_cursor"] is None
    broken = api(write_key).get(url, {"cursor": "nonsense!"})
    assert broken.status_code == 400 and broken.json()["code"] == "cursor_invalid"


def test_carriers_are_what_fulfillment_stored(tenant, write_key):
    order = imported_order(tenant, bought_at=WHEN)
    fetched = timezone.now().replace(microsecond=0)
    with scope(tenant=tenant):
        ChannelCarriers.objects.create(
            tenant=tenant,
            channel_id=order.channel_id,
            carriers=[["DPD", "DPD"], ["INPOST", "InPost"]],
            fetched_at=fetched,
            next_refresh_at=fetched + dt.timedelta(days=1),
        )
    answer = api(write_key).get(reverse("api:carriers", args=[order.channel_id])).json()
    assert answer == {
        "channel": order.channel_id,
        "fetched_at": fetched.isoformat().replace("+00:00", "Z"),
        "carriers": [
            {"id": "DPD", "name": "DPD"},
            {"id": "INPOST", "name": "InPost"},
            {"id": "OTHER", "name": "Other carrier (enter its name)"},
        ],
    }


def test_labels_and_their_file_are_the_keys_companys(tenant, other_tenant, write_key, other_key):
    job = label_job_of(tenant)
    listed = api(write_key).get(reverse("api:labels", args=[job.order_id])).json()
    assert listed["results"] == [
        {
            "id": job.pk,
            "state": "ready",
            "carrier": "DPD",
            "waybills": ["1000111222333"],
            "file_type": "PDF",
            "has_file": True,
            "created_at": listed["results"][0]["created_at"],
            "finished_at": None,
        }
    ]
    response = api(write_key).get(reverse("api:label_file", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    refused = api(other_key).get(reverse("api:label_file", args=[job.pk]))
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"


def test_the_mail_log_lists_the_companys_mail_by_order(tenant, other_tenant, write_key):
    order = imported_order(tenant, bought_at=WHEN)
    with scope(tenant=tenant), transaction.atomic():
        about = queue_mail(
            tenant=tenant,
            to="a@example.com",
            subject="O zamówieniu",
            text="x",
            kind="test",
            order=order,
        )
        other = queue_mail(tenant=tenant, to="b@example.com", subject="Inne", text="x", kind="test")
    with scope(tenant=other_tenant), transaction.atomic():
        queue_mail(tenant=other_tenant, to="c@example.com", subject="Ich", text="x", kind="test")
    listed = api(write_key).get(reverse("api:mail")).json()
    assert [m["id"] for m in listed["results"]] == [other.pk, about.pk]
    assert listed["results"][1]["subject"] == "O zamówieniu"
    assert listed["results"][1]["order_id"] == order.pk
    with scope(tenant=tenant):
        state = OutgoingMail.objects.get(pk=about.pk).state
    assert listed["results"][1]["state"] == state
    by_order = api(write_key).get(reverse("api:mail"), {"order": order.pk}).json()
    assert [m["id"] for m in by_order["results"]] == [about.pk]
    by_state = api(write_key).get(reverse("api:mail"), {"state": state}).json()
    assert about.pk in [m["id"] for m in by_state["results"]]
    assert api(write_key).get(reverse("api:mail"), {"state": "bounced"}).json()["results"] == []


def test_the_carrier_filter_finds_orders_by_their_shipments(tenant, write_key):
    shipped = imported_order(tenant, bought_at=WHEN)
    imported_order(tenant, bought_at=WHEN + dt.timedelta(hours=1))
    _post(
        write_key,
        reverse("api:shipments", args=[shipped.pk]),
        {"carrier_id": "DPD", "waybill": "X1"},
    )
    found = api(write_key).get(reverse("api:orders"), {"carrier": "DPD"}).json()
    assert [o["id"] for o in found["results"]] == [shipped.pk]
    assert api(write_key).get(reverse("api:orders"), {"carrier": "GLS"}).json()["results"] == []


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/orders", "/api/v2/orders/", "/api/"])
def test_unknown_paths_under_api_answer_json_404(path, write_key):
    response = api(write_key).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "message": "Not found.", "field": None}


def test_a_wrong_method_is_json_405(write_key):
    response = api(write_key).delete(reverse("api:orders"))
    assert response.status_code == 405
    assert response.json() == {
        "code": "method_not_allowed",
        "message": 'Method "DELETE" not allowed.',
        "field": None,
    }
