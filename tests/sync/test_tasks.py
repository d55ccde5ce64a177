"""The sync engine's Celery tasks: their names are sync.tasks.*, the names they had before
(channels.tasks.*) still run the same code for one release, beat schedules only registered
names, and a task of one tenant works inside that tenant's scope only."""

from __future__ import annotations

import pytest
from django.conf import settings

from apilo.celery import app
from core.tasks import TenantTask
from sync import tasks
from tests.celery_support import wait_until
from tests.sync.helpers import SELLER, external_ids, state_of

OLD_TO_NEW = {
    "channels.tasks.poll_due_channels": "sync.tasks.poll_due_channels",
    "channels.tasks.poll_channel": "sync.tasks.poll_channel",
    "channels.tasks.reconcile_all_channels": "sync.tasks.reconcile_all_channels",
    "channels.tasks.reconcile_channel": "sync.tasks.reconcile_channel",
    "channels.tasks.backfill_channel": "sync.tasks.backfill_channel",
}


def test_the_old_task_names_are_registered_and_run_the_same_code():
    assert tasks.OLD_NAMES == OLD_TO_NEW
    for old, new in OLD_TO_NEW.items():
        assert app.tasks[old].run is app.tasks[new].run, old
        assert isinstance(app.tasks[old], TenantTask) == isinstance(app.tasks[new], TenantTask)
    assert [name for name in OLD_TO_NEW.values() if isinstance(app.tasks[name], TenantTask)] == [
        "sync.tasks.poll_channel",
        "sync.tasks.reconcile_channel",
        "sync.tasks.backfill_channel",
    ]


def test_beat_schedules_the_new_names_only():
    scheduled = sorted({entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()})
    assert scheduled == [
        "api.sweep_webhooks",
        "api.tasks.purge_idempotency_records",
        "catalog.tasks.poll_due_offer_events",
        "catalog.tasks.sweep_stock_pushes",
        "core.tasks.beat_heartbeat",
        "fulfillment.tasks.refresh_due_carriers",
        "fulfillment.tasks.sweep_labels",
        "fulfillment.tasks.sweep_pushes",
        "notifications.refresh_all_sender_addresses",
        "notifications.sweep_mail",
        "sync.tasks.poll_due_channels",
        "sync.tasks.reconcile_all_channels",
        "sync.tasks.short_sweep_all_channels",
    ]
    app.loader.import_default_modules()  # what a worker does at start: find every tasks module
    assert [name for name in scheduled if name not in app.tasks] == []


@pytest.mark.django_db
def test_a_poll_task_works_in_the_scope_of_the_tenant_it_names(channel, other_tenant, sync_env):
    sync_env.sandbox.create_orders(SELLER, 2)

    # Another tenant's id: the channel is not in that tenant's scope, nothing is fetched.
    assert tasks.poll_channel(other_tenant.pk, channel.pk) == "not_pollable"
    assert external_ids(channel) == []

    assert tasks.poll_channel(channel.tenant_id, channel.pk) == "done"
    assert tasks.poll_channel(tenant_id=channel.tenant_id, channel_id=channel.pk) == "done"
    assert state_of(channel).cursor_bootstrapped_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_poll_queued_under_its_old_name_still_runs(channel, sync_env, celery_processes):
    (worker,) = celery_processes(sync_env.worker_env(), beat=False)
    app.send_task("channels.tasks.poll_channel", args=(channel.tenant_id, channel.pk))
    wait_until(lambda: state_of(channel).last_poll_at is not None, 30, "first poll")
    ids = sync_env.sandbox.create_orders(SELLER, 3)

    app.send_task("channels.tasks.poll_channel", args=(channel.tenant_id, channel.pk))

    wait_until(lambda: external_ids(channel) == sorted(ids), 30, worker.output()[-3000:])
    assert "Task channels.tasks.poll_channel[" in worker.output()
