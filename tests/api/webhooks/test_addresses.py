"""Only http(s) addresses of public hosts: private and loopback ones are refused when the
subscription is saved and again before each attempt (a name may resolve elsewhere later),
unless the deployment allows them (the suite's settings do; these tests turn that off)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django_scopes import scope, scopes_disabled

from api.models_webhooks import WebhookAttempt
from api.webhooks import addresses, sender, subscriptions
from api.webhooks.errors import WebhookError
from tests.api.helpers import imported_order
from tests.api.webhooks.helpers import deliveries_of, subscribe

PRIVATE = [
    "http://127.0.0.1:8080/hooks",
    "http://localhost/hooks",
    "http://10.1.2.3/",
    "http://192.168.0.10/",
    "http://172.16.5.4/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://100.64.0.1/",
]


@pytest.mark.parametrize("url", PRIVATE)
@override_settings(WEBHOOKS_ALLOW_PRIVATE_ADDRESSES=False)
def test_private_and_reserved_addresses_are_refused(url):
    with pytest.raises(WebhookError) as refused:
        addresses.resolve(url)
    assert (refused.value.code, refused.value.field) == ("url_address_not_allowed", "url")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/", "url_scheme_not_allowed"),
        ("file:///etc/passwd", "url_scheme_not_allowed"),
        ("gopher://127.0.0.1/", "url_scheme_not_allowed"),
        ("http://user:pass@example.com/", "url_credentials"),
        ("http:///nohost", "url_invalid"),
        ("http://example.com:99999/", "url_invalid"),
        ("http://no-such-host.invalid/", "url_host_unknown"),
    ],
)
def test_only_http_and_https_addresses_of_known_hosts(url, code):
    with pytest.raises(WebhookError) as refused:
        addresses.resolve(url)
    assert refused.value.code == code


def test_a_public_address_is_accepted_and_pinned():
    target = addresses.resolve("https://93.184.215.14:8443/in?x=1")
    assert (target.scheme, target.host, target.port, target.path, target.ip) == (
        "https",
        "93.184.215.14",
        8443,
        "/in?x=1",
        "93.184.215.14",
    )


@pytest.mark.django_db
@override_settings(WEBHOOKS_ALLOW_PRIVATE_ADDRESSES=False)
def test_a_subscription_to_a_loopback_address_is_not_saved(tenant):
    with scope(tenant=tenant), pytest.raises(WebhookError) as refused:
        subscriptions.create_subscription(
            tenant, url="http://localhost:8000/", events=["order.created"], created_by=None
        )
    assert refused.value.code == "url_address_not_allowed"


@pytest.mark.django_db(transaction=True)
def test_an_address_that_turned_private_is_not_called_at_send_time(tenant, receiver_with):
    receiver = receiver_with()
    # Saved while allowed (as a public name that later resolves to an internal address).
    subscription, _secret = subscribe(
        tenant, receiver.url.replace("127.0.0.1", "localhost"), ["order.created"]
    )
    imported_order(tenant, bought_at=dt.datetime(2026, 11, 3, tzinfo=dt.UTC))
    [delivery] = deliveries_of(subscription)
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_ADDRESSES=False):
        assert sender.send(delivery.pk).state == "pending"
    assert receiver.requests == []
    with scopes_disabled():
        attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert (attempt.status_code, attempt.error) == (None, "url_address_not_allowed")
