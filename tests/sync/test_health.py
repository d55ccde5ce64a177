"""Sync health is computed once for all the channels a page shows: the dashboard asks the same
number of queries for one channel as for six, and every row shows its own channel's figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from orders.ingest import upsert_order_from_checkout_form
from sync.models import ChannelSyncState, StuckCheckoutForm
from tests.support.channels import channel_of
from tests.support.orders import form_bought_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def add_channel(tenant, alias: str, *, stuck: int = 1, orders: int = 1):
    """A connected channel with a sync state that polled a minute ago and failed since, forms
    Allegro cannot serve, and orders bought today (one of them with a data problem)."""
    channel = channel_of(tenant, alias, f"Allegro {alias}")
    now = timezone.now()
    with scope(tenant=tenant):
        ChannelSyncState.objects.create(
            tenant=tenant,
            channel=channel,
            last_poll_at=now,
            last_success_at=now - dt.timedelta(minutes=1),
            last_error="Allegro did not answer properly; apilo tries again by itself.",
            last_error_at=now,
        )
        StuckCheckoutForm.objects.bulk_create(
            StuckCheckoutForm(
                tenant=tenant,
                channel=channel,
                form_id=f"{alias}-{n}",
                first_failed_at=now,
                last_attempt_at=now,
                last_status=500,
                next_retry_at=now,
            )
            for n in range(stuck)
        )
    for n in range(orders):
        form = form_bought_at(now)
        if n == 0:
            form["buyer"]["phoneNumber"] = "---"  # a data problem: the order is flagged
        assert upsert_order_from_checkout_form(channel, form).ok
    return channel


def dashboard(client, tenant) -> tuple[int, object]:
    """The dashboard's response and how many queries it asked (after a first request that warms
    the per-tenant caches, which do not depend on the channels)."""
    url = reverse("orders:dashboard", args=[tenant.slug])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_the_dashboard_asks_as_many_queries_for_six_channels_as_for_one(staff_client, tenant):
    add_channel(tenant, "AA")
    one, _response = dashboard(staff_client, tenant)

    for alias, stuck in (("BB", 2), ("CC", 0), ("DD", 3), ("EE", 1), ("FF", 12)):
        add_channel(tenant, alias, stuck=stuck, orders=2)
    six, response = dashboard(staff_client, tenant)

    assert six == one
    rows = response.context["channels"]
    assert [channel.alias for channel, _health in rows] == ["AA", "BB", "CC", "DD", "EE", "FF"]
    assert [health.stuck_total for _channel, health in rows] == [1, 2, 0, 3, 1, 12]
    assert [health["with_warnings"] for _channel, health in rows] == [1, 1, 1, 1, 1, 1]
    html = response.content.decode()
    assert html.count("12 orders Allegro cannot serve</div>") == 1
    assert html.count("3 orders Allegro cannot serve</div>") == 1
    assert html.count("orders up to date as of 1 minute ago</div>") == 6


def test_the_channel_page_and_the_dashboard_tell_the_same_health(client, admin_user, tenant):
    channel = add_channel(tenant, "AA", stuck=2, orders=3)
    client.force_login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    page = client.get(
        reverse(
            "administration:channels:detail",
            kwargs={"tenant_slug": tenant.slug, "channel_id": channel.pk},
        )
    ).content.decode()
    _queries, response = dashboard(client, tenant)

    [(_channel, health)] = response.context["channels"]
    assert (health.orders_today, health.stuck_total, health["with_warnings"]) == (3, 2, 1)
    assert 'data-field="orders-today">3</dd>' in page
    assert '<h3 data-field="stuck-title">2 orders Allegro cannot serve:</h3>' in page
    assert "2 orders Allegro cannot serve</div>" in response.content.decode()
    for html in (page, response.content.decode()):
        assert "orders up to date as of 1 minute ago" in html
        assert "Allegro did not answer properly; apilo tries again by itself." in html
