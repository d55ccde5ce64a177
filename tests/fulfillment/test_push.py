"""The push outbox against allegro_sandbox over HTTP: status changes and shipments written with
the change, sent in order, only when needed, and every outcome on the order's timeline.

These tests call the sender (fulfillment.services.push.process_order) in the test process, as
the task would; tests/fulfillment/test_convergence.py runs real Celery workers."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from fulfillment.models import FulfillmentPush, PushKind, PushState, Shipment
from fulfillment.services import mappings
from fulfillment.services.push import process_order, sweep_due
from fulfillment.services.shipments import ShipmentError, add_shipment
from orders.changes import bulk_change_status, change_order_status
from orders.ingest import (
    Outcome,
    upsert_order_from_checkout_form,
    upsert_orders_from_checkout_forms,
)
from orders.models import Order, OrderEvent, OrderEventKind, SystemStatus
from tests.celery_support import wait_until
from tests.fulfillment.helpers import pushes_of
from tests.support.orders import import_orders, status_of

pytestmark = pytest.mark.django_db(transaction=True)

CARRIERS = ["INPOST", "DPD", "OTHER"]


def send(order: Order):
    with scope(tenant=order.tenant):
        return process_order(order.tenant_id, order.pk)


def fresh(order: Order) -> Order:
    with scopes_disabled():
        return Order.objects.select_related("status", "channel").get(pk=order.pk)


def push_events(order: Order) -> list[dict]:
    with scopes_disabled():
        return [
            e.data
            for e in OrderEvent.objects.filter(
                order_id=order.pk, kind=OrderEventKind.FULFILLMENT_PUSH
            ).order_by("id")
        ]


def test_a_mapped_status_change_writes_a_push_and_sends_one_put(
    tenant, admin_user, channel, push_env
):
    [order] = import_orders(channel, push_env.sandbox, 1)
    # Imported into "Nowe", which maps to nothing by default: nothing queued.
    assert pushes_of(order) == []
    before = push_env.sandbox.stats()["requests"].get("fulfillment", 0)

    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    [push] = pushes_of(order)
    assert (push.kind, push.target_status, push.state) == (
        PushKind.STATUS,
        "PROCESSING",
        PushState.PENDING,
    )

    result = send(order)

    assert result.sent == [push.pk]
    assert push_env.sandbox.fulfillment_of(order.external_id)["status"] == "PROCESSING"
    assert push_env.sandbox.stats()["requests"].get("fulfillment", 0) - before == 1
    [done] = pushes_of(order)
    assert (done.state, done.attempts, done.requests) == (PushState.SENT, 1, 1)
    assert fresh(order).fulfillment_status == "PROCESSING"
    assert push_events(order) == [
        {"push": push.pk, "kind": "status", "outcome": "sent", "target": "PROCESSING"}
    ]


def test_an_unmapped_status_writes_nothing(tenant, admin_user, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1)
    with scope(tenant=tenant):
        mappings.save_mapping(channel, {status_of(tenant, SystemStatus.IN_PROGRESS).pk: ""})
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    assert pushes_of(order) == []
    assert push_env.sandbox.fulfillment_of(order.external_id)["changes"] == 0


def test_several_pending_changes_send_only_the_latest_status(tenant, admin_user, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1)
    with scope(tenant=tenant):
        for code in (SystemStatus.IN_PROGRESS, SystemStatus.READY_TO_SHIP, SystemStatus.SENT):
            change_order_status(order, status_of(tenant, code), admin_user)
    first, second, third = pushes_of(order)

    result = send(order)

    assert result.superseded == [first.pk, second.pk]
    assert result.sent == [third.pk]
    fulfillment = push_env.sandbox.fulfillment_of(order.external_id)
    assert (fulfillment["status"], fulfillment["changes"]) == ("SENT", 1)
    assert [e["outcome"] for e in push_events(order)] == ["superseded", "superseded", "sent"]


def test_no_put_when_allegro_already_has_the_status(tenant, admin_user, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1)
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    send(order)
    with scope(tenant=tenant):
        # Another status that maps to the same Allegro status: no second change on Allegro.
        mappings.save_mapping(channel, {status_of(tenant, SystemStatus.NEW).pk: "PROCESSING"})
        change_order_status(order, status_of(tenant, SystemStatus.NEW), admin_user)
    result = send(order)
    assert len(result.skipped) == 1 and result.sent == []
    assert push_env.sandbox.fulfillment_of(order.external_id)["changes"] == 1


def test_back_to_the_confirmed_status_asks_allegro_and_spends_no_change(
    tenant, admin_user, channel, push_env
):
    [order] = import_orders(channel, push_env.sandbox, 1)
    sent = status_of(tenant, SystemStatus.SENT)
    with scope(tenant=tenant):
        change_order_status(order, sent, admin_user)
    send(order)
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
        change_order_status(order, sent, admin_user)
    _sent, back_and_forth, back = pushes_of(order)

    result = send(order)

    # PROCESSING was superseded, so it may have reached Allegro unrecorded: the form is read
    # (GET), it says SENT, and no PUT is made.
    assert (result.superseded, result.skipped, result.sent) == ([back_and_forth.pk], [back.pk], [])
    [skipped] = [p for p in pushes_of(order) if p.pk == back.pk]
    assert (skipped.state, skipped.requests) == (PushState.SKIPPED, 1)
    fulfillment = push_env.sandbox.fulfillment_of(order.external_id)
    assert (fulfillment["status"], fulfillment["changes"]) == ("SENT", 1)


def test_a_buyer_change_409_is_reread_and_retried(tenant, admin_user, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1)
    old_revision = order.revision
    push_env.sandbox.advance_order(order.external_id, "MODIFY")  # new revision at Allegro
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.READY_TO_SHIP), admin_user)

    result = send(order)

    assert len(result.sent) == 1
    form = push_env.sandbox.order(order.external_id)["checkoutForm"]
    assert form["fulfillment"]["status"] == "READY_FOR_SHIPMENT"
    [push] = pushes_of(order)
    assert push.requests == 3  # PUT (409), GET the form, PUT
    current = fresh(order)
    assert current.revision == form["revision"] != old_revision
    assert current.fulfillment_status == "READY_FOR_SHIPMENT"


def test_a_422_is_permanent_shown_and_the_order_stays_workable(
    tenant, admin_user, channel, push_env
):
    [order] = import_orders(channel, push_env.sandbox, 1)
    # Allegro refuses every status of this order (as with the 100-change cap).
    push_env.sandbox.set_faults(
        seller=push_env.seller,
        error_5xx=1.0,
        error_status=422,
        path_prefix=f"/order/checkout-forms/{order.external_id}/fulfillment",
    )
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    result = send(order)
    [push] = pushes_of(order)
    assert result.failed == [push.pk]
    assert (push.state, push.error_code, push.attempts) == (PushState.FAILED, "refused", 1)
    # Not retried: the sweeper does not pick it up, sending again does nothing.
    assert sweep_due() == []
    assert send(order).failed == []
    assert pushes_of(order)[0].attempts == 1

    # The order stays workable: the next change goes out once Allegro accepts again.
    push_env.sandbox.clear_faults()
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.SENT), admin_user)
    assert len(send(order).sent) == 1
    assert push_env.sandbox.fulfillment_of(order.external_id)["status"] == "SENT"
    assert [e["outcome"] for e in push_events(order)] == ["failed", "sent"]


def test_a_5xx_keeps_the_push_pending_with_backoff_and_the_queue_in_order(
    tenant, admin_user, channel, push_env
):
    [order] = import_orders(channel, push_env.sandbox, 1)
    push_env.sandbox.set_faults(seller=push_env.seller, error_5xx=1.0)
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    result = send(order)
    [push] = pushes_of(order)
    assert result.retry_in is not None and result.sent == []
    assert (push.state, push.error_code, push.attempts) == (PushState.PENDING, "transient", 1)
    push_env.sandbox.clear_faults()
    assert send(order).sent == [push.pk]


def test_our_own_change_coming_back_through_the_journal_does_not_echo(
    tenant, admin_user, channel, push_env
):
    [order] = import_orders(channel, push_env.sandbox, 1)
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    send(order)
    journal = push_env.sandbox.journal(push_env.seller)["events"]
    assert journal[-1]["type"] == "FULFILLMENT_STATUS_CHANGED"
    with scopes_disabled():
        events_before = OrderEvent.objects.filter(order_id=order.pk).count()
    # What the sync engine does for that event: re-read the checkout form and import it.
    form = push_env.sandbox.order(order.external_id)["checkoutForm"]
    with scope(tenant=tenant):
        outcome = upsert_order_from_checkout_form(channel, form)
    assert outcome.outcome == Outcome.UNCHANGED
    with scopes_disabled():
        assert OrderEvent.objects.filter(order_id=order.pk).count() == events_before
    assert len(pushes_of(order)) == 1


def test_adding_a_shipment_posts_it_and_sets_sent(tenant, admin_user, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1, lines=2)
    with scope(tenant=tenant):
        order = fresh(order)
        shipment = add_shipment(
            order,
            carrier_id="INPOST",
            carrier_name="",
            waybill="620111222333",
            line_ids=None,
            comment="Paczka {order.number}: {shipment.waybill}",
            actor=admin_user,
            carriers=CARRIERS,
        )
    assert shipment.comment == f"Paczka {order.number}: 620111222333"
    current = fresh(order)
    assert current.status.system_code == SystemStatus.SENT
    ship_push, status_push = pushes_of(order)
    assert (ship_push.kind, status_push.kind, status_push.target_status) == (
        PushKind.SHIPMENT,
        PushKind.STATUS,
        "SENT",
    )

    result = send(order)

    assert result.sent == [ship_push.pk, status_push.pk]
    [remote] = push_env.sandbox.shipments_of(order.external_id)
    assert (remote["carrierId"], remote["waybill"]) == ("INPOST", "620111222333")
    assert push_env.sandbox.fulfillment_of(order.external_id)["status"] == "SENT"
    with scopes_disabled():
        assert Shipment.objects.get(pk=shipment.pk).external_id == remote["id"]


def test_a_shipment_of_some_lines_sends_those_lines(tenant, admin_user, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1, lines=2)
    with scopes_disabled():
        first_line = order.lines.order_by("position").first().external_id
    with scope(tenant=tenant):
        add_shipment(
            fresh(order),
            carrier_id="OTHER",
            carrier_name="Kurier Zenek",
            waybill="ZEN-1",
            line_ids=[first_line],
            comment="",
            actor=admin_user,
            carriers=CARRIERS,
        )
    send(order)
    [remote] = push_env.sandbox.shipments_of(order.external_id)
    assert remote["lineItems"] == [{"id": first_line}]
    assert remote["carrierName"] == "Kurier Zenek"


def test_a_retried_shipment_post_after_a_timeout_does_not_create_a_second_one(
    tenant, admin_user, channel, push_env, settings
):
    [order] = import_orders(channel, push_env.sandbox, 1)
    with scope(tenant=tenant):
        add_shipment(
            fresh(order),
            carrier_id="DPD",
            carrier_name="",
            waybill="DPD000111",
            line_ids=None,
            comment="",
            actor=admin_user,
            carriers=CARRIERS,
        )
    # Allegro is slow: it stores the shipment, but our read timeout (1 s) gives up first.
    settings.ALLEGRO_READ_TIMEOUT = 1.0
    push_env.sandbox.set_faults(
        seller=push_env.seller,
        latency_ms=1500,
        path_prefix=f"/order/checkout-forms/{order.external_id}/shipments",
    )
    first = send(order)
    ship_push = pushes_of(order)[0]
    assert first.retry_in is not None and first.sent == []
    assert ship_push.state == PushState.PENDING
    # It did arrive (the sandbox finishes the request after our client gave up).
    wait_until(lambda: push_env.sandbox.shipments_of(order.external_id), 10, "shipment stored")

    push_env.sandbox.clear_faults()
    second = send(order)

    assert ship_push.pk in second.sent
    assert len(push_env.sandbox.shipments_of(order.external_id)) == 1
    # The retry looked (GET) instead of posting again.
    assert pushes_of(order)[0].requests == 2


def allegro_requests(sandbox) -> dict[str, int]:
    """Requests the sandbox served that touch one order (reads and writes)."""
    served = sandbox.stats()["requests"]
    names = ("fulfillment", "shipments_post", "shipments_get", "checkout_form")
    return {name: served.get(name, 0) for name in names}


def test_without_pass_shipment_info_a_shipment_tells_allegro_nothing(
    tenant, admin_user, channel, push_env
):
    with scopes_disabled():
        type(channel).objects.filter(pk=channel.pk).update(pass_shipment_info=False)
    shipped, by_hand = import_orders(channel, push_env.sandbox, 2)
    before = allegro_requests(push_env.sandbox)
    with scope(tenant=tenant):
        add_shipment(
            fresh(shipped),
            carrier_id="DPD",
            carrier_name="",
            waybill="DPD1",
            line_ids=None,
            comment="",
            actor=admin_user,
            carriers=CARRIERS,
        )
    # The order moves to "Wysłane" here, and nothing is queued for Allegro.
    current = fresh(shipped)
    assert (current.status.system_code, current.status.name) == (SystemStatus.SENT, "Wysłane")
    assert pushes_of(shipped) == []
    assert send(shipped).sent == []
    assert allegro_requests(push_env.sandbox) == before
    assert push_env.sandbox.shipments_of(shipped.external_id) == []
    fulfillment = push_env.sandbox.fulfillment_of(shipped.external_id)
    assert (fulfillment["status"], fulfillment["changes"]) == ("NEW", 0)

    # A status picked by hand still follows its mapping ("Wysłane" → SENT).
    with scope(tenant=tenant):
        change_order_status(by_hand, status_of(tenant, SystemStatus.SENT), admin_user)
    [push] = pushes_of(by_hand)
    assert (push.kind, push.target_status) == (PushKind.STATUS, "SENT")
    assert send(by_hand).sent == [push.pk]
    assert push_env.sandbox.fulfillment_of(by_hand.external_id)["status"] == "SENT"


def test_a_duplicate_shipment_is_refused(tenant, admin_user, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1)
    kwargs = dict(
        carrier_id="DPD",
        carrier_name="",
        waybill="DPD1",
        line_ids=None,
        comment="",
        actor=admin_user,
        carriers=CARRIERS,
    )
    with scope(tenant=tenant):
        add_shipment(fresh(order), **kwargs)
        with pytest.raises(ShipmentError) as info:
            add_shipment(fresh(order), **kwargs)
    assert info.value.field == "waybill"
    with scopes_disabled():
        assert Shipment.objects.filter(order_id=order.pk).count() == 1


def test_bulk_status_change_pushes_each_order(tenant, admin_user, channel, push_env):
    orders = import_orders(channel, push_env.sandbox, 3)
    bulk_change_status(
        tenant, [o.pk for o in orders], status_of(tenant, SystemStatus.READY_TO_SHIP), admin_user
    )
    for order in orders:
        assert [p.target_status for p in pushes_of(order)] == ["READY_FOR_SHIPMENT"]
        send(order)
        assert push_env.sandbox.fulfillment_of(order.external_id)["status"] == "READY_FOR_SHIPMENT"


def test_a_push_waits_while_the_channel_is_not_connected(tenant, admin_user, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1)
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.CANCELLED), admin_user)
    with scopes_disabled():
        type(channel).objects.filter(pk=channel.pk).update(connection_state="needs_reauth")
    result = send(order)
    [push] = pushes_of(order)
    assert (push.state, push.error_code, push.attempts) == (PushState.PENDING, "not_connected", 0)
    assert result.retry_in is not None
    assert push_env.sandbox.fulfillment_of(order.external_id)["changes"] == 0


def test_the_sweeper_finds_due_pushes_only(tenant, admin_user, channel, push_env, settings):
    [order] = import_orders(channel, push_env.sandbox, 1)
    settings.FULFILLMENT_REDISPATCH_AFTER_SECONDS = 0
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    assert sweep_due() == [(tenant.pk, order.pk)]
    send(order)
    assert sweep_due() == []
    with scopes_disabled():
        assert FulfillmentPush.objects.filter(state=PushState.PENDING).count() == 0


def test_a_form_read_before_our_push_does_not_undo_it(tenant, admin_user, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1)
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    # A poll or sweep already under way reads the form (still NEW) ...
    read_before = timezone.now()
    stale = push_env.sandbox.order(order.external_id)["checkoutForm"]
    assert stale["fulfillment"]["status"] == "NEW"
    # ... our push goes out and is recorded ...
    send(order)
    # ... and only then does that poll store what it read.
    with scope(tenant=tenant):
        upsert_orders_from_checkout_forms(channel, [stale], fetched_at=read_before)

    stored = fresh(order)
    assert stored.fulfillment_status == "PROCESSING"
    assert stored.raw_form["fulfillment"]["status"] == "PROCESSING"
    with scopes_disabled():
        kinds = list(OrderEvent.objects.filter(order_id=order.pk).values_list("kind", flat=True))
    assert OrderEventKind.FULFILLMENT_CHANGED not in kinds
    # The journal's re-read of our own change then finds nothing new (no echo).
    current = push_env.sandbox.order(order.external_id)["checkoutForm"]
    with scope(tenant=tenant):
        outcome = upsert_order_from_checkout_form(channel, current, fetched_at=timezone.now())
    assert outcome.outcome == Outcome.UNCHANGED


def test_a_form_read_after_our_push_is_allegros_word(tenant, admin_user, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1)
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    send(order)
    # The seller then changes it in Allegro's own panel; the next read brings that in.
    form = push_env.sandbox.order(order.external_id)["checkoutForm"]
    form["fulfillment"]["status"] = "READY_FOR_SHIPMENT"
    with scope(tenant=tenant):
        upsert_orders_from_checkout_forms(channel, [form], fetched_at=timezone.now())

    assert fresh(order).fulfillment_status == "READY_FOR_SHIPMENT"
