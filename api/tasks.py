"""The API's beat jobs."""

from __future__ import annotations

from celery import shared_task

from api import idempotency


@shared_task(ignore_result=True)
def purge_idempotency_records() -> int:
    """Beat: forget stored answers of idempotent POSTs past their retention (every tenant)."""
    return idempotency.purge_expired()
