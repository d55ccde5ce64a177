"""The short sweep: an order whose journal events Allegro lost is imported within minutes by one
list request for the forms changed in the last window, counted like the other sweeps' findings;
switched off (SYNC_SHORT_SWEEP_SECONDS = 0) it does nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_scopes import scope

from sync.reconcile import short_sweep_channel
from tests.sync.helpers import (
    SELLER,
    external_ids,
    mismatches,
    orders_by_external_id,
    poll,
    state_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def short_sweep_on(settings):
    settings.SYNC_SHORT_SWEEP_SECONDS = 180
    settings.SYNC_SHORT_SWEEP_WINDOW_SECONDS = 900


def short_sweep(channel):
    with scope(tenant=channel.tenant):
        return short_sweep_channel(channel.pk)


def an_order_without_journal_events(sandbox) -> str:
    sandbox.set_faults(seller=SELLER, drop_events=1.0)
    try:
        [lost] = sandbox.create_orders(SELLER, 1)
    finally:
        sandbox.clear_faults(seller=SELLER)
    return lost


def test_an_order_the_journal_lost_is_imported_by_the_short_sweep(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    lost = an_order_without_journal_events(sandbox)
    [seen] = sandbox.create_orders(SELLER, 1)
    assert len(sandbox.journal(SELLER)["withheld"]) == 3
    poll(channel)
    assert external_ids(channel) == [seen]
    requests = sandbox.stats()["requests"].get("checkout_forms", 0)

    result = short_sweep(channel)

    assert sandbox.stats()["requests"].get("checkout_forms", 0) == requests + 1
    assert (result.status, result.requests, result.checked, result.missing) == (
        "done",
        1,
        2,
        [lost],
    )
    assert external_ids(channel) == sorted([lost, seen])
    orders = orders_by_external_id(channel)
    assert mismatches(orders[lost], sandbox.order(lost)["checkoutForm"]) == []
    assert orders[lost].status.name == "Nowe"
    state = state_of(channel)
    assert (state.last_short_sweep_checked, state.last_short_sweep_missing) == (2, 1)
    assert state.reconcile_missing_total == 1
    assert state.last_short_sweep_at is not None

    # The next sweep finds nothing new and creates nothing twice.
    again = short_sweep(channel)
    assert (again.status, again.missing, again.created) == ("done", [], 0)
    assert state_of(channel).reconcile_missing_total == 1
    assert len(orders_by_external_id(channel)) == 2


def test_the_short_sweep_reads_only_the_window(channel, sync_env, settings):
    """Forms changed before the window are left to the hourly and nightly sweeps."""
    sandbox = sync_env.sandbox
    poll(channel)
    lost = an_order_without_journal_events(sandbox)
    later = timezone.now() + dt.timedelta(seconds=1000)  # the form changed 1 000 s before
    with scope(tenant=channel.tenant):
        result = short_sweep_channel(channel.pk, now=later)
    assert (result.status, result.checked, result.missing) == ("done", 0, [])
    assert lost not in external_ids(channel)


def test_switched_off_the_short_sweep_does_nothing(channel, sync_env, settings):
    settings.SYNC_SHORT_SWEEP_SECONDS = 0
    sandbox = sync_env.sandbox
    poll(channel)
    lost = an_order_without_journal_events(sandbox)
    requests = sandbox.stats()["requests"].get("checkout_forms", 0)

    assert short_sweep(channel).status == "off"

    assert sandbox.stats()["requests"].get("checkout_forms", 0) == requests
    assert lost not in external_ids(channel)
    assert state_of(channel).last_short_sweep_at is None


def test_beat_runs_the_short_sweep_every_few_minutes():
    entry = django_settings.CELERY_BEAT_SCHEDULE["sync-short-sweep"]
    assert entry["task"] == "sync.tasks.short_sweep_all_channels"
    assert entry["schedule"] == django_settings.SYNC_SHORT_SWEEP_SECONDS == 180.0
