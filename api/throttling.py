"""The per-key rate limit: at most ``rate_limit_per_minute`` requests in any
``API_RATE_WINDOW_SECONDS`` (60) seconds, a sliding window counted in Redis (the shared cache)
so every web worker counts together.

Each key has a sorted set of the times of its requests in the window (Redis's own clock, so the
web servers' clocks do not matter); one Lua script drops the ones older than the window, counts,
and either records the request or answers how long until the oldest one leaves the window. That
wait is the 429's ``Retry-After`` (rounded up to whole seconds): a request sent after it is
accepted. Unlike a calendar-minute counter, no 60 seconds ever hold more than the limit.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from api.models import ApiKey

# KEYS[1] the key's set; ARGV: window (µs), limit, a unique member. Returns {1, 0} when the
# request is counted, {0, µs until a place frees} when it is over the limit.
_SLIDING_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, 0}
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
return {0, oldest + window - now}
"""


def window_seconds() -> float:
    return float(getattr(settings, "API_RATE_WINDOW_SECONDS", 60))


def counter_key(key: ApiKey) -> str:
    return f"apilo:api:rate:{key.tenant_id}:{key.pk}"


def _client() -> Any:
    return cache._cache.get_client(write=True)  # type: ignore[attr-defined]  # RedisCache


class KeyRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait_us = 0

    def allow_request(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True  # no key: refused by the permission check, not counted
        script = _client().register_script(_SLIDING_LUA)
        window_us = int(window_seconds() * 1_000_000)
        allowed, wait_us = script(
            keys=[counter_key(key)], args=[window_us, key.rate_limit_per_minute, uuid.uuid4().hex]
        )
        if int(allowed) == 1:
            return True
        self._wait_us = int(wait_us)
        return False

    def wait(self) -> float:
        return float(max(1, math.ceil(self._wait_us / 1_000_000)))
