"""/api/v1/webhooks/: a read-and-write key lists, creates (the secret answered once) and deletes
the company's webhooks; a read key is refused (403), another company's webhook is not found."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from django.urls import reverse
from django_scopes import scopes_disabled

from api.models_webhooks import WebhookSubscription
from tests.api.helpers import api
from tests.api.webhooks.helpers import subscribe

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"


def post(client, body, **headers):
    return client.post(
        reverse("api:webhooks"), json.dumps(body), content_type="application/json", **headers
    )


def test_create_list_and_delete(tenant, write_key):
    client = api(write_key)
    created = post(client, {"url": URL, "events": ["order.created"]}, HTTP_IDEMPOTENCY_KEY="w1")
    assert created.status_code == 201
    body = created.json()
    with scopes_disabled():
        subscription = WebhookSubscription.objects.get(pk=body["id"])
    assert body["secret"] == subscription.secret
    assert body["secret_last_four"] == subscription.secret[-4:]
    assert (body["url"], body["events"], body["is_active"]) == (URL, ["order.created"], True)
    assert subscription.tenant_id == tenant.pk
    replay = post(client, {"url": URL, "events": ["order.created"]}, HTTP_IDEMPOTENCY_KEY="w1")
    assert (replay.status_code, replay.json()["id"]) == (201, body["id"])
    with scopes_disabled():
        assert WebhookSubscription.objects.count() == 1

    listed = client.get(reverse("api:webhooks")).json()
    assert [(w["id"], w["url"]) for w in listed] == [(body["id"], URL)]
    assert "secret" not in listed[0]

    assert client.delete(reverse("api:webhook", args=[body["id"]])).status_code == 204
    with scopes_disabled():
        assert not WebhookSubscription.objects.exists()


@override_settings(WEBHOOKS_ALLOW_PRIVATE_ADDRESSES=False)
def test_a_refused_address_answers_its_code(write_key):
    answer = post(api(write_key), {"url": URL, "events": ["order.created"]})
    assert answer.status_code == 400
    assert (answer.json()["code"], answer.json()["field"]) == ("url_address_not_allowed", "url")
    answer = post(api(write_key), {"url": URL, "events": ["order.shipped"]})
    assert answer.status_code == 400
    assert answer.json()["field"] == "events"


def test_a_read_key_is_refused_and_another_companys_webhook_not_found(
    tenant, other_tenant, read_key, write_key
):
    ours, _ = subscribe(tenant, URL, ["order.created"])
    theirs, _ = subscribe(other_tenant, URL, ["order.created"])
    reader = api(read_key)
    assert reader.get(reverse("api:webhooks")).status_code == 403
    assert post(reader, {"url": URL, "events": ["order.created"]}).status_code == 403
    answer = reader.delete(reverse("api:webhook", args=[ours.pk]))
    assert (answer.status_code, answer.json()["code"]) == (403, "key_read_only")
    writer = api(write_key)
    assert [w["id"] for w in writer.get(reverse("api:webhooks")).json()] == [ours.pk]
    answer = writer.delete(reverse("api:webhook", args=[theirs.pk]))
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    with scopes_disabled():
        assert WebhookSubscription.objects.filter(pk__in=[ours.pk, theirs.pk]).count() == 2
