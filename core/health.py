"""What /healthz checks: the database, the cache, the Celery broker and beat's heartbeat.

Anyone (a load balancer, an uptime monitor) sees each component up or down and the status code;
only an operator who sends HEALTHZ_TOKEN sees the details, since error texts name hosts, ports
and versions.
"""

from __future__ import annotations

import time
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

BEAT_HEARTBEAT_KEY = "apilo:beat-heartbeat"


def record_beat_heartbeat(now: float | None = None) -> None:
    cache.set(BEAT_HEARTBEAT_KEY, now if now is not None else time.time(), timeout=None)


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def check_cache() -> dict[str, Any]:
    probe = f"apilo:healthz:{time.monotonic_ns()}"
    cache.set(probe, "1", timeout=10)
    ok = cache.get(probe) == "1"
    cache.delete(probe)
    return {"ok": ok}


def check_broker() -> dict[str, Any]:
    with current_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": conn.transport_cls}


def check_beat(now: float | None = None) -> dict[str, Any]:
    last = cache.get(BEAT_HEARTBEAT_KEY)
    if last is None:
        return {"ok": False, "error": "no heartbeat recorded yet"}
    age = (now if now is not None else time.time()) - float(last)
    return {"ok": age <= settings.BEAT_STALE_AFTER, "age_seconds": round(age, 1)}


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "beat": check_beat,
}


def run_checks() -> tuple[bool, dict[str, Any]]:
    results: dict[str, Any] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # a health check reports every failure, it never raises
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    healthy = all(result["ok"] for result in results.values())
    return healthy, results


def shows_details(request: HttpRequest) -> bool:
    """Whether the request carries the operators' token (`Authorization: Bearer <token>`)."""
    token = settings.HEALTHZ_TOKEN
    if not token:
        return False
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and constant_time_compare(given.strip(), token)


def without_details(results: dict[str, Any]) -> dict[str, Any]:
    return {name: {"ok": bool(result["ok"])} for name, result in results.items()}
