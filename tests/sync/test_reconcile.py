"""Reconciliation sweeps: they find exactly the orders whose events the journal lost, record how
many, fix them, and split windows that hold more than the list endpoint's 10 000 results."""

from __future__ import annotations

import pytest
from django_scopes import scope

from orders.models import SystemStatus
from sync import reconcile as reconcile_module
from sync.reconcile import reconcile_channel
from tests.sync.helpers import (
    SELLER,
    external_ids,
    mismatches,
    orders_by_external_id,
    poll,
    reconcile,
    state_of,
)

pytestmark = pytest.mark.django_db


def test_the_sweep_finds_exactly_the_orders_whose_events_were_dropped(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    seen = sandbox.create_orders(SELLER, 5)
    [stuck] = sandbox.create_orders(SELLER, 1, status="BOUGHT")
    poll(channel)
    sandbox.set_faults(seller=SELLER, drop_events=1.0)
    lost = sandbox.create_orders(SELLER, 3)
    sandbox.advance_order(stuck, "FILLED_IN")
    sandbox.advance_order(stuck, "READY_FOR_PROCESSING")
    sandbox.clear_faults(seller=SELLER)
    assert poll(channel).events == 0  # the journal knows nothing of them
    assert external_ids(channel) == sorted([*seen, stuck])

    result = reconcile(channel, 48)

    assert result.status == "done"
    assert result.checked == 9
    assert sorted(result.missing) == sorted([*lost, stuck])
    assert (result.created, result.updated) == (3, 1)
    state = state_of(channel)
    assert state.last_reconcile_missing == 4
    assert sorted(state.last_reconcile_missing_ids) == sorted([*lost, stuck])
    assert state.last_reconcile_window_hours == 48
    assert state.last_reconcile_checked == 9
    assert state.reconcile_missing_total == 4
    orders = orders_by_external_id(channel)
    assert sorted(orders) == sorted([*seen, stuck, *lost])
    for external_id, order in orders.items():
        assert mismatches(order, sandbox.order(external_id)["checkoutForm"]) == []
    assert orders[stuck].status.system_code == SystemStatus.NEW

    # Nothing left to find; the late events, when Allegro inserts them, change nothing either.
    again = reconcile(channel, 48)
    assert (again.checked, again.missing, again.created, again.updated) == (9, [], 0, 0)
    assert state_of(channel).reconcile_missing_total == 4
    assert sandbox.release_events(SELLER) == 3 * 3 + 2
    late = poll(channel)
    assert (late.events, late.created, late.updated) == (11, 0, 0)
    assert len(external_ids(channel)) == 9


def test_recently_changed_forms_are_upserted_but_not_counted(channel, sync_env, settings):
    settings.SYNC_RECONCILE_GRACE_SECONDS = 600
    poll(channel)
    ids = sync_env.sandbox.create_orders(SELLER, 2)  # not polled yet: in flight, not missed
    result = reconcile(channel, 48)
    assert (result.created, result.missing) == (2, [])
    assert external_ids(channel) == sorted(ids)


def test_only_the_window_is_swept(channel, sync_env):
    from datetime import timedelta

    from django.utils import timezone

    poll(channel)
    old = timezone.now() - timedelta(hours=60)
    sync_env.sandbox.create_orders(SELLER, 2, bought_at=old.isoformat())
    recent = sync_env.sandbox.create_orders(
        SELLER, 1, bought_at=(timezone.now() - timedelta(hours=10)).isoformat()
    )
    result = reconcile(channel, 48)
    assert result.checked == 1
    assert external_ids(channel) == recent
    assert reconcile(channel, 168).checked == 3


def test_a_window_over_the_result_cap_is_split_by_time(channel, sync_env, monkeypatch):
    """Allegro answers at most 10 000 forms per query; the cap is lowered here so a small
    window has to be split the same way."""
    monkeypatch.setattr(reconcile_module, "MAX_RESULT", 150)
    poll(channel)
    ids = sync_env.sandbox.create_orders(SELLER, 420, spread_seconds=3600)

    with scope(tenant=channel.tenant):
        result = reconcile_channel(channel.pk, 48)

    assert result.status == "done"
    assert result.splits >= 2
    assert result.checked == 420
    assert len(result.missing) == 420
    assert external_ids(channel) == sorted(ids)
