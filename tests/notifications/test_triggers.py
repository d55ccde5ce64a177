"""What sends a template: an imported order, a status entered, a shipment added; each event
once, backfilled orders never; every mail is on the order's timeline."""

from __future__ import annotations

import pytest
from django_scopes import scope

from fulfillment.services.shipments import add_shipment
from orders.changes import change_order_status
from orders.models import OrderEventKind
from tests.notifications.template_helpers import import_form, mails, timeline_kinds
from tests.support.notifications import template_of
from tests.support.orders import status_of

pytestmark = pytest.mark.django_db


def test_an_imported_order_mails_once_however_often_it_is_imported_again(
    tenant, shop, template_set
):
    from orders.ingest import upsert_order_from_checkout_form
    from tests.support.orders import checkout_form

    template = template_of(tenant, template_set)
    form = checkout_form()
    form["buyer"]["email"] = "anna@example.com"
    with scope(tenant=tenant):
        first = upsert_order_from_checkout_form(shop, form)
        form["note"] = {"text": "changed"}  # an updated form: not a new order
        upsert_order_from_checkout_form(shop, form)
        upsert_order_from_checkout_form(shop, form)
    rows = mails(order_id=first.order_id)
    assert [(m.dedupe_key, m.to_address) for m in rows] == [
        (f"template:{template.pk}:order:{first.order_id}:imported", "anna@example.com")
    ]


def test_a_backfilled_order_mails_nobody(tenant, shop, template_set):
    template_of(tenant, template_set)
    with scope(tenant=tenant):
        type(shop).objects.filter(pk=shop.pk).update(seller_notification_email="szef@alfa.example")
        shop.refresh_from_db()
    order = import_form(shop, backfill=True)
    assert mails(order_id=order.pk) == []


def test_entering_the_status_mails_and_entering_it_again_mails_again(
    tenant, admin_user, shop, template_set
):
    sent = status_of(tenant, "sent")
    template = template_of(
        tenant,
        template_set,
        trigger="status_entered",
        status=sent,
        subject="{order.number}: {order.status}",
    )
    order = import_form(shop)
    assert mails(order_id=order.pk) == []  # the template waits for "sent"
    with scope(tenant=tenant):
        change_order_status(order, sent, admin_user)
        change_order_status(order, status_of(tenant, "in_progress"), admin_user)
        change_order_status(order, sent, admin_user)
    rows = mails(order_id=order.pk)
    assert [m.subject for m in rows] == [f"{order.number}: Wysłane"] * 2
    assert len({m.dedupe_key for m in rows}) == 2
    assert all(
        m.dedupe_key.startswith(f"template:{template.pk}:order:{order.pk}:status:") for m in rows
    )
    assert timeline_kinds(order).count(OrderEventKind.MAIL) == 2


def test_a_shipment_mails_its_tracking_link(tenant, admin_user, shop, template_set):
    template_of(
        tenant,
        template_set,
        trigger="shipment_added",
        body_text="{shipment.carrier} {shipment.waybill}: {shipment.tracking_url}",
        body_html='<a href="{shipment.tracking_url}">{shipment.waybill}</a>',
    )
    order = import_form(shop)
    with scope(tenant=tenant):
        add_shipment(
            order,
            carrier_id="INPOST",
            carrier_name="",
            waybill="620123456789",
            line_ids=None,
            comment="",
            actor=admin_user,
            carriers=["INPOST"],
        )
    [row] = mails(order_id=order.pk)
    assert row.text.endswith(
        "620123456789: https://inpost.pl/sledzenie-przesylek?number=620123456789"
    )
    assert row.html == (
        '<a href="https://inpost.pl/sledzenie-przesylek?number=620123456789">620123456789</a>'
    )


def test_a_channel_without_a_set_sends_no_customer_mail(tenant, shop, template_set):
    template_of(tenant, template_set)
    with scope(tenant=tenant):
        type(shop).objects.filter(pk=shop.pk).update(template_set=None)
        shop.refresh_from_db()
    order = import_form(shop)
    assert mails(order_id=order.pk) == []


def test_a_buyer_name_with_markup_is_text_in_the_html_body(tenant, shop, template_set):
    from tests.support.orders import checkout_form

    template_of(tenant, template_set, body_html="<p>Dzień dobry {buyer.name}</p>")
    buyer = checkout_form()["buyer"] | {
        "firstName": "<img src=x onerror=alert(1)>",
        "email": "a@example.com",
    }
    order = import_form(shop, buyer=buyer)
    [row] = mails(order_id=order.pk)
    assert row.html == "<p>Dzień dobry &lt;img src=x onerror=alert(1)&gt; Kowalski</p>"
