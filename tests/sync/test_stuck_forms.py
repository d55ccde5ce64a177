"""A checkout form Allegro answers 500 for while it serves the rest of the account: the poll
imports every other form and moves its cursor on, the stuck form is retried on its own with
backoff (and swept up by the reconciliation), lands exactly once when Allegro serves it, and
leaves the list when it is merged away. The list is per tenant and channel."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from sync.health import health_of
from sync.models import PollOutcome, StuckCheckoutForm
from tests.support.channels import make_channel
from tests.support.connect import connect
from tests.sync.helpers import (
    CHANNEL,
    SELLER,
    SELLER_PASSWORD,
    external_ids,
    mismatches,
    orders_by_external_id,
    poll,
    reconcile,
    state_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.SYNC_GET_RETRIES = 1
    settings.SYNC_POLL_BUSY_SECONDS = 15
    # Forms one by one: the list endpoint still serves a form its GET fails for (that path,
    # and a form failing on both, are in test_busy_poll.py).
    settings.SYNC_LIST_READS = False


def unreadable(sandbox, form_id: str, status: int = 500) -> None:
    sandbox.call("PUT", f"/orders/{form_id}/unreadable", {"status": status})


def readable(sandbox, form_id: str) -> None:
    sandbox.call("DELETE", f"/orders/{form_id}/unreadable")


def stuck_of(channel) -> list[StuckCheckoutForm]:
    with scopes_disabled():
        return list(StuckCheckoutForm.objects.filter(channel_id=channel.pk).order_by("form_id"))


def make_due(channel) -> None:
    """Time passes: every set-aside form of the channel is due for its retry."""
    with scopes_disabled():
        StuckCheckoutForm.objects.filter(channel_id=channel.pk).update(
            next_retry_at=timezone.now() - dt.timedelta(seconds=1)
        )


def form_reads(sandbox) -> int:
    return sandbox.stats()["requests"].get("checkout_form", 0)


def last_event_id(sandbox) -> str:
    return sandbox.journal(SELLER)["events"][-1]["id"]


def test_the_others_are_imported_in_one_poll_and_the_stuck_one_lands_once_served(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    ids = sandbox.create_orders(SELLER, 4)
    stuck = ids[1]
    unreadable(sandbox, stuck)

    before = timezone.now()
    result = poll(channel)

    assert (result.status, result.created, result.set_aside) == ("done", 3, 1)
    assert external_ids(channel) == sorted(i for i in ids if i != stuck)
    state = state_of(channel)
    assert state.cursor == last_event_id(sandbox)
    assert (state.last_poll_outcome, state.consecutive_failures, state.last_error) == (
        PollOutcome.OK,
        0,
        "",
    )
    [row] = stuck_of(channel)
    assert (row.form_id, row.last_status, row.attempts) == (stuck, 500, 1)
    assert before <= row.first_failed_at == row.last_attempt_at
    assert row.next_retry_at == row.last_attempt_at + dt.timedelta(seconds=15)

    # Not due yet: the next poll does not ask for it.
    reads = form_reads(sandbox)
    assert poll(channel).retried == 0
    assert form_reads(sandbox) == reads

    # Due, still 500: asked for again on its own, and the wait doubles.
    make_due(channel)
    result = poll(channel)
    assert (result.status, result.retried, result.created) == ("done", 1, 0)
    assert form_reads(sandbox) == reads + 2  # one retry inside the GET
    [row] = stuck_of(channel)
    assert (row.attempts, row.last_status) == (2, 500)
    assert row.next_retry_at == row.last_attempt_at + dt.timedelta(seconds=30)
    assert row.first_failed_at < row.last_attempt_at
    assert stuck not in external_ids(channel)

    # Served at last: imported once, with the normal ingest rules, and off the list.
    readable(sandbox, stuck)
    make_due(channel)
    result = poll(channel)
    assert (result.status, result.retried, result.created, result.unstuck) == ("done", 1, 1, 1)
    assert stuck_of(channel) == []
    orders = orders_by_external_id(channel)  # asserts no external id twice
    assert sorted(orders) == sorted(ids)
    assert mismatches(orders[stuck], sandbox.order(stuck)["checkoutForm"]) == []
    assert orders[stuck].status.name == "Nowe"

    # Nothing more to do: the form is not asked for again.
    reads = form_reads(sandbox)
    make_due(channel)
    assert poll(channel).retried == 0
    assert form_reads(sandbox) == reads
    assert len(external_ids(channel)) == 4


def test_a_new_event_of_the_stuck_form_brings_it_through_the_journal(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    (stuck,) = sandbox.create_orders(SELLER, 1, status="BOUGHT")
    unreadable(sandbox, stuck)
    poll(channel)
    assert [r.form_id for r in stuck_of(channel)] == [stuck]

    readable(sandbox, stuck)
    sandbox.advance_order(stuck, "FILLED_IN")
    result = poll(channel)

    assert (result.created, result.unstuck, result.retried) == (1, 1, 0)
    assert stuck_of(channel) == []
    assert orders_by_external_id(channel)[stuck].allegro_status == "FILLED_IN"


def test_the_reconcile_sweep_imports_a_stuck_form_and_takes_it_off_the_list(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    ids = sandbox.create_orders(SELLER, 3)
    unreadable(sandbox, ids[0])  # for good: only the list endpoint serves it
    poll(channel)
    assert [r.form_id for r in stuck_of(channel)] == [ids[0]]

    result = reconcile(channel)

    assert (result.status, result.missing, result.unstuck) == ("done", [ids[0]], 1)
    assert stuck_of(channel) == []
    assert external_ids(channel) == sorted(ids)
    reads = form_reads(sandbox)
    make_due(channel)
    assert poll(channel).retried == 0
    assert form_reads(sandbox) == reads


def test_a_stuck_form_that_is_merged_away_leaves_the_list(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    old = sandbox.create_orders(SELLER, 2, status="BOUGHT")
    unreadable(sandbox, old[0])
    poll(channel)
    assert [r.form_id for r in stuck_of(channel)] == [old[0]]
    new = sandbox.merge_orders(old)  # the old forms answer 404 from now on

    make_due(channel)
    result = poll(channel)

    assert result.status == "done"
    assert (result.retried, result.unstuck) == (1, 1)
    assert stuck_of(channel) == []
    orders = orders_by_external_id(channel)
    assert sorted(orders) == sorted([old[1], new])
    assert orders[old[1]].merged_into_id == orders[new].pk
    reads = form_reads(sandbox)
    make_due(channel)
    assert poll(channel).retried == 0
    assert form_reads(sandbox) == reads  # not retried forever


def test_the_stuck_list_is_per_tenant_and_channel(channel, sync_env, other_tenant, other_admin):
    """Two companies connected to the same Allegro account: each has its own list."""
    sandbox = sync_env.sandbox
    other = connect(
        make_channel(other_tenant, CHANNEL, name="Beta", alias="BE"), other_admin, SELLER_PASSWORD
    )
    poll(channel)
    poll(other)
    ids = sandbox.create_orders(SELLER, 2)
    unreadable(sandbox, ids[0])
    poll(channel)
    poll(other)
    assert [r.form_id for r in stuck_of(channel)] == [ids[0]]
    assert [(r.form_id, r.tenant_id) for r in stuck_of(other)] == [(ids[0], other_tenant.pk)]

    reconcile(channel)  # alfa's sweep resolves alfa's entry only

    assert stuck_of(channel) == []
    assert [r.form_id for r in stuck_of(other)] == [ids[0]]
    with scope(tenant=channel.tenant):
        assert list(StuckCheckoutForm.objects.values_list("form_id", flat=True)) == []
        assert health_of(channel).stuck_total == 0
    with scope(tenant=other_tenant):
        assert list(StuckCheckoutForm.objects.values_list("form_id", flat=True)) == [ids[0]]
        health = health_of(other)
        assert health.stuck_total == 1
        assert [r.form_id for r in health.stuck_forms] == [ids[0]]


def test_when_more_forms_fail_than_the_allowance_the_poll_stops_there(channel, sync_env, settings):
    """Every form answering 500 means Allegro is failing broadly: a few are set aside, then the
    poll stops before the next one and backs off, as for any transient error."""
    settings.SYNC_SET_ASIDE_MAX_PER_POLL = 2
    sandbox = sync_env.sandbox
    poll(channel)
    ids = sandbox.create_orders(SELLER, 3, status="BOUGHT")  # one event each
    for form_id in ids:
        unreadable(sandbox, form_id)

    result = poll(channel)

    assert (result.status, result.set_aside, result.events) == ("partial", 2, 2)
    assert sorted(r.form_id for r in stuck_of(channel)) == sorted(ids[:2])
    state = state_of(channel)
    assert state.cursor == sandbox.journal(SELLER)["events"][-2]["id"]
    assert state.consecutive_failures == 1
    assert state.last_poll_outcome == PollOutcome.PARTIAL
