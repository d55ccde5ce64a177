"""The deployment-wide Allegro rate limiter: one token bucket per client id, shared by every
worker on every machine through Redis, plus a shared "blocked until" mark set after a 429.

Allegro allows ``L`` requests per minute per client id (9000 by default; setting
``ALLEGRO_RATE_LIMIT_PER_MINUTE``), shared by every tenant, and blocks the client id for about a
minute on the first request over the limit; requests during the block extend it. So:

* **Bucket.** For ``L`` requests per window ``W`` (60 s): capacity ``C = L/W`` (one second of
  traffic), refilled at ``r = (L - 2C)/W`` per second. Any window of ``W`` seconds then admits
  at most ``C + W·r = L - C`` requests: below ``L`` with a second's worth of headroom for the
  jitter between when we grant a call and when Allegro counts it. (``W`` is a constructor
  argument so tests and benchmarks can compress a minute; deployments keep 60 s.)
* **Block.** A 429 sets ``blocked until = now + Retry-After`` (60 s when absent; the mark only
  ever moves later). While it is set, no worker calls Allegro for that client id: ``acquire``
  raises :class:`RateLimited` at once (Celery tasks retry after ``retry_after``), so retries do not
  extend Allegro's block.

The bucket and the block live in one atomic Lua script using Redis' own clock, so workers on
different machines with skewed clocks agree. Without ``REDIS_URL`` (the embedded development mode
of ``make run``) a simple in-process limiter takes its place: it only limits the one process it
lives in, which is fine for a single developer and wrong for a deployment.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

KEY_PREFIX = "apilo:allegro:ratelimit:"

# KEYS[1] = bucket hash, KEYS[2] = blocked-until key.
# ARGV[1] = capacity, ARGV[2] = refill per millisecond, ARGV[3] = cost.
# Returns {status, wait_ms, granted_at_us}: status 1 = granted, 0 = wait wait_ms, -1 = blocked
# for wait_ms more.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now_us / 1000)
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now_ms then
  return {-1, blocked - now_ms, now_us}
end
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now_ms
end
if now_ms > ts then
  tokens = math.min(capacity, tokens + (now_ms - ts) * rate)
  ts = now_ms
end
local ttl = math.ceil(capacity / rate) + 1000
if tokens >= cost then
  tokens = tokens - cost
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1, 0, now_us}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], ttl)
return {0, math.ceil((cost - tokens) / rate), now_us}
"""

# KEYS[1] = blocked-until key; ARGV[1] = block milliseconds. Only ever moves the mark later.
# Returns the blocked-until time (ms since the epoch, Redis clock).
_BLOCK_LUA = """
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilms = now_ms + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= untilms then
  return current
end
redis.call('SET', KEYS[1], tostring(untilms), 'PX', tonumber(ARGV[1]) + 1000)
return untilms
"""

# KEYS[1] = blocked-until key. Returns the milliseconds the block still lasts (0: not blocked).
_BLOCKED_FOR_LUA = """
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = tonumber(redis.call('GET', KEYS[1]) or '0')
if blocked > now_ms then
  return blocked - now_ms
end
return 0
"""


class RateLimited(Exception):
    """No call may be made for this client id now; try again after ``retry_after`` seconds."""

    def __init__(self, client_id: str, retry_after: float, *, blocked: bool) -> None:
        self.client_id = client_id
        self.retry_after = max(0.0, retry_after)
        self.blocked = blocked
        reason = "blocked after a 429" if blocked else "request budget exhausted"
        super().__init__(f"Allegro client {client_id}: {reason}; retry in {self.retry_after:.1f}s")


@dataclass(frozen=True)
class Grant:
    """A granted call: when (server clock, µs since the epoch)."""

    at_us: int


class Limiter(Protocol):
    def acquire(self, client_id: str, *, max_wait: float | None = None) -> Grant: ...

    def block(self, client_id: str, seconds: float) -> float: ...

    def blocked_for(self, client_id: str) -> float: ...


def bucket_parameters(limit: int, window_seconds: float = 60.0) -> tuple[float, float]:
    """(capacity, refill per second) so that any window admits at most ``limit - capacity``."""
    if window_seconds <= 2:
        raise ValueError("the rate-limit window must be longer than 2 seconds")
    capacity = max(1.0, limit / window_seconds)
    rate = (limit - 2 * capacity) / window_seconds
    if rate <= 0:
        raise ValueError("ALLEGRO_RATE_LIMIT_PER_MINUTE is too small")
    return capacity, rate


