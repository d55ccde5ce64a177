"""Celery tasks of the order sync (thin: the logic is in sync/poll.py, schedule.py, backfill.py
and reconcile.py). Tasks take ids, and a task of one tenant enters its scope (core.tasks.
TenantTask); every step is single-flight per channel and idempotent, so a task run twice
(acks_late redelivery) does no harm.

The tasks were ``channels.tasks.*`` before the sync engine became its own app. For one release
each is also registered under that old name, the same function, so messages already queued (or
sent by a beat still running the old schedule) are not lost; drop the old names in the release
after (docs/adr/0006-sync-app.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import shared_task
from django_scopes import scopes_disabled

from channels.models import SalesChannel
from core.tasks import TenantTask
from sync import backfill, poll, reconcile, schedule

# Old name → new name, for the release that keeps both.
OLD_NAMES: dict[str, str] = {}


def _sync_task(old_name: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Register the function as ``sync.tasks.<name>`` and, for one release, as ``old_name``."""

    def register(fun: Callable[..., Any]) -> Any:
        OLD_NAMES[old_name] = f"{__name__}.{fun.__name__}"
        shared_task(name=old_name, ignore_result=True, **options)(fun)
        return shared_task(ignore_result=True, **options)(fun)

    return register


@_sync_task("channels.tasks.poll_due_channels")
def poll_due_channels() -> int:
    """Beat, every SYNC_POLL_TICK_SECONDS: enqueue a poll for every account that is due."""
    return len(schedule.dispatch_due_polls())


@_sync_task("channels.tasks.poll_channel", base=TenantTask)
def poll_channel(tenant_id: int, channel_id: int, claimed_at: float | None = None) -> str:
    """One poll; ``claimed_at`` (the beat tick's claim) skips a poll that already happened."""
    if claimed_at is not None and schedule.polled_since(channel_id, claimed_at):
        return "skipped"
    return poll.poll_channel(channel_id).status


@_sync_task("channels.tasks.reconcile_all_channels")
def reconcile_all_channels(window_hours: int) -> int:
    """Beat, hourly (48 h) and nightly (7 days): one sweep task per pollable account."""
    with scopes_disabled():
        targets = list(SalesChannel.objects.pollable().values_list("tenant_id", "pk"))
    for tenant_id, channel_id in targets:
        reconcile_channel.delay(tenant_id, channel_id, window_hours)
    return len(targets)


@_sync_task("channels.tasks.reconcile_channel", base=TenantTask)
def reconcile_channel(tenant_id: int, channel_id: int, window_hours: int) -> str:
    return reconcile.reconcile_channel(channel_id, window_hours).status


@shared_task(ignore_result=True)
def short_sweep_all_channels() -> int:
    """Beat, every SYNC_SHORT_SWEEP_SECONDS: one short sweep task per pollable account."""
    with scopes_disabled():
        targets = list(SalesChannel.objects.pollable().values_list("tenant_id", "pk"))
    for tenant_id, channel_id in targets:
        short_sweep_channel.delay(tenant_id, channel_id)
    return len(targets)


@shared_task(ignore_result=True, base=TenantTask)
def short_sweep_channel(tenant_id: int, channel_id: int) -> str:
    return reconcile.short_sweep_channel(channel_id).status


@_sync_task("channels.tasks.backfill_channel", base=TenantTask)
def backfill_channel(tenant_id: int, channel_id: int, run: int) -> str:
    """A few pages of a backfill run, then the next task of the chain (under the new name)."""
    step = backfill.run_backfill(channel_id, run)
    if step.status in ("continue", "retry"):
        backfill_channel.apply_async((tenant_id, channel_id, run), countdown=step.countdown)
    return step.status
