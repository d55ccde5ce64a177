"""The beat tick applies the poll plan (sync/schedule.py) to real accounts in the sandbox over
HTTP: the interval each poll sets, the channel page that says it, the resumption after a 429
block — every account claimed by the first tick after the block, the most lagging first, none
pushed into backoff — and a poll claimed twice while the workers were behind, run once."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from channels.ratelimit import get_limiter
from sync.models import ChannelSyncState
from sync.schedule import PLAN_CACHE_KEY, current_plan, dispatch_due_polls
from sync.tasks import poll_channel
from tests.celery_support import wait_until
from tests.support.channels import make_channel
from tests.support.connect import connect
from tests.sync.helpers import SELLER, SELLER_PASSWORD, external_ids, poll, state_of

pytestmark = pytest.mark.django_db


def sellers(sandbox, tenant, admin_user, count: int) -> list[tuple[str, object]]:
    """``count`` sandbox sellers, each connected as a channel of ``tenant``: [(login, channel)]."""
    out = []
    for i in range(count):
        login = f"plan-seller-{i}"
        sandbox.create_seller(login, SELLER_PASSWORD, id=str(61000001 + i), offers=1)
        form = {"name": f"Sklep {i}", "alias": "P" + "ABCDEFGH"[i], "allegro_login": login}
        out.append((login, connect(make_channel(tenant, form), admin_user, SELLER_PASSWORD)))
    return out


def make_due(channels) -> None:
    with scopes_disabled():
        ChannelSyncState.objects.filter(channel__in=[c.pk for c in channels]).update(
            next_poll_at=timezone.now() - dt.timedelta(seconds=1)
        )


def test_busy_accounts_are_polled_as_often_as_the_budget_allows(
    tenant, admin_user, sync_env, settings, client
):
    # 9 000 requests/min, 0.5 % for polls: 45 polls/min. Three busy accounts: every 4 s.
    settings.SYNC_POLL_BUDGET_SHARE = 0.005
    sandbox = sync_env.sandbox
    accounts = sellers(sandbox, tenant, admin_user, 3)
    for _login, channel in accounts:
        poll(channel)  # bootstraps the cursor: nothing new, idle
    for login, _channel in accounts:
        sandbox.create_orders(login, 1)

    # Three idle accounts (backed off to 30 s): a busy one gets the floor, and the rest of the
    # share brings the idle ones' ceiling down to 4 s (3 × 60 / 4 = 45).
    assert dispatch_due_polls() == []  # every account was just polled
    plan = current_plan()
    assert (plan.busy_seconds, plan.idle_max_seconds, plan.polls_per_minute) == (2, 4, 45.0)
    for _login, channel in accounts:
        assert poll(channel).created == 1
        assert state_of(channel).poll_interval_seconds == 2

    # Now all three are busy: 3 × 60 / 4 s = 45 polls/min, the whole share. (Each is due
    # before the next tick, 2 s away: enqueued now with a countdown.)
    assert len(dispatch_due_polls()) == 3
    plan = current_plan()
    assert (plan.accounts, plan.busy_seconds, plan.idle_max_seconds) == (3, 4, 4)
    assert plan.polls_per_minute == 45.0
    for login, channel in accounts:
        sandbox.create_orders(login, 1)
        assert poll(channel).created == 1
        assert state_of(channel).poll_interval_seconds == 4

    # An empty poll backs off up to the plan's idle ceiling: the share carries all three every
    # 4 s, so it stays there. With half the share the ceiling is 8 s (3 × 60 / 8 = 22.5).
    _login, first = accounts[0]
    intervals = []
    for _ in range(2):
        poll(first)
        intervals.append(state_of(first).poll_interval_seconds)
    settings.SYNC_POLL_BUDGET_SHARE = 0.0025
    cache.delete(PLAN_CACHE_KEY)  # as the next tick would: the plan of the new settings
    for _ in range(2):
        poll(first)
        intervals.append(state_of(first).poll_interval_seconds)
    assert intervals == [4, 4, 8, 8]

    # The channel page says how often the account is checked.
    client.force_login(admin_user)
    _login, second = accounts[1]
    page = reverse(
        "administration:channels:detail",
        kwargs={"tenant_slug": tenant.slug, "channel_id": second.pk},
    )
    polish = client.get(page, HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert "sprawdzane co 4 s" in polish
    english = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "checked every 4 s" in english


def test_the_fixed_plan_keeps_the_busy_interval_whatever_the_budget(
    tenant, admin_user, sync_env, settings
):
    settings.SYNC_POLL_PLAN = "fixed"
    settings.SYNC_POLL_BUSY_SECONDS = 15
    [(login, channel)] = sellers(sync_env.sandbox, tenant, admin_user, 1)
    poll(channel)
    sync_env.sandbox.create_orders(login, 1)
    assert poll(channel).created == 1
    assert state_of(channel).poll_interval_seconds == 15
    assert cache.get(PLAN_CACHE_KEY) is None  # the fixed plan is never computed


def test_after_a_429_block_every_account_is_claimed_by_the_next_tick_most_lagging_first(
    tenant, admin_user, sync_env, settings
):
    settings.ALLEGRO_RATE_LIMIT_BLOCK_SECONDS = 3
    sandbox = sync_env.sandbox
    accounts = sellers(sandbox, tenant, admin_user, 5)
    channels = [channel for _login, channel in accounts]
    for channel in channels:
        poll(channel)
    # Lag order (oldest successful poll first) is not the order of the rows: 4, 2, 0, 3, 1.
    now = timezone.now()
    with scopes_disabled():
        for index, minutes in ((4, 50), (2, 40), (0, 30), (3, 20), (1, 10)):
            ChannelSyncState.objects.filter(channel=channels[index]).update(
                last_success_at=now - dt.timedelta(minutes=minutes),
                # One of them was failing before the block (its backoff would be 2 minutes).
                consecutive_failures=3 if index == 3 else 0,
            )
    for login, _channel in accounts:
        sandbox.create_orders(login, 1)
    make_due(channels)

    sandbox.set_rate_limit(client_id=sync_env.client_id, block_seconds=3)
    sandbox.block_client(sync_env.client_id, 3)
    # Four accounts are polled during the block; the fifth is due but not polled yet.
    results = [poll(channel) for channel in channels[:4]]

    assert [r.status for r in results] == ["rate_limited"] * 4
    # The first poll met Allegro's 429; the others met the shared block, not Allegro.
    assert sandbox.stats()["by_status"].get("429", 0) == 1
    limiter = get_limiter()
    block_end = timezone.now() + dt.timedelta(seconds=limiter.blocked_for(sync_env.client_id))
    for channel in channels[:4]:
        state = state_of(channel)
        # Not a failure: no backoff, the next poll when the block ends.
        assert state.consecutive_failures == (3 if channel == channels[3] else 0)
        assert state.next_poll_at <= block_end + dt.timedelta(seconds=1)
    # While the block lasts the tick claims nobody, not even the account that is due (its poll
    # would only meet the block).
    assert dispatch_due_polls() == []

    wait_until(lambda: limiter.blocked_for(sync_env.client_id) == 0, 30, "the block ended")
    claimed = dispatch_due_polls()

    tid = tenant.pk
    assert claimed == [(tid, channels[i].pk) for i in (4, 2, 0, 3, 1)]
    assert dispatch_due_polls() == []  # claimed once
    sandbox.set_rate_limit(client_id=sync_env.client_id, unblock=True)
    for channel in channels:
        assert poll(channel).status == "done"
        assert len(external_ids(channel)) == 1
        assert state_of(channel).consecutive_failures == 0


def test_a_poll_claimed_twice_while_it_waited_in_the_queue_runs_once(channel, sync_env):
    # The workers were behind: the tick claimed the account (message A), the claim expired with
    # A still queued, and the next tick claimed it again (message B). A runs first.
    sandbox = sync_env.sandbox
    poll(channel)
    with scopes_disabled():  # the account's previous poll, a minute ago
        ChannelSyncState.objects.filter(channel=channel).update(
            last_poll_started_at=timezone.now() - dt.timedelta(seconds=60)
        )
    first_claim, second_claim = time.time() - 20, time.time() - 5
    [first] = sandbox.create_orders(SELLER, 1)
    assert poll_channel(channel.tenant_id, channel.pk, claimed_at=first_claim) == "done"
    [second] = sandbox.create_orders(SELLER, 1)
    requests = sandbox.stats()["requests"]["total"]

    # B finds a poll started after its claim: nothing to do, no request to Allegro.
    assert poll_channel(channel.tenant_id, channel.pk, claimed_at=second_claim) == "skipped"
    assert sandbox.stats()["requests"]["total"] == requests
    assert external_ids(channel) == [first]

    # A later claim polls, and so does a poll without a claim (a channel just connected).
    assert poll_channel(channel.tenant_id, channel.pk, claimed_at=time.time()) == "done"
    assert sorted(external_ids(channel)) == sorted([first, second])
    assert poll_channel(channel.tenant_id, channel.pk) == "done"
