"""The deployment-wide limiter, proven against the sandbox's own limiter over HTTP with real
worker processes."""

from __future__ import annotations

import multiprocessing
import time

import pytest
from django.conf import settings

from channels.clients.allegro import AllegroClient, AllegroEnvironment, AllegroRateLimited
from channels.ratelimit import RateLimited, RedisLimiter, bucket_parameters
from tests.channels import ratelimit_workers
from tests.channels.helpers import CLIENT_ID, SELLER_LOGIN
from tests.support.connect import REDIRECT_URI

PROCESSES = 4


def config_for(allegro, **extra):
    token = allegro.sandbox.connect_seller(
        SELLER_LOGIN, CLIENT_ID, allegro.client_secret, REDIRECT_URI
    )["access_token"]
    return {
        "redis_url": settings.REDIS_URL,
        "base_url": allegro.sandbox.base_url,
        "client_id": CLIENT_ID,
        "client_secret": allegro.client_secret,
        "token": token,
        **extra,
    }


def test_bucket_parameters_keep_every_window_under_the_limit():
    capacity, rate = bucket_parameters(9000)
    assert (capacity, rate) == (150.0, 145.0)
    assert capacity + 60 * rate == 8850 < 9000


def test_a_429_pause_is_shared_and_never_shortened(settings):
    limiter = RedisLimiter(settings.REDIS_URL, 9000)
    other_worker = RedisLimiter(settings.REDIS_URL, 9000)
    limiter.reset("cid-x")
    assert 9 < limiter.block("cid-x", 10) <= 10
    assert 9 < limiter.block("cid-x", 1) <= 10  # a shorter block does not shorten it
    with pytest.raises(RateLimited) as exc:
        other_worker.acquire("cid-x")
    assert exc.value.blocked is True
    assert 9 < exc.value.retry_after <= 10
    assert limiter.acquire("cid-y").at_us > 0  # other client ids are not affected
    limiter.reset("cid-x")


@pytest.mark.slow
@pytest.mark.django_db
def test_a_burst_of_20000_calls_from_4_processes_stays_under_the_limit(allegro):
    """The sandbox enforces the same limit (its own sliding window) and answers 429 when it is
    exceeded; the window is compressed from 60 s to 6 s to keep the test short."""
    limit, window = 6000, 6.0
    allegro.sandbox.set_rate_limit(limit=limit, client_id=CLIENT_ID, window_seconds=window)
    config = config_for(allegro, limit=limit, window_seconds=window)
    RedisLimiter(settings.REDIS_URL, limit, window_seconds=window).reset(CLIENT_ID)
    before = allegro.sandbox.stats()["by_status"]
    calls = 20_000 // PROCESSES
    start_at = time.time() + 3
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        results = pool.starmap(ratelimit_workers.burst, [(config, calls, start_at)] * PROCESSES)
    assert results == [{"ok": calls, "429": 0, "local_wait_exceeded": 0}] * PROCESSES
    after = allegro.sandbox.stats()["by_status"]
    assert after.get("200", 0) - before.get("200", 0) == 20_000
    assert after.get("429", 0) == 0
    rate = allegro.sandbox.call("GET", "/rate-limit")
    assert rate["blocked_until"] == {}


@pytest.mark.django_db
def test_a_429_from_allegro_pauses_every_worker(allegro):
    block = 6.0  # long enough for four busy processes to start calling within it
    allegro.sandbox.set_rate_limit(block_seconds=block)
    config = config_for(allegro, limit=9000, window_seconds=60.0, block_seconds=block)
    RedisLimiter(settings.REDIS_URL, 9000).reset(CLIENT_ID)
    client = AllegroClient(
        AllegroEnvironment("local", config["base_url"], config["base_url"], CLIENT_ID, "x"),
        limiter=RedisLimiter(settings.REDIS_URL, 9000),
        block_seconds=block,
    )
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    with ctx.Pool(
        PROCESSES, initializer=ratelimit_workers.setup_django, initargs=(barrier,)
    ) as pool:
        # Every worker process is up before the block starts (spawning takes seconds).
        pids = pool.map(ratelimit_workers.ready, range(PROCESSES), chunksize=1)
        assert len(set(pids)) == PROCESSES
        allegro.sandbox.block_client(CLIENT_ID, seconds=block)
        with pytest.raises(AllegroRateLimited) as exc:
            client.request("GET", "/me", access_token=config["token"])
        assert exc.value.status == 429
        assert 0 < exc.value.retry_after <= block
        # Now four workers want to call: each is paused locally until the block ends, and
        # none reaches Allegro meanwhile (which would extend Allegro's block).
        results = pool.starmap(ratelimit_workers.until_unpaused, [(config, 25)] * PROCESSES)
    assert all(r["ok"] == 25 and r["429"] == 0 and r["paused"] > 0 for r in results)
    by_status = allegro.sandbox.stats()["by_status"]
    assert by_status.get("429") == 1  # only the first call ever saw the block
    # the token exchange of config_for() + the workers' calls
    assert by_status.get("200") == 1 + PROCESSES * 25
