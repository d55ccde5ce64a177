"""One delivery over real HTTP: signed, retried after failures, failed after its retry window,
and a subscription that keeps failing turned off with a mail to its administrators."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import override_settings
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from api.models_webhooks import DeliveryState, DisabledReason, WebhookAttempt, WebhookDelivery
from api.webhooks import sender
from notifications.models import MailKind, OutgoingMail
from tests.api.helpers import imported_order
from tests.api.webhooks.helpers import deliveries_of, subscribe, verify

pytestmark = pytest.mark.django_db(transaction=True)

BOUGHT = dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.UTC)


def attempts_of(delivery_id: int) -> list[tuple[int, int | None, str]]:
    with scopes_disabled():
        return list(
            WebhookAttempt.objects.filter(delivery_id=delivery_id)
            .order_by("number")
            .values_list("number", "status_code", "error")
        )


def test_an_order_created_reaches_the_receiver_signed_with_the_subscription_secret(
    tenant, receiver_with
):
    receiver = receiver_with()
    subscription, secret = subscribe(tenant, receiver.url, ["order.created"])
    order = imported_order(tenant, bought_at=BOUGHT)
    [delivery] = deliveries_of(subscription)

    assert sender.send(delivery.pk).state == DeliveryState.DELIVERED

    [request] = receiver.wait_for(1)
    assert verify(secret, request.headers, request.body)
    assert not verify(secret + "x", request.headers, request.body)
    assert not verify(secret, request.headers, request.body + b" ")
    assert request.headers["X-Apilo-Event"] == "order.created"
    assert request.headers["X-Apilo-Delivery"] == str(delivery.event_id)
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    body = request.json
    assert (body["id"], body["type"]) == (str(delivery.event_id), "order.created")
    assert body["data"]["order"]["id"] == order.pk
    assert body["data"]["order"]["number"] == order.number
    assert body["data"]["order"]["status"] == {"id": order.status_id, "name": order.status.name}
    assert request.body == delivery.body.encode()
    with scopes_disabled():
        delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert [(n, code) for n, code, _error in attempts_of(delivery.pk)] == [(1, 200)]


def test_a_receiver_answering_500_is_tried_again_later_then_delivered_with_the_same_event_id(
    tenant, receiver_with
):
    receiver = receiver_with(statuses=[500, 503])
    subscription, secret = subscribe(tenant, receiver.url, ["order.created"])
    imported_order(tenant, bought_at=BOUGHT)
    [delivery] = deliveries_of(subscription)

    outcome = sender.send(delivery.pk)
    assert outcome.state == DeliveryState.PENDING
    assert 15 <= outcome.retry_in <= 30  # the first delay: 30 s, jittered down to 50 %
    assert sender.send(delivery.pk).state == ""  # not due yet: nothing sent
    assert len(receiver.requests) == 1

    with scopes_disabled():  # the half minute passes
        row = WebhookDelivery.objects.get(pk=delivery.pk)
        assert row.next_attempt_at > timezone.now() + dt.timedelta(seconds=14)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    with override_settings(WEBHOOK_RETRY_BASE_SECONDS=0):
        assert sender.send(delivery.pk).state == DeliveryState.PENDING
        assert sender.send(delivery.pk).state == DeliveryState.DELIVERED
        assert sender.send(delivery.pk).state == ""  # delivered rows are not sent again

    requests = receiver.wait_for(3)
    assert len(requests) == 3
    assert {r.headers["X-Apilo-Delivery"] for r in requests} == {str(delivery.event_id)}
    assert all(verify(secret, r.headers, r.body) for r in requests)
    assert [(n, code) for n, code, _e in attempts_of(delivery.pk)] == [(1, 500), (2, 503), (3, 200)]


@override_settings(WEBHOOK_RETRY_FOR_SECONDS=0, WEBHOOK_DISABLE_AFTER_FAILURES=2)
def test_a_subscription_failing_repeatedly_is_turned_off_and_its_administrators_mailed(
    tenant, admin_user, staff_user, receiver_with
):
    receiver = receiver_with(statuses=[500, 500, 500])
    subscription, _secret = subscribe(tenant, receiver.url, ["order.created"])
    for minute in (1, 2):
        imported_order(tenant, bought_at=BOUGHT + dt.timedelta(minutes=minute))
    first, second = deliveries_of(subscription)

    assert sender.send(first.pk).state == DeliveryState.FAILED  # its retry window is over
    with scopes_disabled():
        subscription.refresh_from_db()
    assert (subscription.is_active, subscription.consecutive_failures) == (True, 1)
    assert sender.send(second.pk).state == DeliveryState.FAILED
    with scopes_disabled():
        subscription.refresh_from_db()
        mails = list(OutgoingMail.objects.filter(kind=MailKind.WEBHOOK_DISABLED))
    assert subscription.is_active is False
    assert subscription.disabled_reason == DisabledReason.FAILURES
    assert subscription.consecutive_failures == 2
    assert [m.to_address for m in mails] == ["admin@alfa.example"]
    assert receiver.url in mails[0].text
    assert f"/app/alfa/administration/webhooks/{subscription.pk}/deliveries/" in mails[0].text

    # Off: the next order's event is not written, and nothing more is sent.
    imported_order(tenant, bought_at=BOUGHT + dt.timedelta(minutes=3))
    assert len(deliveries_of(subscription)) == 2
    assert len(receiver.requests) == 2


def test_a_delivered_event_ends_a_run_of_failures(tenant, receiver_with):
    receiver = receiver_with(statuses=[500])
    subscription, _secret = subscribe(tenant, receiver.url, ["order.created"])
    for minute in (1, 2):
        imported_order(tenant, bought_at=BOUGHT + dt.timedelta(minutes=minute))
    first, second = deliveries_of(subscription)
    with override_settings(WEBHOOK_RETRY_FOR_SECONDS=0):
        assert sender.send(first.pk).state == DeliveryState.FAILED
    assert sender.send(second.pk).state == DeliveryState.DELIVERED
    with scopes_disabled():
        subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0


def test_send_test_posts_a_test_event(tenant, receiver_with):
    from api.webhooks import events

    receiver = receiver_with()
    subscription, secret = subscribe(tenant, receiver.url, ["order.created"])
    with scope(tenant=tenant):
        delivery = events.send_test(subscription)
    assert sender.send(delivery.pk).state == DeliveryState.DELIVERED
    [request] = receiver.wait_for(1)
    assert verify(secret, request.headers, request.body)
    assert json.loads(request.body)["type"] == "webhook.test"
    assert json.loads(request.body)["data"]["subscription"] == {
        "id": subscription.pk,
        "url": receiver.url,
    }
