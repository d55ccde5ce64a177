"""Another company's key finds nothing of this one's; a read key cannot write; a revoked key
is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django_scopes import scope

from api import keys
from api.models import ApiKey
from tests.api.helpers import api, imported_order
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
