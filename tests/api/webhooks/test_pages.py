"""Administracja → Webhooki: administrators create (the secret shown once), edit, turn off and
on, delete, read the delivery log and send a test; another company's subscriptions are not
found (404) and other roles are refused (403)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from api.models_webhooks import DisabledReason, WebhookDelivery, WebhookSubscription
from tests.api.webhooks.helpers import subscribe
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"


def url(name: str, tenant, *args) -> str:
    return reverse(f"administration:webhooks:{name}", args=[tenant.slug, *args])


def test_an_administrator_creates_a_webhook_whose_secret_is_shown_once(client, tenant, admin_user):
    client.force_login(admin_user)
    response = client.post(
        url("create", tenant), {"url": URL, "events": ["order.created", "shipment.created"]}
    )
    assert response.status_code == 200
    secret = re.search(
        r'<code id="webhook-secret">(whsec_[\w-]{43})</code>', response.content.decode()
    )[1]
    with scope(tenant=tenant):
        subscription = WebhookSubscription.objects.get(tenant=tenant)
    assert (subscription.url, subscription.events) == (URL, ["order.created", "shipment.created"])
    assert (subscription.secret, subscription.created_by) == (secret, admin_user)
    listing = client.get(url("list", tenant)).content.decode()
    assert "…" + secret[-4:] in listing
    assert secret not in listing
    assert secret not in client.get(url("edit", tenant, subscription.pk)).content.decode()


def test_edit_turn_off_on_send_test_and_delete(client, tenant, admin_user):
    client.force_login(admin_user)
    subscription, _ = subscribe(tenant, URL, ["order.created"])
    response = client.post(
        url("edit", tenant, subscription.pk), {"url": URL + "/2", "events": ["label.created"]}
    )
    assert response.status_code == 302
    with scopes_disabled():
        subscription.refresh_from_db()
    assert (subscription.url, subscription.events) == (URL + "/2", ["label.created"])

    assert (
        client.post(url("set_active", tenant, subscription.pk), {"active": "0"}).status_code == 302
    )
    with scopes_disabled():
        subscription.refresh_from_db()
    assert (subscription.is_active, subscription.disabled_reason) == (
        False,
        DisabledReason.BY_ADMINISTRATOR,
    )
    # A test of a turned-off webhook is refused in words, and nothing is written.
    response = client.post(url("send_test", tenant, subscription.pk), follow=True)
    assert "Turn the webhook on to send it a test." in response.content.decode()
    client.post(url("set_active", tenant, subscription.pk), {"active": "1"})
    with scopes_disabled():
        subscription.refresh_from_db()
        assert not WebhookDelivery.objects.filter(subscription=subscription).exists()
    assert (subscription.is_active, subscription.disabled_reason) == (True, "")

    response = client.post(url("send_test", tenant, subscription.pk))
    assert response.status_code == 302
    with scopes_disabled():
        [test] = WebhookDelivery.objects.filter(subscription=subscription)
    assert test.event_type == "webhook.test"
    log = client.get(url("deliveries", tenant, subscription.pk)).content.decode()
    assert str(test.event_id) in log

    assert client.get(url("delete", tenant, subscription.pk)).status_code == 200
    assert client.post(url("delete", tenant, subscription.pk)).status_code == 302
    with scopes_disabled():
        assert not WebhookSubscription.objects.filter(pk=subscription.pk).exists()
        assert not WebhookDelivery.objects.filter(pk=test.pk).exists()


def test_a_refused_address_is_said_on_the_form(client, tenant, admin_user, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    client.force_login(admin_user)
    response = client.post(url("create", tenant), {"url": URL, "events": ["order.created"]})
    assert response.status_code == 200
    assert "private or reserved network" in response.content.decode()
    with scope(tenant=tenant):
        assert not WebhookSubscription.objects.filter(tenant=tenant).exists()


def test_another_companys_webhooks_are_not_found(client, tenant, other_tenant, admin_user):
    theirs, _ = subscribe(other_tenant, URL, ["order.created"])
    client.force_login(admin_user)
    for name in ("edit", "deliveries", "delete"):
        assert client.get(url(name, tenant, theirs.pk)).status_code == 404
    for name in ("edit", "set_active", "send_test", "delete"):
        assert client.post(url(name, tenant, theirs.pk), {"active": "0"}).status_code == 404
    with scopes_disabled():
        theirs.refresh_from_db()
        assert not WebhookDelivery.objects.filter(subscription=theirs).exists()
    assert (theirs.is_active, theirs.url) == (True, URL)
    assert theirs.secret not in client.get(url("list", tenant)).content.decode()
    # Their own pages, for someone who is not a member: not found either.
    assert client.get(url("list", other_tenant)).status_code == 404


def test_only_administrators_manage_webhooks(client, tenant):
    subscription, _ = subscribe(tenant, URL, ["order.created"])
    user = UserFactory(email="magazyn@alfa.example")
    MembershipFactory(tenant=tenant, user=user, role="sales_manager")
    client.force_login(user)
    pages = [url("list", tenant), url("create", tenant)]
    pages += [url(name, tenant, subscription.pk) for name in ("edit", "deliveries", "delete")]
    for page in pages:
        assert client.get(page).status_code == 403
    for name in ("set_active", "send_test", "delete"):
        assert client.post(url(name, tenant, subscription.pk)).status_code == 403
    with scopes_disabled():
        assert WebhookSubscription.objects.filter(pk=subscription.pk, is_active=True).exists()
