"""Stored answers of idempotent POSTs are forgotten after their retention (beat's purge)."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from api import idempotency
from api.models import IdempotentRequest
from api.tasks import purge_idempotency_records
from tests.api.helpers import api, imported_order
from tests.support.orders import status_of

WHEN = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@override_settings(API_IDEMPOTENCY_RETENTION_HOURS=24)
def test_answers_older_than_the_retention_are_purged(tenant, other_tenant, write_key):
    order = imported_order(tenant, bought_at=WHEN)
    url = reverse("api:order_status", args=[order.pk])
    body = {"status": status_of(tenant, "in_progress").pk}
    for name in ("old", "fresh"):
        response = api(write_key).post(
            url, body, content_type="application/json", headers={"Idempotency-Key": name}
        )
        assert response.status_code == 200
    now = timezone.now()
    with scopes_disabled():
        IdempotentRequest.objects.filter(key="old").update(created_at=now - dt.timedelta(hours=25))
        IdempotentRequest.objects.filter(key="fresh").update(
            created_at=now - dt.timedelta(hours=23)
        )
    assert purge_idempotency_records.apply().get() == 1
    with scope(tenant=tenant):
        assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["fresh"]
    assert idempotency.purge_expired() == 0
    # The purged key is a new request again: it runs (and, the status being set, changes nothing).
    again = api(write_key).post(
        url, body, content_type="application/json", headers={"Idempotency-Key": "old"}
    )
    assert again.json()["changed"] is False and "Idempotent-Replayed" not in again


def test_the_purge_is_on_beats_schedule():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["api-idempotency-purge"]
    assert entry["task"] == purge_idempotency_records.name == "api.tasks.purge_idempotency_records"
