"""Status changes through the API: the pages' service, Idempotency-Key replays, the error
shape of refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django_scopes import scope

from api.models import IdempotentRequest
from orders.models import OrderEvent, OrderEventKind
from orders.statuses import set_status_active
from tests.api.helpers import api, imported_order
from tests.support.orders import status_of

WHEN = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def order(tenant):
    return imported_order(tenant, bought_at=WHEN)


def _post(secret, order, body, **headers):
    return api(secret).post(
        reverse("api:order_status", args=[order.pk]),
        body,
        content_type="application/json",
        headers=headers,
    )


def _status_changes(tenant, order):
    with scope(tenant=tenant):
        return OrderEvent.objects.filter(order=order, kind=OrderEventKind.STATUS_CHANGED).count()


def test_a_status_change_goes_through_the_orders_service(order, tenant, write_key):
    in_progress = status_of(tenant, "in_progress")
    response = _post(write_key, order, {"status": in_progress.pk})
    assert response.status_code == 200
    assert response.json() == {
        "changed": True,
        "status": {"id": in_progress.pk, "name": in_progress.name},
    }
    with scope(tenant=tenant):
        order.refresh_from_db()
    assert order.status_id == in_progress.pk
    assert _status_changes(tenant, order) == 1
    again = _post(write_key, order, {"status": in_progress.pk})
    assert again.json()["changed"] is False


def test_a_replay_returns_the_first_answer_and_changes_nothing(order, tenant, write_key):
    in_progress, sent = status_of(tenant, "in_progress"), status_of(tenant, "sent")
    first = _post(write_key, order, {"status": in_progress.pk}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first
    # Meanwhile the order moves on; the replay must not move it back.
    _post(write_key, order, {"status": sent.pk})
    replay = _post(write_key, order, {"status": in_progress.pk}, **{"Idempotency-Key": "k-1"})
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    with scope(tenant=tenant):
        order.refresh_from_db()
        assert IdempotentRequest.objects.filter(tenant=tenant, key="k-1").count() == 1
    assert order.status_id == sent.pk
    assert _status_changes(tenant, order) == 2


def test_the_same_key_with_another_body_is_422(order, tenant, write_key):
    in_progress, sent = status_of(tenant, "in_progress"), status_of(tenant, "sent")
    _post(write_key, order, {"status": in_progress.pk}, **{"Idempotency-Key": "k-2"})
    response = _post(write_key, order, {"status": sent.pk}, **{"Idempotency-Key": "k-2"})
    assert response.status_code == 422
    assert response.json() == {
        "code": "idempotency_key_reused",
        "message": "This Idempotency-Key was already used for a different request.",
        "field": None,
    }
    with scope(tenant=tenant):
        order.refresh_from_db()
    assert order.status_id == in_progress.pk


def test_keys_are_per_company(order, tenant, other_tenant, write_key, other_key):
    theirs = imported_order(other_tenant, bought_at=WHEN)
    _post(
        write_key,
        order,
        {"status": status_of(tenant, "in_progress").pk},
        **{"Idempotency-Key": "k"},
    )
    response = _post(
        other_key,
        theirs,
        {"status": status_of(other_tenant, "sent").pk},
        **{"Idempotency-Key": "k"},
    )
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response


def test_a_refusal_is_a_user_error_and_is_replayed(order, tenant, write_key):
    in_progress = status_of(tenant, "in_progress")
    with scope(tenant=tenant):
        in_progress = set_status_active(in_progress, False)
    first = _post(write_key, order, {"status": in_progress.pk}, **{"Idempotency-Key": "k-3"})
    assert first.status_code == 409
    assert first.json() == {
        "code": "status_inactive",
        "message": f"“{in_progress.name}” is not active; activate it in Administration first.",
        "field": None,
    }
    replay = _post(write_key, order, {"status": in_progress.pk}, **{"Idempotency-Key": "k-3"})
    assert replay.status_code == 409
    assert replay.json() == first.json()


def test_validation_errors_have_the_same_shape(order, write_key):
    response = _post(write_key, order, {"status": "jeden"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "A valid integer is required.",
        "field": "status",
    }
    response = _post(write_key, order, {})
    assert response.json() == {
        "code": "required",
        "message": "This field is required.",
        "field": "status",
    }
    response = api(write_key).post(
        reverse("api:order_status", args=[order.pk]), "{", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    response = api(write_key).delete(reverse("api:order", args=[order.pk]))
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_refusals_speak_the_requested_language(order, tenant, read_key):
    response = api(read_key, "pl").post(
        reverse("api:order_status", args=[order.pk]),
        {"status": status_of(tenant, "in_progress").pk},
        content_type="application/json",
    )
    assert response.json() == {
        "code": "key_read_only",
        "message": "Ten klucz API pozwala tylko na odczyt.",
        "field": None,
    }
