"""Another company's key finds nothing of this one's; a read key cannot write; a revoked key
is refused."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, reverse
from django_scopes import scope

from api import keys
from api import urls as api_urls
from api.models import ApiKey, WebhookSubscription
from catalog.models import Offer, Product
from fulfillment.models import Shipment
from notifications.outbox import queue_mail
from orders.models import Order
from tests.api.helpers import api, imported_order, key_of
from tests.api.webhooks.helpers import subscribe
from tests.catalog.helpers_products import product as catalog_product
from tests.support.fulfillment import label_job_of
from tests.support.orders import status_of

WHEN = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def order(tenant):
    return imported_order(tenant, bought_at=WHEN)


def _urls(order):
    return {
        "detail": reverse("api:order", args=[order.pk]),
        "status": reverse("api:order_status", args=[order.pk]),
    }


def test_another_companys_key_gets_404_for_every_id(order, tenant, other_key, other_tenant):
    in_progress = status_of(tenant, "in_progress")
    client = api(other_key)
    response = client.get(reverse("api:order", args=[order.pk]))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "field": None}
    response = client.post(
        reverse("api:order_status", args=[order.pk]),
        {"status": status_of(other_tenant, "in_progress").pk},
        content_type="application/json",
    )
    assert response.status_code == 404
    # Its own order, with this company's status id: the status is not found.
    own = imported_order(other_tenant, bought_at=WHEN)
    response = client.post(
        reverse("api:order_status", args=[own.pk]),
        {"status": in_progress.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "status_unknown"
    with scope(tenant=tenant):
        order.refresh_from_db()
    assert order.status.system_code == "new"


def test_lists_show_only_the_keys_company(order, other_key, other_tenant, write_key, tenant):
    theirs = imported_order(other_tenant, bought_at=WHEN, alias="BE")
    listed = api(other_key).get(reverse("api:orders"), {"sort": "-bought"}).json()
    assert [o["id"] for o in listed["results"]] == [theirs.pk]
    ours = api(write_key).get(reverse("api:orders")).json()
    assert [o["id"] for o in ours["results"]] == [order.pk]
    # Filtering by the other company's status or channel id finds nothing either.
    response = api(other_key).get(reverse("api:orders"), {"channel": order.channel_id})
    assert response.json()["results"] == []
    their_statuses = {s["id"] for s in api(other_key).get(reverse("api:statuses")).json()}
    our_statuses = {s["id"] for s in api(write_key).get(reverse("api:statuses")).json()}
    assert their_statuses and our_statuses and not their_statuses & our_statuses
    channels = api(other_key).get(reverse("api:channels")).json()
    assert [c["id"] for c in channels] == [theirs.channel_id]


def test_a_read_key_cannot_write(order, tenant, read_key):
    response = api(read_key).post(
        reverse("api:order_status", args=[order.pk]),
        {"status": status_of(tenant, "in_progress").pk},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json() == {
        "code": "key_read_only",
        "message": "This API key may only read.",
        "field": None,
    }
    with scope(tenant=tenant):
        order.refresh_from_db()
    assert order.status.system_code == "new"
    assert api(read_key).get(reverse("api:order", args=[order.pk])).status_code == 200


def test_a_revoked_or_unknown_key_is_401(order, tenant, write_key):
    url = reverse("api:order", args=[order.pk])
    assert api(write_key).get(url).status_code == 200
    with scope(tenant=tenant):
        keys.revoke_key(ApiKey.objects.get(tenant=tenant))
    response = api(write_key).get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["code"] == "key_invalid"
    assert api("apilo_" + "x" * 43).get(url).json()["code"] == "key_invalid"
    response = api(None).get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "key_missing"
    response = api(None).get(url, headers={"Authorization": "Token abc"})
    assert response.json()["code"] == "key_malformed"


def test_only_the_hash_and_last_four_are_stored(tenant):
    with scope(tenant=tenant):
        new = keys.create_key(tenant, name="ERP", scope="read", created_by=None)
        stored = ApiKey.objects.get(pk=new.key.pk)
        row = ApiKey.objects.filter(pk=stored.pk).values().get()
    assert new.secret.startswith("apilo_") and len(new.secret) == 6 + 43
    assert stored.secret_hash == keys.hash_secret(new.secret) != new.secret
    assert stored.last_four == new.secret[-4:]
    assert new.secret not in str(row)


# Routes of api/urls.py that need no key: the schema and its readers, and the JSON 404.
PUBLIC_ROUTES = {"schema", "docs", "redoc", "unknown"}
# GET lists whose answer has no text of the company's own to look for (status names are the
# defaults every company starts with).
NO_MARKER = {"statuses"}
MARKERS = (
    "alfa-kupujacy@example.com",
    "ALFAWAYBILL1",
    "Poczta Alfy",
    "Allegro AL",
    "alfa-hooks",
    "Kubek Alfy",
)
# POSTs without an id that create in the key's own company (another company's key makes its
# own row, which the lists above then show only to it).
CREATES = {"webhooks", "products"}


def _routes() -> list[tuple[str, list[str], type]]:
    """(name, path kwargs, view class) of every keyed route of the API."""
    found = []
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        view = getattr(pattern.callback, "view_class", None)
        if pattern.name in PUBLIC_ROUTES:
            continue
        assert view is not None, f"api:{pattern.name} is not an ApiView: add it to this test"
        found.append((pattern.name, list(pattern.pattern.converters), view))
    return found


def _methods(view: type) -> list[str]:
    return [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]


@pytest.mark.django_db(transaction=True)
def test_every_route_keeps_to_the_keys_company(tenant, other_tenant):
    """Every keyed route of api/urls.py, walked: another company's key gets 404 for this one's
    ids and sees none of its data in lists; a read key gets 403 on every write. A new route is
    covered without editing this test; a new kind of id needs a builder in ``ids`` below."""
    order = imported_order(tenant, bought_at=WHEN, email="alfa-kupujacy@example.com")
    label = label_job_of(tenant)
    with scope(tenant=tenant):
        Shipment.objects.create(
            tenant=tenant,
            order=order,
            channel_id=order.channel_id,
            carrier_id="DPD",
            waybill="ALFAWAYBILL1",
        )
        with transaction.atomic():
            queue_mail(
                tenant=tenant,
                to="a@example.com",
                subject="Poczta Alfy",
                text="x",
                kind="test",
                order=order,
            )
    webhook, _secret = subscribe(tenant, "http://127.0.0.1:9/alfa-hooks", ["order.created"])
    product = catalog_product(tenant, "Kubek Alfy", sku="ALFA-1", stock=2)
    with scope(tenant=tenant):
        offer = Offer.objects.create(
            tenant=tenant,
            channel_id=order.channel_id,
            external_id="7700001",
            name="Kubek Alfy",
            sku="ALFA-1",
            product=product,
        )
    theirs = imported_order(other_tenant, bought_at=WHEN, alias="BE")
    ours_write, ours_read = key_of(tenant), key_of(tenant, "read")
    their_write = key_of(other_tenant)
    ids = {
        "order_id": order.pk,
        "channel_id": order.channel_id,
        "label_id": label.pk,
        "webhook_id": webhook.pk,
        "product_id": product.pk,
        "offer_id": offer.pk,
    }
    # Writes without an id in the path: a body naming this company's ids.
    bodies: dict[str, dict[str, Any]] = {
        "orders_status": {
            "orders": [order.pk],
            "status": status_of(other_tenant, "in_progress").pk,
        },
        "webhooks": {"url": "http://127.0.0.1:9/theirs", "events": ["order.created"]},
        "products": {"name": "Ich kubek", "sku": "ALFA-1"},
    }
    checked = []
    for name, kwargs, view in _routes():
        missing = [kw for kw in kwargs if kw not in ids]
        assert not missing, f"api:{name} takes {missing}: add a builder to this test"
        url = reverse(f"api:{name}", kwargs={kw: ids[kw] for kw in kwargs})
        for method in _methods(view):
            if method == "get":
                answer = api(their_write).get(url)
                if kwargs:
                    assert answer.status_code == 404, (name, answer.status_code)
                    assert answer.json()["code"] == "not_found"
                else:
                    assert answer.status_code == 200, (name, answer.status_code)
                    text = json.dumps(answer.json(), ensure_ascii=False)
                    assert not [m for m in MARKERS if m in text], name
                    own = json.dumps(api(ours_write).get(url).json(), ensure_ascii=False)
                    # The check above could fail: this company's own key sees its data here.
                    assert name in NO_MARKER or [m for m in MARKERS if m in own], name
            else:
                assert method in ("post", "patch", "delete"), f"api:{name} {method}: add it"
                if kwargs:
                    body: dict[str, Any] = {}
                else:
                    assert name in bodies, f"api:{name}: add a body naming this company's ids"
                    body = bodies[name]
                send = getattr(api(their_write), method)
                answer = send(url, body, content_type="application/json")
                if kwargs:
                    assert answer.status_code == 404, (name, method, answer.status_code)
                elif name in CREATES:
                    # Made in the other company (its own SKU space): nothing of this one's.
                    assert answer.status_code == 201, (name, answer.content)
                    assert not [m for m in MARKERS if m in answer.content.decode()], name
                else:
                    assert answer.status_code == 200, (name, answer.content)
                    assert {r["result"] for r in answer.json()["results"]} == {"not_found"}
                refused = getattr(api(ours_read), method)(
                    url, body, content_type="application/json"
                )
                assert refused.status_code == 403, (name, method, refused.status_code)
                assert refused.json()["code"] == "key_read_only"
            checked.append((name, method))
    assert len(checked) >= 12
    with scope(tenant=tenant):
        assert Order.objects.get(pk=order.pk).status.system_code == "new"
        assert Shipment.objects.filter(order=order).count() == 1
        assert Product.objects.get(pk=product.pk).stock == 2
        assert WebhookSubscription.objects.filter(pk=webhook.pk).exists()
    with scope(tenant=other_tenant):
        assert Order.objects.get(pk=theirs.pk).status.system_code == "new"
