"""Celery tasks of the order sync (thin: the logic is in sync/poll.py, schedule.py, backfill.py
and reconcile.py). Tasks take ids, enter the tenant's scope themselves, and are safe to run
twice (acks_late redelivery): every step is single-flight per channel and idempotent."""

from __future__ import annotations

import logging

from celery import shared_task
from django_scopes import scope, scopes_disabled

from channels.models import SalesChannel
from core.models import Tenant
from sync import backfill, poll, reconcile, schedule

logger = logging.getLogger(__name__)


def _tenant(tenant_id: int) -> Tenant | None:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        logger.info("Tenant %s no longer exists; task dropped", tenant_id)
    return tenant


@shared_task(name="channels.tasks.poll_due_channels", ignore_result=True)
def poll_due_channels() -> int:
    """Beat, every SYNC_POLL_TICK_SECONDS: enqueue a poll for every account that is due."""
    return len(schedule.dispatch_due_polls())


@shared_task(name="channels.tasks.poll_channel", ignore_result=True)
def poll_channel(tenant_id: int, channel_id: int) -> str:
    tenant = _tenant(tenant_id)
    if tenant is None:
        return "gone"
    with scope(tenant=tenant):
        return poll.poll_channel(channel_id).status


@shared_task(name="channels.tasks.reconcile_all_channels", ignore_result=True)
def reconcile_all_channels(window_hours: int) -> int:
    """Beat, hourly (48 h) and nightly (7 days): one sweep task per pollable account."""
    with scopes_disabled():
        targets = list(SalesChannel.objects.pollable().values_list("tenant_id", "pk"))
    for tenant_id, channel_id in targets:
        reconcile_channel.delay(tenant_id, channel_id, window_hours)
    return len(targets)


@shared_task(name="channels.tasks.reconcile_channel", ignore_result=True)
def reconcile_channel(tenant_id: int, channel_id: int, window_hours: int) -> str:
    tenant = _tenant(tenant_id)
    if tenant is None:
        return "gone"
    with scope(tenant=tenant):
        return reconcile.reconcile_channel(channel_id, window_hours).status


@shared_task(name="channels.tasks.backfill_channel", ignore_result=True)
def backfill_channel(tenant_id: int, channel_id: int, run: int) -> str:
    """A few pages of a backfill run, then the next task of the chain."""
    tenant = _tenant(tenant_id)
    if tenant is None:
        return "gone"
    with scope(tenant=tenant):
        step = backfill.run_backfill(channel_id, run)
    if step.status in ("continue", "retry"):
        backfill_channel.apply_async((tenant_id, channel_id, run), countdown=step.countdown)
    return step.status
