"""The per-key rate limit: ``rate_limit_per_minute`` requests in each calendar minute, counted
in Redis (the shared cache) under a key naming the tenant and the key, so every web worker
counts together. Over it: 429 with Retry-After (the seconds to the next minute)."""

from __future__ import annotations

import math
import time
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from api.models import ApiKey

WINDOW_SECONDS = 60


def counter_key(key: ApiKey, window: int) -> str:
    return f"apilo:api:rate:{key.tenant_id}:{key.pk}:{window}"


class KeyRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait = 0.0

    def allow_request(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True  # no key: refused by the permission check, not counted
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        name = counter_key(key, window)
        # add() creates the counter with the window's lifetime; incr() is atomic in Redis.
        cache.add(name, 0, timeout=WINDOW_SECONDS * 2)
        try:
            count = cache.incr(name)
        except ValueError:  # expired between add() and incr()
            cache.add(name, 1, timeout=WINDOW_SECONDS * 2)
            count = 1
        if count <= key.rate_limit_per_minute:
            return True
        self._wait = (window + 1) * WINDOW_SECONDS - now
        return False

    def wait(self) -> float:
        return float(max(1, math.ceil(self._wait)))
