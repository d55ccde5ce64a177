"""The seller's new-order mail: one per order fetched from the channel, whether the poll or the
sweep finds it first, however often it is read again (poll, sweep, re-import); orders imported
from past days (backfill, re-import) mail nobody."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from channels.models import SalesChannel
from sync.backfill import request_reimport
from tests.notifications.template_helpers import mails
from tests.sync.helpers import SELLER, backfill_to_the_end, orders_by_external_id, poll, reconcile

pytestmark = pytest.mark.django_db

SELLER_ADDRESS = "zamowienia@alfa.example"


@pytest.fixture
def notified(channel) -> SalesChannel:
    with scope(tenant=channel.tenant):
        SalesChannel.objects.filter(pk=channel.pk).update(seller_notification_email=SELLER_ADDRESS)
        channel.refresh_from_db()
    return channel


def test_one_mail_per_order_across_poll_sweep_and_reimport(notified, sync_env):
    sandbox = sync_env.sandbox
    poll(notified)
    [by_poll] = sandbox.create_orders(SELLER, 1)
    poll(notified)
    sandbox.set_faults(seller=SELLER, drop_events=1.0)
    [by_sweep] = sandbox.create_orders(SELLER, 1)  # the journal never tells of it
    sandbox.clear_faults(seller=SELLER)
    reconcile(notified, 48)
    # Read again and again: a poll, a second sweep, Allegro changing the form, a re-import.
    poll(notified)
    reconcile(notified, 48)
    sandbox.advance_order(by_poll, "MODIFY")
    poll(notified)
    today = timezone.localdate()
    with scope(tenant=notified.tenant):
        request_reimport(notified, today - dt.timedelta(days=1), today)
    backfill_to_the_end(notified, 1)
    poll(notified)

    orders = orders_by_external_id(notified)
    rows = mails(kind="seller_new_order")
    assert sorted((m.order_id, m.to_address, m.dedupe_key) for m in rows) == sorted(
        (orders[i].pk, SELLER_ADDRESS, f"seller-new-order:{orders[i].pk}")
        for i in (by_poll, by_sweep)
    )
    first = next(m for m in rows if m.order_id == orders[by_poll].pk)
    order = orders[by_poll]
    assert first.subject == (
        f"New order {order.number} from {notified.name}: {order.total_to_pay} {order.currency}"
    )
    assert f"/app/{notified.tenant.slug}/orders/{order.pk}/" in first.text
    with scopes_disabled():
        assert order.lines.get().offer_name in first.text
    assert order.delivery_method_name in first.text


def test_orders_of_a_reimport_of_past_days_do_not_mail(notified, sync_env):
    sandbox = sync_env.sandbox
    sandbox.create_orders(SELLER, 3, bought_at=(timezone.now() - dt.timedelta(days=2)).isoformat())
    today = timezone.localdate()
    with scope(tenant=notified.tenant):
        request_reimport(notified, today - dt.timedelta(days=3), today)
    steps = backfill_to_the_end(notified, 1)
    assert sum(s.created for s in steps) == 3
    # Found by the backfill first: neither the poll nor a sweep that reads them again mails.
    poll(notified)
    reconcile(notified, 72)
    assert mails(kind="seller_new_order") == []
