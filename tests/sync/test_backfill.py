"""Backfill on first connection and re-import of a date range: progress, keyset paging over
ties, validation, and resuming after a worker is SIGKILLed mid-way (no duplicates)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from orders.models import Order
from sync.backfill import BackfillRejected, request_reimport
from sync.models import BackfillState
from tests.celery_support import wait_until
from tests.support.channels import make_channel
from tests.support.connect import connect
from tests.sync.helpers import (
    CHANNEL,
    SELLER,
    SELLER_PASSWORD,
    backfill_to_the_end,
    external_ids,
    mismatches,
    orders_by_external_id,
    poll,
    state_of,
)


def _days_ago(days: float) -> str:
    return (timezone.now() - dt.timedelta(days=days)).isoformat()


@pytest.mark.django_db
def test_first_connection_imports_the_chosen_days_with_progress(
    tenant, admin_user, sync_env, settings
):
    settings.SYNC_BACKFILL_PAGES_PER_TASK = 1
    sandbox = sync_env.sandbox
    sandbox.create_orders(SELLER, 2, bought_at=_days_ago(40))
    inside = sandbox.create_orders(SELLER, 3, bought_at=_days_ago(20))
    inside += sandbox.create_orders(SELLER, 150, spread_seconds=86400)
    channel = connect(make_channel(tenant, CHANNEL, backfill_days=30), admin_user, SELLER_PASSWORD)

    first = poll(channel)  # bootstraps the cursor and schedules the backfill

    assert first.status == "done"
    state = state_of(channel)
    assert (state.backfill_state, state.backfill_run) == (BackfillState.PENDING, 1)
    assert state.backfill_to == state.cursor_bootstrapped_at
    assert state.backfill_from == state.cursor_bootstrapped_at - dt.timedelta(days=30)

    steps = backfill_to_the_end(channel, 1)

    assert [s.status for s in steps] == ["continue", "done"]
    assert [s.forms for s in steps] == [100, 53]
    state = state_of(channel)
    assert state.backfill_state == BackfillState.DONE
    assert (state.backfill_total, state.backfill_done, state.backfill_created) == (153, 153, 153)
    assert state.backfill_percent == 100
    assert external_ids(channel) == sorted(inside)
    orders = orders_by_external_id(channel)
    for external_id in inside[:5]:
        assert mismatches(orders[external_id], sandbox.order(external_id)["checkoutForm"]) == []
    # Orders after the bootstrap come through the journal, not the backfill.
    [fresh] = sandbox.create_orders(SELLER, 1)
    assert poll(channel).created == 1
    assert fresh in external_ids(channel)
    # A finished run does nothing when its task is delivered again.
    assert backfill_to_the_end(channel, 1)[0].status == "stale"


@pytest.mark.django_db
def test_reimport_of_a_date_range_pages_over_equal_purchase_times(channel, sync_env):
    sandbox = sync_env.sandbox
    sandbox.create_orders(SELLER, 2, bought_at=_days_ago(5))
    same_time = sandbox.create_orders(SELLER, 230, bought_at=_days_ago(3))
    sandbox.create_orders(SELLER, 2, bought_at=_days_ago(1))
    today = timezone.localdate()

    with scope(tenant=channel.tenant):
        state = request_reimport(
            channel, today - dt.timedelta(days=4), today - dt.timedelta(days=2)
        )
    assert (state.backfill_state, state.backfill_run) == (BackfillState.PENDING, 1)

    steps = backfill_to_the_end(channel, 1)

    assert steps[-1].status == "done"
    assert sum(s.forms for s in steps) == 230
    assert external_ids(channel) == sorted(same_time)
    state = state_of(channel)
    assert (state.backfill_total, state.backfill_done, state.backfill_created) == (230, 230, 230)

    # Re-importing the same range again is harmless: nothing new, nothing duplicated.
    with scope(tenant=channel.tenant):
        request_reimport(channel, today - dt.timedelta(days=4), today - dt.timedelta(days=2))
    steps = backfill_to_the_end(channel, 2)
    assert sum(s.created for s in steps) == 0
    assert external_ids(channel) == sorted(same_time)


@pytest.mark.django_db
def test_a_new_reimport_replaces_the_running_one(channel, sync_env, settings):
    settings.SYNC_BACKFILL_PAGES_PER_TASK = 1
    sync_env.sandbox.create_orders(SELLER, 150, bought_at=_days_ago(2))
    today = timezone.localdate()
    with scope(tenant=channel.tenant):
        request_reimport(channel, today - dt.timedelta(days=3), today)
    assert backfill_to_the_end(channel, 1, max_steps=1, must_finish=False)[0].status == "continue"
    with scope(tenant=channel.tenant):
        request_reimport(channel, today - dt.timedelta(days=3), today)
    assert backfill_to_the_end(channel, 1)[0].status == "stale"
    steps = backfill_to_the_end(channel, 2)
    assert steps[-1].status == "done"
    state = state_of(channel)
    assert (state.backfill_run, state.backfill_done, state.backfill_created) == (2, 150, 50)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (3, 5, "The start date must not be after the end date."),
        (2, -1, "The end date must not be in the future."),
        (
            366,
            1,
            "Allegro keeps orders for 12 months: choose a start date within the last 12 months.",
        ),
    ],
)
def test_reimport_dates_are_validated(channel, start, end, message):
    today = timezone.localdate()
    with scope(tenant=channel.tenant), pytest.raises(BackfillRejected) as refused:
        request_reimport(channel, today - dt.timedelta(days=start), today - dt.timedelta(days=end))
    assert refused.value.message == message
    with scopes_disabled():
        from sync.models import ChannelSyncState

        assert not ChannelSyncState.objects.filter(
            channel_id=channel.pk, backfill_run__gt=0
        ).exists()


@pytest.mark.django_db(transaction=True)
def test_a_backfill_killed_mid_way_resumes_without_duplicates(channel, sync_env, celery_processes):
    sandbox = sync_env.sandbox
    ids = sandbox.create_orders(SELLER, 1500, bought_at=_days_ago(1))
    sandbox.set_faults(seller=SELLER, latency_ms=60, path_prefix="/order/checkout-forms")
    env = sync_env.worker_env(
        SYNC_BACKFILL_PAGES_PER_TASK=1,
        SYNC_BACKFILL_STALE_SECONDS=3,
        SYNC_POLL_TICK_SECONDS=1,
    )
    worker, _beat = celery_processes(env)
    today = timezone.localdate()
    with scope(tenant=channel.tenant):
        request_reimport(channel, today - dt.timedelta(days=2), today)

    wait_until(lambda: state_of(channel).backfill_done >= 300, 60, "backfill progress")
    worker.kill()  # SIGKILL mid-way: a page may be half-written (rolled back with it)
    killed_at = state_of(channel)
    assert killed_at.backfill_state == BackfillState.RUNNING
    assert 300 <= killed_at.backfill_done < 1500
    assert killed_at.backfill_total == 1500

    worker.start()  # the tick re-dispatches the stalled chain
    wait_until(
        lambda: state_of(channel).backfill_state == BackfillState.DONE, 90, "backfill resumed"
    )

    state = state_of(channel)
    assert (state.backfill_done, state.backfill_created, state.backfill_total) == (1500, 1500, 1500)
    with scopes_disabled():
        stored = list(
            Order.objects.filter(channel_id=channel.pk).values_list("external_id", flat=True)
        )
    assert len(stored) == 1500
    assert sorted(stored) == sorted(ids)
