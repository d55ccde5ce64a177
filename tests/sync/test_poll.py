"""Journal polling against the sandbox over HTTP: cursor bootstrap, exactly-once import under
duplicated and reordered events, 404 on re-read (merged purchases), a bad form, transient
errors, 429, a revoked grant, the adaptive interval and the beat tick."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from channels.models import ConnectionState, SalesChannel
from orders.models import OrderEvent, SystemStatus
from sync.models import ChannelSyncState, PollOutcome
from sync.schedule import dispatch_due_polls
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


def last_event_id(sandbox, seller=SELLER) -> str:
    return sandbox.journal(seller)["events"][-1]["id"]


def route_count(sandbox, route: str) -> int:
    return sandbox.stats()["requests"].get(route, 0)


def test_first_poll_bootstraps_the_cursor_at_the_newest_event(channel, sync_env):
    sandbox = sync_env.sandbox
    old = sandbox.create_orders(SELLER, 3)  # before the first poll: the backfill's business
    newest = last_event_id(sandbox)

    result = poll(channel)

    assert result.status == "done"
    assert result.events == 0
    state = state_of(channel)
    assert state.cursor == newest
    assert state.cursor_bootstrapped_at is not None
    assert external_ids(channel) == []
    assert route_count(sandbox, "event_stats") == 1

    fresh = sandbox.create_orders(SELLER, 2)
    result = poll(channel)
    assert result.status == "done"
    assert result.created == 2
    assert external_ids(channel) == sorted(fresh)
    assert set(old).isdisjoint(external_ids(channel))
    # event-stats is never used again: the cursor is the last event processed.
    assert route_count(sandbox, "event_stats") == 1
    assert state_of(channel).cursor == last_event_id(sandbox)


def test_bootstrap_on_an_empty_journal_reads_from_the_start(channel, sync_env):
    assert poll(channel).status == "done"
    state = state_of(channel)
    assert state.cursor == ""
    assert state.cursor_bootstrapped_at is not None

    ids = sync_env.sandbox.create_orders(SELLER, 2)
    result = poll(channel)
    assert result.created == 2
    assert external_ids(channel) == sorted(ids)


def test_duplicated_and_reordered_events_give_each_order_exactly_once(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    sandbox.set_faults(seller=SELLER, duplicate_events=1.0, out_of_order=1.0, seed=7)
    ids = sandbox.create_orders(SELLER, 6)
    cancelled = sandbox.create_orders(SELLER, 2, status="BUYER_CANCELLED")
    events = sandbox.journal(SELLER)["events"]
    assert len(events) == 2 * (6 * 3 + 2 * 3)  # every event twice

    result = poll(channel)

    assert result.status == "done"
    assert result.events == len(events)
    assert result.forms == 8  # one re-read per distinct form, not per event
    assert result.created == 8
    assert state_of(channel).cursor == events[-1]["id"]
    orders = orders_by_external_id(channel)
    assert sorted(orders) == sorted(ids + cancelled)
    for external_id, order in orders.items():
        assert mismatches(order, sandbox.order(external_id)["checkoutForm"]) == []
    assert {orders[i].status.system_code for i in ids} == {SystemStatus.NEW}
    assert {orders[i].status.system_code for i in cancelled} == {SystemStatus.CANCELLED}
    # A poll with nothing new changes nothing.
    again = poll(channel)
    assert (again.events, again.forms, again.created, again.updated) == (0, 0, 0, 0)


def test_an_order_moves_on_with_its_events(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    [order_id] = sandbox.create_orders(SELLER, 1, status="BOUGHT")
    poll(channel)
    order = orders_by_external_id(channel)[order_id]
    assert (order.allegro_status, order.status.system_code) == ("BOUGHT", SystemStatus.UNCONFIRMED)

    sandbox.advance_order(order_id, "FILLED_IN")
    sandbox.advance_order(order_id, "READY_FOR_PROCESSING")
    result = poll(channel)

    assert (result.created, result.updated, result.forms) == (0, 1, 1)
    order = orders_by_external_id(channel)[order_id]
    assert (order.allegro_status, order.status.system_code) == (
        "READY_FOR_PROCESSING",
        SystemStatus.NEW,
    )
    assert mismatches(order, sandbox.order(order_id)["checkoutForm"]) == []


def test_import_status_of_the_channel_is_used_for_paid_orders(channel, sync_env):
    from orders.models import OrderStatus

    with scope(tenant=channel.tenant):
        in_progress = OrderStatus.objects.get(system_code=SystemStatus.IN_PROGRESS)
        SalesChannel.objects.filter(pk=channel.pk).update(import_status=in_progress)
        channel = SalesChannel.objects.select_related("tenant").get(pk=channel.pk)
    poll(channel)
    [order_id] = sync_env.sandbox.create_orders(SELLER, 1)
    poll(channel)
    assert orders_by_external_id(channel)[order_id].status_id == in_progress.pk


def test_a_bad_form_is_recorded_and_does_not_stop_the_poll(channel, sync_env, settings):
    settings.SYNC_LIST_READS = False  # the list would serve the form its GET is refused for
    sandbox = sync_env.sandbox
    poll(channel)
    bad, *good = sandbox.create_orders(SELLER, 4)
    sandbox.set_faults(
        seller=SELLER,
        error_5xx=1.0,
        error_status=400,
        path_prefix=f"/order/checkout-forms/{bad}",
    )

    result = poll(channel)

    assert result.status == "done"
    assert result.created == 3
    assert external_ids(channel) == sorted(good)
    state = state_of(channel)
    assert state.cursor == last_event_id(sandbox)
    assert state.bad_forms_total == 1
    assert [entry["id"] for entry in state.bad_forms] == [bad]
    assert state.bad_forms[0]["error"].startswith("Allegro refused a request")
    assert state.last_poll_outcome == PollOutcome.OK


def test_404_on_re_read_links_the_merged_order(channel, sync_env):
    """Old purchases known locally answer 404 when their late events arrive: the poll finds the
    form Allegro merged them into, imports it, and closes the old orders."""
    sandbox = sync_env.sandbox
    poll(channel)  # bootstrap on the empty journal
    sandbox.set_faults(seller=SELLER, delay_events_seconds=1000)
    old = sandbox.create_orders(SELLER, 2, status="BOUGHT")
    assert sorted(reconcile(channel).missing) == sorted(old)
    assert external_ids(channel) == sorted(old)
    sandbox.clear_faults(seller=SELLER)
    sandbox.set_faults(seller=SELLER, drop_events=1.0)  # the new form's events never come
    new = sandbox.merge_orders(old)
    sandbox.clear_faults(seller=SELLER)
    sandbox.advance_clock(1001)  # the old forms' BOUGHT events are inserted now

    result = poll(channel)

    assert result.status == "done"
    assert result.events == 2
    assert result.gone_forms == 2
    orders = orders_by_external_id(channel)
    assert sorted(orders) == sorted([*old, new])
    for old_id in old:
        assert orders[old_id].merged_into_id == orders[new].pk
        assert orders[old_id].status.system_code == SystemStatus.CANCELLED
    assert mismatches(orders[new], sandbox.order(new)["checkoutForm"]) == []
    assert state_of(channel).bad_forms == []


def test_404_of_a_purchase_merged_before_we_saw_it_imports_only_the_new_form(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    old = sandbox.create_orders(SELLER, 2, status="BOUGHT")
    new = sandbox.merge_orders(old)

    result = poll(channel)

    assert result.status == "done"
    assert result.gone_forms == 2
    assert external_ids(channel) == [new]
    with scopes_disabled():
        assert OrderEvent.objects.filter(order__channel_id=channel.pk, kind="merged").count() == 0


def test_transient_errors_keep_the_cursor_and_back_off(channel, sync_env, settings):
    settings.SYNC_GET_RETRIES = 1
    settings.SYNC_LIST_READS = False  # the fault is on single forms only
    sandbox = sync_env.sandbox
    poll(channel)
    before = state_of(channel).cursor
    ids = sandbox.create_orders(SELLER, 2)
    # Allegro unreachable for the forms (the connection drops): nothing is set aside.
    sandbox.set_faults(seller=SELLER, reset=1.0, path_prefix="/order/checkout-forms/")

    started = timezone.now()
    result = poll(channel)

    assert result.status == "failed"
    assert result.requests == 1 + 2  # the journal, then one form twice (1 retry)
    state = state_of(channel)
    assert state.cursor == before
    assert state.consecutive_failures == 1
    assert state.last_poll_outcome == PollOutcome.FAILED
    assert state.last_error == "Allegro did not answer properly; apilo tries again by itself."
    assert state.next_poll_at >= started + dt.timedelta(seconds=settings.SYNC_POLL_BUSY_SECONDS)
    assert external_ids(channel) == []

    poll(channel)
    assert state_of(channel).consecutive_failures == 2

    sandbox.clear_faults(seller=SELLER)
    result = poll(channel)
    assert result.status == "done"
    assert external_ids(channel) == sorted(ids)
    state = state_of(channel)
    assert (state.consecutive_failures, state.last_error) == (0, "")


def test_a_429_ends_the_poll_and_leaves_the_cursor(channel, sync_env, settings):
    settings.ALLEGRO_RATE_LIMIT_BLOCK_SECONDS = 3
    sandbox = sync_env.sandbox
    poll(channel)
    before = state_of(channel).cursor
    sandbox.create_orders(SELLER, 2)
    sandbox.set_rate_limit(client_id=sync_env.client_id, block_seconds=3)
    sandbox.block_client(sync_env.client_id, 3)

    result = poll(channel)

    assert result.status == "rate_limited"
    state = state_of(channel)
    assert state.cursor == before
    assert state.consecutive_failures == 0
    assert state.last_error.startswith("Allegro's request limit was reached")
    assert external_ids(channel) == []


def test_a_revoked_grant_stops_polling_the_channel(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    sandbox.create_orders(SELLER, 1)
    sandbox.revoke_tokens(SELLER)

    result = poll(channel)

    assert result.status == "failed"
    with scopes_disabled():
        assert SalesChannel.objects.get(pk=channel.pk).connection_state == (
            ConnectionState.NEEDS_REAUTH
        )
    state = state_of(channel)
    assert state.next_poll_at is None
    assert "authorize the channel again" in state.last_error
    assert poll(channel).status == "not_pollable"
    assert dispatch_due_polls() == []


def test_the_interval_adapts_to_traffic(channel, sync_env, settings):
    # The fixed plan (the budget's plan: tests/sync/test_poll_schedule.py).
    settings.SYNC_POLL_PLAN = "fixed"
    settings.SYNC_POLL_BUSY_SECONDS = 15
    settings.SYNC_POLL_IDLE_MAX_SECONDS = 60
    poll(channel)
    sync_env.sandbox.create_orders(SELLER, 1)
    intervals = []
    for _ in range(4):
        poll(channel)
        intervals.append(state_of(channel).poll_interval_seconds)
    assert intervals == [15, 30, 60, 60]


def test_the_tick_enqueues_each_due_channel_once(channel, other_tenant, sync_env):
    # Connecting made the channel due at once (sync.schedule.channel_connected).
    assert dispatch_due_polls() == [(channel.tenant_id, channel.pk)]
    # Claimed: the next tick leaves it alone until its next poll is due.
    assert dispatch_due_polls() == []
    with scopes_disabled():
        ChannelSyncState.objects.filter(channel_id=channel.pk).update(
            next_poll_at=timezone.now() - dt.timedelta(seconds=1)
        )
    assert dispatch_due_polls() == [(channel.tenant_id, channel.pk)]


def test_a_channel_connected_to_another_account_starts_over(channel, sync_env):
    sandbox = sync_env.sandbox
    sandbox.create_orders(SELLER, 1)
    poll(channel)
    first = state_of(channel)
    assert first.cursor_account == f"local:{channel.connected_seller_id}"
    # As after a change of environment and a new authorization (another seller account).
    with scopes_disabled():
        SalesChannel.objects.filter(pk=channel.pk).update(connected_seller_id="99999")
    sandbox.create_orders(SELLER, 1)

    result = poll(channel)

    assert result.status == "done"
    state = state_of(channel)
    assert state.cursor_account == "local:99999"
    assert state.cursor_bootstrapped_at > first.cursor_bootstrapped_at
    assert state.cursor == last_event_id(sandbox)
    assert external_ids(channel) == []  # the new account's history is the backfill's
