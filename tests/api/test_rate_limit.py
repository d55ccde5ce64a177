"""Each key has its own budget of requests in any window (a sliding window in Redis); over it:
429 with the exact seconds until a request is accepted again."""

from __future__ import annotations

import math
import time

from django.test import override_settings
from django.urls import reverse
from django_scopes import scope

from api.models import ApiKey
from api.throttling import _client, counter_key
from tests.api.helpers import api, key_of


def _key(tenant, secret: str) -> ApiKey:
    from api import keys

    with scope(tenant=tenant):
        return keys.key_for_secret(secret)


def test_over_the_keys_limit_is_429_with_retry_after(tenant):
    limited = key_of(tenant, rate_limit=3)
    other = key_of(tenant, rate_limit=3)
    url = reverse("api:statuses")
    codes = [api(limited).get(url).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = api(limited).get(url)
    assert refused.status_code == 429
    # Retry-After: until the oldest counted request leaves the 60 s window, rounded up.
    oldest_us = _client().zrange(counter_key(_key(tenant, limited)), 0, 0, withscores=True)[0][1]
    seconds, micros = _client().time()
    left = (oldest_us + 60_000_000 - (seconds * 1_000_000 + micros)) / 1_000_000
    assert int(refused["Retry-After"]) in {math.ceil(left), math.ceil(left) + 1}
    assert 58 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["field"] is None
    # Another key of the same company has its own budget.
    assert api(other).get(url).status_code == 200


@override_settings(API_RATE_WINDOW_SECONDS=2)
def test_the_window_slides_and_retry_after_is_enough(tenant):
    limited = key_of(tenant, rate_limit=2)
    url = reverse("api:statuses")
    assert api(limited).get(url).status_code == 200
    time.sleep(1.2)
    assert api(limited).get(url).status_code == 200
    refused = api(limited).get(url)
    assert refused.status_code == 429
    # The first request leaves the window ~0.8 s from now: a calendar window would say 2.
    assert refused["Retry-After"] == "1"
    time.sleep(int(refused["Retry-After"]))
    # One place freed (the first request's); the second is still in the window.
    assert api(limited).get(url).status_code == 200
    assert api(limited).get(url).status_code == 429


def test_the_default_limit_is_150(tenant):
    key_of(tenant)
    with scope(tenant=tenant):
        assert ApiKey.objects.get(tenant=tenant).rate_limit_per_minute == 150