class RedisLimiter:
    """The shared limiter (see the module docstring)."""

    def __init__(
        self,
        redis_url: str,
        per_minute: int,
        default_max_wait: float = 30.0,
        *,
        window_seconds: float = 60.0,
    ) -> None:
        import redis

        self.client = redis.Redis.from_url(redis_url)
        self.per_minute = per_minute
        self.capacity, self.rate_per_second = bucket_parameters(per_minute, window_seconds)
        self.default_max_wait = default_max_wait
        self._acquire = self.client.register_script(_ACQUIRE_LUA)
        self._block = self.client.register_script(_BLOCK_LUA)
        self._blocked_for = self.client.register_script(_BLOCKED_FOR_LUA)

    @staticmethod
    def _keys(client_id: str) -> list[str]:
        return [f"{KEY_PREFIX}{client_id}:bucket", f"{KEY_PREFIX}{client_id}:blocked"]

    def acquire(self, client_id: str, *, max_wait: float | None = None) -> Grant:
        """Take one request from the bucket, waiting up to max_wait seconds for it.

        Raises RateLimited at once while the client id is blocked after a 429, or when the
        bucket would not have a request for us within max_wait.
        """
        max_wait = self.default_max_wait if max_wait is None else max_wait
        deadline = time.monotonic() + max_wait
        keys = self._keys(client_id)
        rate_ms = self.rate_per_second / 1000.0
        while True:
            status, wait_ms, at_us = self._acquire(keys=keys, args=[self.capacity, rate_ms, 1])
            if status == 1:
                return Grant(at_us=int(at_us))
            wait = int(wait_ms) / 1000.0
            if status == -1:
                raise RateLimited(client_id, wait, blocked=True)
            remaining = deadline - time.monotonic()
            if wait > remaining:
                raise RateLimited(client_id, wait, blocked=False)
            time.sleep(wait)

    def block(self, client_id: str, seconds: float) -> float:
        """Pause every worker's calls for this client id; returns seconds until the block ends."""
        ms = max(1, math.ceil(seconds * 1000))
        until_ms = int(self._block(keys=[self._keys(client_id)[1]], args=[ms]))
        return max(0.0, until_ms / 1000.0 - time.time())

    def blocked_for(self, client_id: str) -> float:
        """Seconds the block after a 429 still lasts for this client id (0: not blocked).
        Takes nothing from the bucket: the poll scheduler asks before it enqueues."""
        return int(self._blocked_for(keys=[self._keys(client_id)[1]])) / 1000.0

    def reset(self, client_id: str) -> None:
        self.client.delete(*self._keys(client_id))


class LocalLimiter:
    """In-process fallback for the embedded development mode (no Redis): same rules, but it only
    limits the process it lives in, so it must never serve a multi-process deployment."""

    def __init__(
        self, per_minute: int, default_max_wait: float = 30.0, *, window_seconds: float = 60.0
    ) -> None:
        self.per_minute = per_minute
        self.capacity, self.rate_per_second = bucket_parameters(per_minute, window_seconds)
        self.default_max_wait = default_max_wait
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._blocked: dict[str, float] = {}

    def acquire(self, client_id: str, *, max_wait: float | None = None) -> Grant:
        max_wait = self.default_max_wait if max_wait is None else max_wait
        deadline = time.monotonic() + max_wait
        while True:
            with self._lock:
                now = time.time()
                until = self._blocked.get(client_id, 0.0)
                if until > now:
                    raise RateLimited(client_id, until - now, blocked=True)
                tokens, ts = self._buckets.get(client_id, (self.capacity, now))
                tokens = min(self.capacity, tokens + max(0.0, now - ts) * self.rate_per_second)
                if tokens >= 1:
                    self._buckets[client_id] = (tokens - 1, now)
                    return Grant(at_us=int(now * 1_000_000))
                self._buckets[client_id] = (tokens, now)
                wait = (1 - tokens) / self.rate_per_second
            if wait > deadline - time.monotonic():
                raise RateLimited(client_id, wait, blocked=False)
            time.sleep(wait)

    def block(self, client_id: str, seconds: float) -> float:
        with self._lock:
            until = max(self._blocked.get(client_id, 0.0), time.time() + seconds)
            self._blocked[client_id] = until
            return until - time.time()

    def blocked_for(self, client_id: str) -> float:
        with self._lock:
            return max(0.0, self._blocked.get(client_id, 0.0) - time.time())


_limiter: Limiter | None = None
_limiter_config: tuple | None = None
_limiter_lock = threading.Lock()


def get_limiter() -> Limiter:
    """The process's limiter for the current settings (Redis when REDIS_URL is set)."""
    global _limiter, _limiter_config
    config = (
        settings.REDIS_URL,
        settings.ALLEGRO_RATE_LIMIT_PER_MINUTE,
        settings.ALLEGRO_RATE_LIMIT_MAX_WAIT_SECONDS,
    )
    with _limiter_lock:
        if _limiter is None or _limiter_config != config:
            redis_url, per_minute, max_wait = config
            if redis_url:
                _limiter = RedisLimiter(redis_url, per_minute, max_wait)
            else:
                _limiter = LocalLimiter(per_minute, max_wait)
            _limiter_config = config
        return _limiter
