"""The fulfillment pages: Powiązania statusów, pending and failed pushes with Retry, the order's
"Dodaj przesyłkę" form and timeline."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from fulfillment.models import FulfillmentPush, PushState, Shipment, StatusMapping
from fulfillment.services.push import process_order
from orders.changes import change_order_status
from orders.models import Order, SystemStatus
from tests.fulfillment.helpers import pushes_of
from tests.support.orders import import_orders, status_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def web(admin_user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


def settings_url(channel) -> str:
    return reverse(
        "administration:fulfillment:settings",
        kwargs={"tenant_slug": channel.tenant.slug, "channel_id": channel.pk},
    )


def pushes_url(channel) -> str:
    return reverse(
        "administration:fulfillment:pushes",
        kwargs={"tenant_slug": channel.tenant.slug, "channel_id": channel.pk},
    )


def order_url(order) -> str:
    return reverse("orders:detail", kwargs={"tenant_slug": "alfa", "order_id": order.pk})


def send(order):
    with scope(tenant=order.tenant):
        return process_order(order.tenant_id, order.pk)


def test_the_mapping_page_shows_the_defaults_and_no_returned(web, channel, tenant):
    page = web.get(settings_url(channel)).content.decode()
    in_progress = status_of(tenant, SystemStatus.IN_PROGRESS)
    form = web.get(settings_url(channel)).context["form"]
    assert form[f"status_{in_progress.pk}"].initial == "PROCESSING"
    assert form[f"status_{status_of(tenant, SystemStatus.READY_TO_SHIP).pk}"].initial == (
        "READY_FOR_SHIPMENT"
    )
    assert form[f"status_{status_of(tenant, SystemStatus.SENT).pk}"].initial == "SENT"
    assert form[f"status_{status_of(tenant, SystemStatus.CANCELLED).pk}"].initial == "CANCELLED"
    assert form[f"status_{status_of(tenant, SystemStatus.NEW).pk}"].initial == ""
    assert 'value="RETURNED"' not in page
    assert (
        "Buyers can cancel an order on Allegro only while its fulfillment status is “New”" in page
    )
    assert form["shipment_status"].initial == status_of(tenant, SystemStatus.SENT).pk


@pytest.mark.parametrize("passes", [True, False])
def test_the_mapping_page_says_what_a_shipment_tells_allegro(web, admin_user, channel, passes):
    with scopes_disabled():
        type(channel).objects.filter(pk=channel.pk).update(pass_shipment_info=passes)
    page = web.get(settings_url(channel)).content.decode()
    on = "This channel passes shipment information to Allegro: when a shipment is added"
    off = (
        "This channel does not pass shipment information to Allegro: when a shipment is added, "
        "Allegro is told nothing"
    )
    assert (on in page, off in page) == (passes, not passes)
    assert "Changes that come from Allegro itself are never sent back" in page
    polish = Client(HTTP_ACCEPT_LANGUAGE="pl")
    polish.force_login(admin_user)
    page_pl = polish.get(settings_url(channel)).content.decode()
    expected = (
        "Ten kanał przekazuje Allegro informacje o przesyłkach"
        if passes
        else "Ten kanał nie przekazuje Allegro informacji o przesyłkach"
    )
    assert expected in page_pl


def test_saving_the_mapping_stores_every_status(web, channel, tenant):
    form = web.get(settings_url(channel)).context["form"]
    data = {name: field.initial or "" for name, field in form.fields.items()}
    new = status_of(tenant, SystemStatus.NEW)
    data[f"status_{new.pk}"] = "PROCESSING"
    data["shipment_status"] = ""
    data["import_status"] = status_of(tenant, SystemStatus.IN_PROGRESS).pk
    response = web.post(settings_url(channel), data)
    assert response.status_code == 302
    with scopes_disabled():
        rows = dict(
            StatusMapping.objects.filter(channel=channel).values_list(
                "status__system_code", "fulfillment_status"
            )
        )
        channel.refresh_from_db()
    assert rows["new"] == "PROCESSING" and rows["in_progress"] == "PROCESSING"
    assert rows["returned"] == ""
    assert channel.import_status_id == status_of(tenant, SystemStatus.IN_PROGRESS).pk
    page = web.get(settings_url(channel))
    assert page.context["form"]["shipment_status"].initial is None


def test_returned_cannot_be_chosen(web, channel, tenant):
    form = web.get(settings_url(channel)).context["form"]
    data = {name: field.initial or "" for name, field in form.fields.items()}
    data[f"status_{status_of(tenant, SystemStatus.RETURNED).pk}"] = "RETURNED"
    response = web.post(settings_url(channel), data)
    assert response.status_code == 400
    with scopes_disabled():
        assert StatusMapping.objects.count() == 0


def test_a_permanent_422_shows_on_the_order_and_the_channel_and_retry_sends_again(
    web, tenant, admin_user, channel, push_env
):
    [order] = import_orders(channel, push_env.sandbox, 1)
    push_env.sandbox.set_faults(
        seller=push_env.seller,
        error_5xx=1.0,
        error_status=422,
        path_prefix=f"/order/checkout-forms/{order.external_id}/fulfillment",
    )
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    send(order)
    [push] = pushes_of(order)
    assert push.state == PushState.FAILED

    detail = web.get(order_url(order)).content.decode()
    assert (
        "Could not pass on to Allegro: fulfillment status “Processing”. Allegro refused the change."
        in detail
    )
    assert 'data-field="push-reason">Allegro refused the change.' in detail
    # The order stays workable: its status can still be changed.
    assert "Change status" in detail
    channel_page = web.get(
        reverse(
            "administration:channels:detail",
            kwargs={"tenant_slug": "alfa", "channel_id": channel.pk},
        )
    ).content.decode()
    assert "1 failed" in channel_page
    listing = web.get(pushes_url(channel))
    assert listing.context["failed"] == [push]
    assert "Allegro refused the change." in listing.content.decode()

    push_env.sandbox.clear_faults()
    retry = reverse(
        "administration:fulfillment:retry", kwargs={"tenant_slug": "alfa", "push_id": push.pk}
    )
    assert web.post(retry).status_code == 302
    assert pushes_of(order)[0].state == PushState.PENDING
    send(order)
    assert pushes_of(order)[0].state == PushState.SENT
    assert push_env.sandbox.fulfillment_of(order.external_id)["status"] == "PROCESSING"


def test_adding_a_shipment_through_the_form(web, tenant, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1)
    detail = web.get(order_url(order))
    form = detail.context["form"] if "form" in (detail.context or {}) else None
    page = detail.content.decode()
    # The comment is prefilled from the channel's default, order variables filled in.
    assert f"Paczka do {order.number}: {{shipment.waybill}}" in page
    assert "{shipment.waybill}</code>" in page  # the catalogue next to the field
    assert form is None or form  # (rendered by the inclusion tag)
    url = reverse("fulfillment:add_shipment", kwargs={"tenant_slug": "alfa", "order_id": order.pk})
    with scopes_disabled():
        line_ids = list(order.lines.values_list("external_id", flat=True))
    response = web.post(
        url,
        {
            "carrier_id": "INPOST",
            "waybill": "620999888777",
            "line_ids": line_ids,
            "comment": f"Paczka do {order.number}: {{shipment.waybill}}",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        shipment = Shipment.objects.get(order_id=order.pk)
        assert Order.objects.get(pk=order.pk).status.system_code == SystemStatus.SENT
    assert shipment.comment == f"Paczka do {order.number}: 620999888777"
    assert (shipment.carrier_id, shipment.carrier_name, shipment.line_ids) == (
        "INPOST",
        "InPost",
        [],
    )
    send(order)
    assert [s["waybill"] for s in push_env.sandbox.shipments_of(order.external_id)] == [
        "620999888777"
    ]
    timeline = web.get(order_url(order)).content.decode()
    assert "Shipment added: InPost, tracking number 620999888777." in timeline
    assert "Passed on to Allegro: shipment 620999888777." in timeline
    assert "Passed on to Allegro: fulfillment status “Sent”." in timeline


def test_the_shipment_form_explains_what_is_wrong(web, channel, push_env):
    [order] = import_orders(channel, push_env.sandbox, 1)
    url = reverse("fulfillment:add_shipment", kwargs={"tenant_slug": "alfa", "order_id": order.pk})
    response = web.post(
        url, {"carrier_id": "OTHER", "waybill": "ab cd", "comment": "{order.__class__}"}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["carrier_name"] == ["Enter the carrier's name."]
    assert errors["comment"][0].startswith("“{order.__class__}” reaches into a variable.")
    with scopes_disabled():
        assert Shipment.objects.count() == 0 and FulfillmentPush.objects.count() == 0


def test_a_member_retries_a_push_from_the_order(tenant, staff_user, channel, push_env, admin_user):
    [order] = import_orders(channel, push_env.sandbox, 1)
    with scope(tenant=tenant):
        change_order_status(order, status_of(tenant, SystemStatus.IN_PROGRESS), admin_user)
    [push] = pushes_of(order)
    with scopes_disabled():
        FulfillmentPush.objects.filter(pk=push.pk).update(
            state=PushState.FAILED, error_code="refused"
        )
    client = Client()
    client.force_login(staff_user)
    url = reverse("fulfillment:retry_push", kwargs={"tenant_slug": "alfa", "push_id": push.pk})
    assert client.post(url).status_code == 302
    assert pushes_of(order)[0].state == PushState.PENDING


def test_another_tenants_push_answers_404(web, other_tenant, other_admin):
    from tests.support.fulfillment import push_of

    foreign = push_of(other_tenant)
    url = reverse("fulfillment:retry_push", kwargs={"tenant_slug": "alfa", "push_id": foreign.pk})
    assert web.post(url).status_code == 404
    admin_url = reverse(
        "administration:fulfillment:retry", kwargs={"tenant_slug": "alfa", "push_id": foreign.pk}
    )
    assert web.post(admin_url).status_code == 404
    with scopes_disabled():
        assert FulfillmentPush.objects.get(pk=foreign.pk).state == PushState.FAILED
