"""Shared helpers of the sync benchmarks (bench/backfill.py, pull_lag.py, idle_poll.py).

Each benchmark uses its own PostgreSQL database (recreated and migrated here) and Redis
database, starts its own allegro_sandbox process, and connects a channel with real tokens from
the sandbox. Nothing here is used by the application.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENT_ID = "apilo-bench"
REDIRECT_URI = "http://127.0.0.1:8000/channels/allegro/callback/"
SELLER = "bench-seller"
SELLER_ID = "70000001"


def configure(database_url: str, redis_url: str, **extra: Any) -> None:
    """Environment for Django (settings_test: PostgreSQL, Redis, test Fernet key) + extras."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["CELERY_BROKER_URL"] = redis_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "apilo.settings_test"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    for key, value in extra.items():
        os.environ[key] = str(value)


def recreate_database(url: str) -> None:
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def setup_django(database_url: str) -> None:
    recreate_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()


def start_sandbox() -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "allegro_sandbox", "serve", "--port", "0", "--no-demo"],
        cwd=str(ROOT),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    match = re.search(r"SANDBOX_LISTENING (\S+)", proc.stdout.readline())
    if not match:
        proc.kill()
        raise SystemExit("allegro_sandbox did not start")
    return proc, match.group(1)


def sandbox_control(base_url: str):
    from tests.sandbox_support import SandboxControl

    return SandboxControl(base_url)


def allegro_environment_env(base_url: str, secret: str) -> dict[str, str]:
    return {
        "ALLEGRO_LOCAL_AUTH_URL": base_url,
        "ALLEGRO_LOCAL_API_URL": base_url,
        "ALLEGRO_LOCAL_CLIENT_ID": CLIENT_ID,
        "ALLEGRO_LOCAL_CLIENT_SECRET": secret,
    }


def prepare_sandbox(control, *, offers: int = 30) -> str:
    """Client app (no rate limit worth mentioning) and the seller; returns the client secret."""
    secret = "bench-" + secrets.token_urlsafe(12)
    control.reset()
    control.create_client_app(CLIENT_ID, secret, [REDIRECT_URI], name="apilo")
    control.create_seller(SELLER, "bench-password", id=SELLER_ID, offers=offers)
    return secret


def connected_channel(control, secret: str, *, slug: str = "bench", alias: str = "BE"):
    """A tenant and a channel connected to the sandbox seller with real tokens (the OAuth code
    flow through the sandbox; the pair stored as the callback would store it)."""
    from django.conf import settings
    from django.utils import timezone
    from django_scopes import scope

    from channels.clients.allegro import TokenPair
    from channels.models import AllegroCredential, ConnectionState, SalesChannel
    from channels.services.channels import create_channel
    from channels.services.tokens import store_pair_locked
    from core.models import Tenant
    from orders.statuses import seed_default_statuses

    settings.ALLEGRO_ENVIRONMENTS["local"].update(
        auth_url=control.base_url,
        api_url=control.base_url,
        client_id=CLIENT_ID,
        client_secret=secret,
    )
    tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": f"Bench {slug}"})
    seed_default_statuses(tenant)
    token = control.connect_seller(SELLER, CLIENT_ID, secret, REDIRECT_URI)
    with scope(tenant=tenant):
        channel = create_channel(
            tenant=tenant,
            data={
                "name": f"Bench {alias}",
                "alias": alias,
                "allegro_login": SELLER,
                "allegro_environment": "local",
                "backfill_days": 0,
            },
        )
        now = timezone.now()
        cred = AllegroCredential(tenant=tenant, channel=channel, version=0)
        store_pair_locked(
            cred,
            TokenPair(token["access_token"], token["refresh_token"], token["expires_in"], ""),
            obtained_at=now,
        )
        SalesChannel.objects.filter(pk=channel.pk).update(
            connection_state=ConnectionState.CONNECTED,
            connected_login=SELLER,
            connected_seller_id=f"{SELLER_ID}-{alias}",
            connected_at=now,
        )
        return SalesChannel.objects.select_related("tenant").get(pk=channel.pk)


def push_setup(sandbox, orders: int):
    """The push benchmarks' world, built as the push tests build theirs (tests/fulfillment):
    the sandbox seller and client app without a rate limit worth mentioning, a tenant, a channel
    connected through the real OAuth flow, and ``orders`` paid orders imported with the ingest
    service. Returns (the sandbox app, the channel, its administrator, the orders)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from core.services import create_tenant
    from tests.fulfillment.helpers import CHANNEL, SELLER_PASSWORD, configure
    from tests.support.channels import make_channel
    from tests.support.connect import connect
    from tests.support.orders import import_orders

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the OAuth flow's callback
    app = configure(sandbox, settings)
    sandbox.set_rate_limit(limit=1_000_000, client_id=app.client_id)
    user = get_user_model().objects.create_user(
        username="bench@example.com", email="bench@example.com", password="x" * 12
    )
    tenant = create_tenant(name="Bench", slug="bench", owner=user)
    channel = connect(make_channel(tenant, CHANNEL), user, SELLER_PASSWORD)
    return app, channel, user, import_orders(channel, sandbox, orders)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


class QueryCounter:
    """Counts SQL statements on the default connection (any DEBUG setting, no limit)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __enter__(self) -> QueryCounter:
        from django.db import connection

        self._cm = connection.execute_wrapper(self)
        self._cm.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)

    def __len__(self) -> int:
        return self.count
