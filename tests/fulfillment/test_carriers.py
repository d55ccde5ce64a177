"""The shipment form proposes the carrier of the order's delivery method, matched by name
against Allegro's carriers list (no call of its own), and nothing when no carrier is named."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from channels.services.api import call
from fulfillment.services.carriers import KNOWN, carrier_for_delivery, carriers_for
from orders.ingest import upsert_order_from_checkout_form
from orders.models import Order
from tests.fulfillment.helpers import SELLER

pytestmark = pytest.mark.django_db(transaction=True)

# /order/carriers as the sandbox answers it (Allegro's own ids and names).
LISTED = [
    ("ALLEGRO", "Allegro One Kurier"),
    ("INPOST", "InPost"),
    ("DPD", "DPD"),
    ("DHL", "DHL"),
    ("UPS", "UPS"),
    ("GLS", "GLS"),
    ("POCZTA_POLSKA", "Poczta Polska"),
    ("ORLEN", "ORLEN Paczka"),
    ("FEDEX", "FedEx"),
    ("OTHER", "Other carrier (enter its name)"),
]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("Allegro Kurier InPost", "INPOST"),
        ("Allegro Paczkomaty InPost", "INPOST"),
        ("Allegro MiniKurier24 InPost pobranie", "INPOST"),
        ("Allegro Kurier DPD pobranie", "DPD"),
        ("Allegro Kurier DHL", "DHL"),
        ("Allegro One Box, One Kurier", "ALLEGRO"),
        ("Allegro One Punkt", "ALLEGRO"),
        ("Allegro Pocztex Kurier 48", "POCZTA_POLSKA"),
        ("Allegro Automat ORLEN Paczka", "ORLEN"),
        ("Kurier GLS", "GLS"),
        ("Odbiór osobisty", None),
        ("Allegro Przesyłka polecona", None),
        ("Kurier DPD lub InPost", None),  # two carriers named: no guess
        ("Allegro", None),
        ("", None),
    ],
)
def test_the_delivery_method_names_its_carrier(method, expected):
    assert carrier_for_delivery(method, LISTED) == expected


def test_only_carriers_on_the_list_are_proposed():
    # The fallback list (Allegro could not be asked) has no "Allegro One Kurier" name.
    assert carrier_for_delivery("Allegro Automat ORLEN Paczka", list(KNOWN)) is None
    assert carrier_for_delivery("Allegro Kurier InPost", [("DPD", "DPD")]) is None


def _import_with_method(channel, sandbox, name: str) -> Order:
    [external_id] = sandbox.create_orders(SELLER, 1)
    with scope(tenant=channel.tenant):
        form = call(channel, "GET", f"/order/checkout-forms/{external_id}").data
        form["delivery"]["method"]["name"] = name
        result = upsert_order_from_checkout_form(channel, form)
    with scopes_disabled():
        return Order.objects.get(pk=result.order_id)


def _selected_carrier(html: str) -> list[str]:
    start = html.index('name="carrier_id"')
    select = html[start : html.index("</select>", start)]
    return [part.split('"')[1] for part in select.split("<option")[1:] if "selected" in part]


def test_the_form_proposes_each_orders_carrier_without_calling_allegro(
    admin_user, channel, push_env
):
    inpost = _import_with_method(channel, push_env.sandbox, "Allegro Kurier InPost")
    dpd = _import_with_method(channel, push_env.sandbox, "Allegro Kurier DPD")
    pickup = _import_with_method(channel, push_env.sandbox, "Odbiór osobisty")
    with scope(tenant=channel.tenant):
        carriers_for(channel)  # the carriers list is cached, as after the first page
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(admin_user)
    served = sum(push_env.sandbox.stats()["requests"].values())

    def page(order: Order, name: str) -> str:
        url = reverse(name, kwargs={"tenant_slug": "alfa", "order_id": order.pk})
        response = web.get(url)
        assert response.status_code == 200
        return response.content.decode()

    assert _selected_carrier(page(inpost, "fulfillment:add_shipment")) == ["INPOST"]
    assert _selected_carrier(page(dpd, "fulfillment:add_shipment")) == ["DPD"]
    assert _selected_carrier(page(pickup, "fulfillment:add_shipment")) == [""]
    assert _selected_carrier(page(inpost, "orders:detail")) == ["INPOST"]
    assert sum(push_env.sandbox.stats()["requests"].values()) == served


def test_a_shipment_without_a_chosen_carrier_is_refused(admin_user, channel, push_env):
    order = _import_with_method(channel, push_env.sandbox, "Odbiór osobisty")
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(admin_user)
    url = reverse("fulfillment:add_shipment", kwargs={"tenant_slug": "alfa", "order_id": order.pk})
    response = web.post(url, {"carrier_id": "", "waybill": "620111222333"})
    assert response.status_code == 400
    assert response.context["form"].errors["carrier_id"] == ["Choose a carrier from the list."]
    with scopes_disabled():
        assert order.shipments.count() == 0
