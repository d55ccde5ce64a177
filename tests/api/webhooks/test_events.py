"""Each change writes its event once per subscription, in the change's transaction: a new
order, a status change, Allegro's cancellation, a shipment; never again for a re-import of the
same checkout form, never for another company's subscription."""

from __future__ import annotations

import json

import pytest
from django_scopes import scope

from api.models_webhooks import EventType
from catalog.models import Product, StockReason
from catalog.services.stock import change_stock
from fulfillment.services.shipments import add_shipment
from orders.changes import change_order_status
from orders.ingest import upsert_order_from_checkout_form
from orders.models import Order
from tests.api.webhooks.helpers import deliveries_of, subscribe
from tests.support.channels import channel_of
from tests.support.orders import checkout_form, status_of

pytestmark = pytest.mark.django_db(transaction=True)

URL = "http://127.0.0.1:9/hooks"


def kinds(subscription) -> list[str]:
    return [d.event_type for d in deliveries_of(subscription)]


def test_every_event_is_written_once_per_change(tenant, other_tenant, staff_user):
    everything, _ = subscribe(tenant, URL, EventType.values)
    statuses_only, _ = subscribe(tenant, URL + "/s", ["order.status_changed"])
    theirs, _ = subscribe(other_tenant, URL, EventType.values)
    channel = channel_of(tenant)
    form = checkout_form()

    upsert_order_from_checkout_form(channel, form)
    upsert_order_from_checkout_form(channel, form)  # the same form again: nothing changed
    upsert_order_from_checkout_form(channel, dict(form, revision="r2"))  # a new revision only
    assert kinds(everything) == ["order.created"]
    with scope(tenant=tenant):
        order = Order.objects.select_related("status").get(external_id=form["id"])

    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, "in_progress"), staff_user)
        change_order_status(order, status_of(tenant, "in_progress"), staff_user)  # no change
    assert kinds(everything) == ["order.created", "order.status_changed"]

    cancelled = dict(form, status="CANCELLED", revision="r3")
    upsert_order_from_checkout_form(channel, cancelled)
    upsert_order_from_checkout_form(channel, cancelled)
    assert kinds(everything) == [
        "order.created",
        "order.status_changed",
        "order.status_changed",
        "order.cancelled",
    ]
    assert kinds(statuses_only) == ["order.status_changed", "order.status_changed"]
    assert deliveries_of(theirs) == []

    _created, by_staff, by_allegro, cancel = deliveries_of(everything)
    staff_body = json.loads(by_staff.body)["data"]
    assert staff_body["source"] == "staff"
    assert staff_body["previous_status"]["id"] == status_of(tenant, "new").pk
    assert staff_body["order"]["status"]["id"] == status_of(tenant, "in_progress").pk
    allegro_body = json.loads(by_allegro.body)["data"]
    assert allegro_body["source"] == "allegro"
    assert allegro_body["order"]["status"]["id"] == status_of(tenant, "cancelled").pk
    assert json.loads(cancel.body)["data"]["order"]["allegro_status"] == "CANCELLED"
    # One event, one id: the same change to two subscriptions shares its id and body.
    assert by_allegro.event_id == deliveries_of(statuses_only)[1].event_id
    assert by_allegro.body == deliveries_of(statuses_only)[1].body
    assert len({d.event_id for d in deliveries_of(everything)}) == 4

    with scope(tenant=tenant):
        shipment = add_shipment(
            order,
            carrier_id="DPD",
            carrier_name="",
            waybill="DPD4242",
            line_ids=None,
            comment="",
            actor=staff_user,
            carriers=["DPD"],
        )
    # The shipment moved the order on too (its status change is an event of its own).
    assert kinds(everything)[4:] == ["shipment.created", "order.status_changed"]
    body = json.loads(deliveries_of(everything)[4].body)["data"]
    assert body["shipment"]["id"] == shipment.pk
    assert body["shipment"]["waybill"] == "DPD4242"
    assert body["order"]["shipments"][0]["waybill"] == "DPD4242"


def test_a_new_order_imported_cancelled_is_created_not_cancelled(tenant):
    everything, _ = subscribe(tenant, URL, EventType.values)
    upsert_order_from_checkout_form(channel_of(tenant), checkout_form(status="CANCELLED"))
    assert kinds(everything) == ["order.created"]


def test_a_turned_off_subscription_gets_no_events(tenant):
    from api.webhooks import subscriptions

    subscription, _ = subscribe(tenant, URL, ["order.created"])
    with scope(tenant=tenant):
        assert subscriptions.disable(subscription) is True
    upsert_order_from_checkout_form(channel_of(tenant), checkout_form())
    assert deliveries_of(subscription) == []


def test_a_stock_change_is_one_event_and_a_repeated_sale_none(tenant, other_tenant, staff_user):
    everything, _ = subscribe(tenant, URL, EventType.values)
    theirs, _ = subscribe(other_tenant, URL, EventType.values)
    with scope(tenant=tenant):
        product = Product.objects.create(tenant=tenant, name="Kubek", sku="KUB-1")
        change = change_stock(product, new_stock=5, reason=StockReason.MANUAL, actor=staff_user)
        change_stock(product, delta=-2, reason=StockReason.SOLD, dedupe_key="sold:1:1")
        # The same sale told again (a re-import): no change, no event.
        assert (
            change_stock(product, delta=-2, reason=StockReason.SOLD, dedupe_key="sold:1:1") is None
        )
    assert kinds(everything) == ["stock.changed", "stock.changed"]
    assert deliveries_of(theirs) == []
    first = json.loads(deliveries_of(everything)[0].body)["data"]
    assert first["product"] == {
        "id": product.pk,
        "name": "Kubek",
        "sku": "KUB-1",
        "ean": "",
        "stock": 5,
    }
    assert (first["change"]["id"], first["change"]["reason"], first["change"]["delta"]) == (
        change.pk,
        "manual",
        5,
    )
    second = json.loads(deliveries_of(everything)[1].body)["data"]
    assert (second["product"]["stock"], second["change"]["stock_after"]) == (3, 3)
