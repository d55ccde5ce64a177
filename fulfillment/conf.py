"""Knobs of the push outbox. Each is a Django setting if set there, else an environment
variable of the same name, else the default (so tests override them with ``settings`` and
Celery processes with their environment). Documented in .env.example."""

from __future__ import annotations

import os

from django.conf import settings

_DEFAULTS: dict[str, float] = {
    # Beat runs the sweeper this often (the beat entry in apilo/settings.py reads it too).
    "FULFILLMENT_SWEEP_SECONDS": 10.0,
    # A pending push not sent this long after it was written (or after its last try) is
    # re-dispatched by the sweeper: the broker lost the message or the worker died.
    "FULFILLMENT_REDISPATCH_AFTER_SECONDS": 15.0,
    # Backoff after a failed try: first retry after this many seconds, doubling …
    "FULFILLMENT_RETRY_BASE_SECONDS": 2.0,
    # … up to this many.
    "FULFILLMENT_RETRY_MAX_SECONDS": 300.0,
    # How long a push waits while its channel is not connected before it is looked at again.
    "FULFILLMENT_NOT_CONNECTED_WAIT_SECONDS": 60.0,
    # Orders the sweeper re-dispatches per tick at most.
    "FULFILLMENT_SWEEP_BATCH": 2000,
    # 1: dispatch a push task when the change commits (normal). 0: leave every push to the
    # sweeper — only the benchmark's baseline (bench/push_lag.py) turns this off.
    "FULFILLMENT_DISPATCH_ON_COMMIT": 1,
    # Orders one push task sends at most when a change (a bulk change, an import) or a sweep
    # dispatches many at once; each batch is one task, the batches spread over the workers.
    "FULFILLMENT_DISPATCH_BATCH": 10,
    # A push task also sends up to this many other orders of its tenant whose first try is
    # overdue (their own tasks still queued: the workers are behind) — 0 switches it off.
    "FULFILLMENT_TAKE_WAITING": 50,
    # … overdue: written this many seconds ago and not tried yet.
    "FULFILLMENT_TAKE_WAITING_AFTER_SECONDS": 1.0,
    # The sweeper skips a tick while the broker's queue holds more messages than this: the
    # workers are behind and the due rows' tasks are still on their way (no duplicates).
    "FULFILLMENT_SWEEP_MAX_BACKLOG": 500,
    # How old a channel's stored list of carriers (/order/carriers) may get before beat
    # fetches it again.
    "FULFILLMENT_CARRIERS_CACHE_SECONDS": 86400,
    # After a failed fetch of the list (or while a fetch waits in the queue), beat tries again
    # this much later.
    "FULFILLMENT_CARRIERS_RETRY_SECONDS": 600,
    # Beat looks for due lists this often (the beat entry in apilo/settings.py reads it too) …
    "FULFILLMENT_CARRIERS_SWEEP_SECONDS": 60,
    # … and fetches at most this many per tick, so the lists never crowd out the order polls
    # in the client id's shared budget.
    "FULFILLMENT_CARRIERS_SWEEP_BATCH": 50,
}


def get(name: str) -> float:
    value = getattr(settings, name, None)
    if value is None:
        raw = os.environ.get(name, "")
        value = float(raw) if raw.strip() else _DEFAULTS[name]
    return float(value)
