"""Administracja → Statusy zamówień offers only the actions the rules allow: a built-in status
shows why it is locked instead of buttons that would refuse; a status orders still have can be
deactivated (the page says what happens to them) but not deleted."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from orders.changes import change_order_status
from orders.ingest import upsert_order_from_checkout_form
from orders.models import Order
from orders.statuses import create_status
from tests.factories import in_scope
from tests.support.channels import channel_of
from tests.support.orders import checkout_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_reset():
    """A Polish request leaves Polish active in this thread: later tests expect the default."""
    yield
    translation.deactivate()


def actions_of(html: str, status) -> tuple[list[str], list[str]]:
    """(the buttons, the notes) in the actions cell of `status`'s row."""
    [row] = re.findall(rf'<tr data-status-id="{status.pk}">(.*?)</tr>', html, flags=re.S)
    cell = row.rsplit("<td>", 1)[1]
    buttons = [
        re.sub(r"\s+", " ", text).strip()
        for text in re.findall(r"<(?:button|a)[^>]*>([^<]*)</(?:button|a)>", cell)
    ]
    notes = [
        re.sub(r"\s+", " ", text).strip()
        for text in re.findall(r'<span class="muted small"[^>]*>([^<]*)</span>', cell)
    ]
    return buttons, notes


def page(client, tenant, language="en") -> str:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    response = client.get(reverse("administration:statuses:list", args=[tenant.slug]))
    assert response.status_code == 200
    return response.content.decode()


def give_orders(tenant, status, how_many: int, user) -> None:
    channel = channel_of(tenant)
    for _ in range(how_many):
        form = checkout_form()
        upsert_order_from_checkout_form(channel, form)
        with in_scope(tenant):
            change_order_status(Order.objects.get(external_id=form["id"]), status, user)


@pytest.fixture
def custom(tenant):
    with in_scope(tenant):
        return create_status(tenant, name="Reklamacja", colour="#0ea5e9", group="other")


def test_a_built_in_status_says_why_it_is_locked_instead_of_offering_refusals(
    administrator_client, tenant
):
    with in_scope(tenant):
        from orders.models import OrderStatus

        cancelled = OrderStatus.objects.get(system_code="cancelled")
    assert actions_of(page(administrator_client, tenant), cancelled) == (
        ["Edit"],
        ["Built-in: the order import needs it, so it stays active and cannot be deleted."],
    )
    assert actions_of(page(administrator_client, tenant, "pl"), cancelled) == (
        ["Edytuj"],
        ["Wbudowany: potrzebny do importu zamówień, dlatego zawsze jest aktywny i nie można go "
         "usunąć."],
    )  # fmt: skip


def test_a_status_without_orders_can_be_deactivated_or_deleted(
    administrator_client, tenant, custom
):
    assert actions_of(page(administrator_client, tenant), custom) == (
        ["Edit", "Deactivate", "Delete"],
        [],
    )


def test_a_status_with_orders_offers_one_deactivate_and_says_what_happens_to_them(
    administrator_client, tenant, custom, admin_user
):
    give_orders(tenant, custom, 2, admin_user)
    assert actions_of(page(administrator_client, tenant), custom) == (
        ["Edit", "Deactivate"],
        ["2 orders have this status and keep it when you deactivate the status; it cannot be "
         "deleted while orders have it."],
    )  # fmt: skip
    assert actions_of(page(administrator_client, tenant, "pl"), custom) == (
        ["Edytuj", "Dezaktywuj"],
        ["2 zamówienia mają ten status i zachowają go po dezaktywacji; statusu nie można usunąć, "
         "dopóki mają go zamówienia."],
    )  # fmt: skip


def test_an_inactive_status_with_one_order_offers_activate(
    administrator_client, tenant, custom, admin_user
):
    give_orders(tenant, custom, 1, admin_user)
    with in_scope(tenant):
        from orders.statuses import set_status_active

        set_status_active(custom, False)
    assert actions_of(page(administrator_client, tenant, "pl"), custom) == (
        ["Edytuj", "Aktywuj"],
        ["1 zamówienie ma ten status i zachowa go po dezaktywacji; statusu nie można usunąć, "
         "dopóki mają go zamówienia."],
    )  # fmt: skip
