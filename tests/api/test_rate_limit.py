"""Each key has its own budget of requests a minute, counted in Redis; over it: 429."""

from __future__ import annotations

import time

from django.urls import reverse

from api.throttling import WINDOW_SECONDS
from tests.api.helpers import api, key_of


def _wait_for_a_fresh_minute(margin: int) -> None:
    # The budget is per calendar minute: start where `margin` requests cannot cross into the
    # next one (so the count below is exact, whatever the machine's speed).
    while WINDOW_SECONDS - time.time() % WINDOW_SECONDS < margin:
        time.sleep(0.5)


def test_over_the_keys_limit_is_429_with_retry_after(tenant):
    limited = key_of(tenant, rate_limit=3)
    other = key_of(tenant, rate_limit=3)
    _wait_for_a_fresh_minute(20)
    url = reverse("api:statuses")
    codes = [api(limited).get(url).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = api(limited).get(url)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= WINDOW_SECONDS
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["field"] is None
    # Another key of the same company has its own budget.
    assert api(other).get(url).status_code == 200


def test_the_default_limit_is_150(tenant):
    from django_scopes import scope

    from api.models import ApiKey

    key_of(tenant)
    with scope(tenant=tenant):
        assert ApiKey.objects.get(tenant=tenant).rate_limit_per_minute == 150
