"""The push outbox's knobs are Django settings (FULFILLMENT_* in apilo/settings.py, each read
from the environment with one default there); code reads them from django.conf.settings.

``get`` remains only for fulfillment/services/carriers.py until it reads
``settings.FULFILLMENT_CARRIERS_CACHE_SECONDS`` itself; do not add callers."""

from __future__ import annotations

from django.conf import settings


def get(name: str) -> float:
    return float(getattr(settings, name))
