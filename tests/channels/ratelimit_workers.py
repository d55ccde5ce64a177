"""Worker processes for the rate-limiter tests (spawned: each is a fresh interpreter with its
own Django setup, Redis connection and HTTP session, like a Celery worker on another machine)."""

from __future__ import annotations

import os
import time
from typing import Any


def _client(config: dict[str, Any]):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apilo.settings_test")
    import django

    django.setup()
    from channels.clients.allegro import AllegroClient, AllegroEnvironment
    from channels.ratelimit import RedisLimiter

    limiter = RedisLimiter(
        config["redis_url"],
        config["limit"],
        default_max_wait=120.0,
        window_seconds=config["window_seconds"],
    )
    env = AllegroEnvironment(
        name="local",
        auth_url=config["base_url"],
        api_url=config["base_url"],
        client_id=config["client_id"],
        client_secret=config["client_secret"],
    )
    return AllegroClient(env, limiter=limiter, block_seconds=config.get("block_seconds"))


def burst(config: dict[str, Any], calls: int, start_at: float) -> dict[str, int]:
    """Make `calls` API calls as fast as the limiter allows; count outcomes."""
    from_client = _client(config)
    from channels.clients.allegro import AllegroRateLimited

    counts = {"ok": 0, "429": 0, "local_wait_exceeded": 0}
    while time.time() < start_at:  # all processes start together
        time.sleep(0.001)
    for _ in range(calls):
        try:
            from_client.request("GET", "/me", access_token=config["token"])
            counts["ok"] += 1
        except AllegroRateLimited as exc:
            counts["429" if exc.status == 429 else "local_wait_exceeded"] += 1
    return counts


def until_unpaused(config: dict[str, Any], successes: int) -> dict[str, int]:
    """Call until `successes` calls went through; count the calls refused while paused. With a
    barrier, every process starts together, each with one item."""
    client = _client(config)
    if _barrier is not None:
        _barrier.wait(timeout=120)
    from channels.clients.allegro import AllegroRateLimited

    counts = {"ok": 0, "paused": 0, "429": 0}
    while counts["ok"] < successes:
        try:
            client.request("GET", "/me", access_token=config["token"])
            counts["ok"] += 1
        except AllegroRateLimited as exc:
            counts["429" if exc.status == 429 else "paused"] += 1
            time.sleep(0.02)
    return counts


# Set by the pool initializer: one party per process of the pool.
_barrier: Any = None


def setup_django(barrier: Any = None) -> None:
    """Pool initializer: Django is set up before the test starts its clock."""
    global _barrier
    _barrier = barrier
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apilo.settings_test")
    import django

    django.setup()


def ready(_: int) -> int:
    """Holds its process until every process of the pool holds one item, so a map of one item
    per process reaches them all (however slowly the machine spawns them)."""
    _barrier.wait(timeout=120)
    return os.getpid()
