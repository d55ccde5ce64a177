"""The channel page's sync health, the backfill progress partial and the re-import action."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.models import BackfillState
from sync.runkit import AUTH_REVOKED_TEXT
from tests.support.connect import connect
from tests.sync.helpers import (
    SELLER,
    SELLER_PASSWORD,
    backfill_to_the_end,
    poll,
    reconcile,
    state_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def url(name: str, channel) -> str:
    return reverse(
        f"administration:channels:{name}",
        kwargs={"tenant_slug": channel.tenant.slug, "channel_id": channel.pk},
    )


def test_the_channel_page_shows_sync_health(admin_client, channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    sandbox.create_orders(SELLER, 2)
    poll(channel)
    sandbox.set_faults(seller=SELLER, drop_events=1.0)
    sandbox.create_orders(SELLER, 1)
    sandbox.clear_faults(seller=SELLER)
    reconcile(channel, 48)
    sandbox.set_faults(seller=SELLER, error_5xx=1.0)
    poll(channel)

    page = admin_client.get(url("detail", channel))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="sync-health"' in html
    assert 'data-field="orders-today">3</dd>' in html
    assert "orders up to date as of" in html
    assert "Allegro did not answer properly; apilo tries again by itself." in html
    assert (
        "3 orders of the last 48 hours compared with Allegro, 1 missed by the journal found "
        "and imported" in html
    )
    assert 'id="reimport-form"' in html


def test_authorizing_again_clears_the_revocation_error_at_once(
    admin_client, admin_user, channel, sync_env
):
    sandbox = sync_env.sandbox
    poll(channel)
    sandbox.revoke_tokens(SELLER)
    poll(channel)
    assert state_of(channel).last_error == AUTH_REVOKED_TEXT
    revoked_words = "authorize the channel again (no order will be missed)."
    assert revoked_words in admin_client.get(url("sync_health", channel)).content.decode()

    connect(
        channel, admin_user, SELLER_PASSWORD
    )  # no poll runs in between (no worker in this test)

    state = state_of(channel)
    assert (state.last_error, state.consecutive_failures) == ("", 0)
    html = admin_client.get(url("sync_health", channel)).content.decode()
    assert revoked_words not in html
    assert '<dd data-field="last-error">none</dd>' in html


def test_the_sync_health_partial_is_the_refreshing_body(admin_client, channel, sync_env):
    poll(channel)
    response = admin_client.get(url("sync_health", channel), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="sync-health-body"')
    assert "reimport-form" not in html
    assert "Last poll" in html


def test_reimport_starts_a_backfill_with_a_progress_bar(admin_client, channel, sync_env, settings):
    settings.SYNC_BACKFILL_PAGES_PER_TASK = 1
    sync_env.sandbox.create_orders(
        SELLER, 120, bought_at=(timezone.now() - dt.timedelta(days=2)).isoformat()
    )
    today = timezone.localdate()

    response = admin_client.post(
        url("reimport", channel),
        {"date_from": (today - dt.timedelta(days=3)).isoformat(), "date_to": today.isoformat()},
        follow=True,
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        f"Orders from {today - dt.timedelta(days=3)} to {today} are being imported again."
    ]
    state = state_of(channel)
    assert (state.backfill_state, state.backfill_run) == (BackfillState.PENDING, 1)
    progress = admin_client.get(url("backfill_progress", channel)).content.decode()
    assert 'hx-trigger="every 2s"' in progress
    assert 'data-state="pending"' in progress

    backfill_to_the_end(channel, 1, max_steps=1, must_finish=False)
    progress = admin_client.get(url("backfill_progress", channel)).content.decode()
    assert '<progress max="100" value="83"' in progress
    assert "100 of 120 orders read, 100 new" in progress

    backfill_to_the_end(channel, 1)
    progress = admin_client.get(url("backfill_progress", channel)).content.decode()
    assert "hx-trigger" not in progress  # finished: the bar stops polling
    assert '<progress max="100" value="100"' in progress
    assert "120 of 120 orders read, 120 new" in progress


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (1, 3, "The start date must not be after the end date."),
        (
            400,
            1,
            "Allegro keeps orders for 12 months: choose a start date within the last 12 months.",
        ),
        (2, -1, "The end date must not be in the future."),
    ],
)
def test_reimport_refuses_bad_dates(admin_client, channel, sync_env, start, end, message):
    today = timezone.localdate()
    response = admin_client.post(
        url("reimport", channel),
        {
            "date_from": (today - dt.timedelta(days=start)).isoformat(),
            "date_to": (today - dt.timedelta(days=end)).isoformat(),
        },
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [message]
    from django_scopes import scopes_disabled

    from sync.models import ChannelSyncState

    with scopes_disabled():
        # No re-import was requested (the state row itself exists since the connection).
        assert not ChannelSyncState.objects.filter(
            channel_id=channel.pk, backfill_run__gt=0
        ).exists()


def test_only_administrators_reimport(client, staff_user, channel, sync_env):
    client.force_login(staff_user)
    today = timezone.localdate().isoformat()
    response = client.post(url("reimport", channel), {"date_from": today, "date_to": today})
    assert response.status_code == 403
    from django_scopes import scopes_disabled

    from sync.models import ChannelSyncState

    with scopes_disabled():
        # No re-import was requested (the state row itself exists since the connection).
        assert not ChannelSyncState.objects.filter(
            channel_id=channel.pk, backfill_run__gt=0
        ).exists()
