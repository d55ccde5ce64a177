"""A status change that comes from Allegro's own state pushes nothing back to Allegro.

The journal is read by the real poll (sync.poll.poll_channel) against
allegro_sandbox over HTTP; the sandbox counts every request it serves, so "nothing pushed" is
checked on both sides: no outbox row here, no PUT …/fulfillment there. Staff moving an order to
the same status still pushes."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from fulfillment.models import PushKind, PushState
from fulfillment.services import mappings
from fulfillment.services.push import process_order
from orders.changes import change_order_status
from orders.models import Order, SystemStatus
from sync.poll import poll_channel
from tests.fulfillment.helpers import SELLER, pushes_of
from tests.support.orders import status_of

pytestmark = pytest.mark.django_db(transaction=True)


def poll(channel):
    with scope(tenant=channel.tenant):
        result = poll_channel(channel.pk)
    assert result.status == "done", result
    return result


def order_of(channel, external_id: str) -> Order:
    with scopes_disabled():
        return Order.objects.select_related("status").get(
            channel_id=channel.pk, external_id=external_id
        )


def fulfillment_puts(sandbox) -> int:
    return sandbox.stats()["requests"].get("fulfillment", 0)


@pytest.mark.parametrize("cancellation", ["BUYER_CANCELLED", "AUTO_CANCELLED"])
def test_a_cancellation_from_the_journal_is_not_pushed_back(
    tenant, channel, push_env, cancellation
):
    sandbox = push_env.sandbox
    poll(channel)  # the cursor starts at the journal's end
    [external_id] = sandbox.create_orders(SELLER, 1)
    poll(channel)
    assert order_of(channel, external_id).status.system_code == SystemStatus.NEW
    puts_before = fulfillment_puts(sandbox)

    sandbox.advance_order(external_id, cancellation)
    result = poll(channel)

    order = order_of(channel, external_id)
    assert result.updated == 1
    assert (order.allegro_status, order.status.system_code) == ("CANCELLED", SystemStatus.CANCELLED)
    assert order.status.name == "Anulowane"
    assert pushes_of(order) == []
    assert fulfillment_puts(sandbox) - puts_before == 0
    assert sandbox.fulfillment_of(external_id)["changes"] == 0


def test_a_paid_order_entering_a_mapped_import_status_is_not_pushed(tenant, channel, push_env):
    sandbox = push_env.sandbox
    with scope(tenant=tenant):
        mappings.save_mapping(channel, {status_of(tenant, SystemStatus.NEW).pk: "PROCESSING"})
    poll(channel)
    [bought] = sandbox.create_orders(SELLER, 1, status="BOUGHT")
    [paid] = sandbox.create_orders(SELLER, 1)
    poll(channel)
    assert order_of(channel, bought).status.system_code == SystemStatus.UNCONFIRMED

    sandbox.advance_order(bought, "FILLED_IN")
    sandbox.advance_order(bought, "READY_FOR_PROCESSING")
    poll(channel)

    for external_id in (bought, paid):
        order = order_of(channel, external_id)
        assert order.status.system_code == SystemStatus.NEW
        assert pushes_of(order) == []
        assert sandbox.fulfillment_of(external_id)["changes"] == 0
    assert fulfillment_puts(sandbox) == 0


def test_a_merge_closing_the_old_orders_is_not_pushed(tenant, channel, push_env):
    sandbox = push_env.sandbox
    poll(channel)
    first, second = sandbox.create_orders(SELLER, 2)
    poll(channel)

    merged = sandbox.merge_orders([first, second])
    poll(channel)

    new = order_of(channel, merged)
    for external_id in (first, second):
        old = order_of(channel, external_id)
        assert (old.merged_into_id, old.status.system_code) == (new.pk, SystemStatus.CANCELLED)
        assert pushes_of(old) == []
    assert pushes_of(new) == []
    assert fulfillment_puts(sandbox) == 0


def test_staff_cancelling_an_order_still_pushes_cancelled(tenant, admin_user, channel, push_env):
    sandbox = push_env.sandbox
    poll(channel)
    [external_id] = sandbox.create_orders(SELLER, 1)
    poll(channel)
    order = order_of(channel, external_id)

    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.CANCELLED), admin_user)
        [push] = pushes_of(order)
        assert (push.kind, push.target_status, push.state) == (
            PushKind.STATUS,
            "CANCELLED",
            PushState.PENDING,
        )
        result = process_order(tenant.pk, order.pk)

    assert result.sent == [push.pk]
    assert fulfillment_puts(sandbox) == 1
    assert sandbox.fulfillment_of(external_id)["status"] == "CANCELLED"
    assert sandbox.fulfillment_of(external_id)["changes"] == 1
