"""Checkout form → order: idempotent upsert, defensive import, order states in, merges."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.changes import change_order_status
from orders.ingest import (
    Outcome,
    mark_order_merged,
    upsert_order_from_checkout_form,
    upsert_orders_from_checkout_forms,
)
from orders.models import Order
from tests.factories import in_scope
from tests.orders_domain.helpers import (
    assert_status_counts_exact,
    counts,
    kinds,
    lines_of,
    order_by_external,
    timeline,
)
from tests.support.orders import checkout_form, status_of

pytestmark = pytest.mark.django_db


def _period() -> str:
    return timezone.localtime(timezone.now()).strftime("%y%m")


def test_a_paid_form_becomes_a_new_order_with_every_field(tenant, channel, form):
    result = upsert_order_from_checkout_form(channel, form)
    assert result.outcome == Outcome.CREATED
    assert result.number == f"AL{_period()}000001"
    assert result.warnings == ()
    order = order_by_external(tenant, form["id"])
    assert result.order_id == order.pk
    assert order.number == f"AL{_period()}000001"
    assert order.status == status_of(tenant, "new")
    assert (order.allegro_status, order.fulfillment_status) == ("READY_FOR_PROCESSING", "NEW")
    assert order.channel_id == channel.pk
    assert (order.buyer_login, order.buyer_email) == ("User_Login", "user-email@allegro.pl")
    assert (order.total_to_pay, order.currency, order.payment_status) == (
        Decimal("123.45"),
        "PLN",
        "paid",
    )
    assert order.delivery_method_name == "Allegro Paczkomaty InPost"
    assert order.pickup_point_id == "POZ08A"
    assert (order.invoice_required, order.invoice_tax_id) == (True, "111-11-11-111")
    assert order.bought_at == dt.datetime(2018, 1, 1, 10, 23, 43, 123000, tzinfo=dt.UTC)
    assert order.raw_form == form
    assert order.parse_warnings == []
    assert order.needs_attention is False
    assert lines_of(order) == [
        (form["lineItems"][0]["id"], "3213213", "AH-129834", 1, Decimal("123.45"))
    ]
    assert timeline(order) == [
        (
            "imported",
            f"Imported from Allegro as AL{_period()}000001 (Allegro status Ready for processing).",
            None,
        )
    ]
    assert "user_login" in order.search_text and order.number.lower() in order.search_text


def test_the_same_form_twice_is_one_order_and_the_second_time_writes_nothing(tenant, channel, form):
    first = upsert_order_from_checkout_form(channel, form)
    order = order_by_external(tenant, form["id"])
    before = counts(tenant)
    second = upsert_order_from_checkout_form(channel, copy.deepcopy(form))
    assert second.outcome == Outcome.UNCHANGED
    assert (second.order_id, second.number) == (first.order_id, first.number)
    assert counts(tenant) == before == (1, 1, 1)
    assert order_by_external(tenant, form["id"]).updated_at == order.updated_at


def test_a_changed_form_updates_the_order_and_its_lines_without_duplicates(tenant, channel, form):
    upsert_order_from_checkout_form(channel, form)
    changed = copy.deepcopy(form)
    changed["buyer"]["login"] = "Nowy_Login"
    changed["lineItems"][0]["quantity"] = 3
    second_line = copy.deepcopy(changed["lineItems"][0])
    second_line["id"] = str(uuid.uuid4())
    second_line["offer"]["id"] = "999"
    changed["lineItems"].append(second_line)
    result = upsert_order_from_checkout_form(channel, changed)
    assert result.outcome == Outcome.UPDATED
    order = order_by_external(tenant, form["id"])
    assert order.buyer_login == "Nowy_Login"
    assert order.number == f"AL{_period()}000001"
    assert lines_of(order) == [
        (form["lineItems"][0]["id"], "3213213", "AH-129834", 3, Decimal("123.45")),
        (second_line["id"], "999", "AH-129834", 3, Decimal("123.45")),
    ]
    assert kinds(order) == ["imported", "updated"]
    # The line removed from the form goes away; no duplicates on a third pass.
    upsert_order_from_checkout_form(channel, form)
    assert lines_of(order) == [
        (form["lineItems"][0]["id"], "3213213", "AH-129834", 1, Decimal("123.45"))
    ]
    assert counts(tenant)[:2] == (1, 1)


def test_same_form_id_in_two_channels_is_two_orders(tenant, channel, form):
    from tests.support.channels import channel_of

    second = channel_of(tenant, "XY", "Drugie konto")
    a = upsert_order_from_checkout_form(channel, form)
    b = upsert_order_from_checkout_form(second, form)
    assert a.order_id != b.order_id
    assert (a.number, b.number) == (f"AL{_period()}000001", f"XY{_period()}000001")


# --- Order states in ----------------------------------------------------------------------------


@pytest.mark.parametrize("allegro_status", ["BOUGHT", "FILLED_IN"])
def test_unpaid_forms_land_in_unconfirmed(tenant, channel, allegro_status):
    form = checkout_form(status=allegro_status)
    upsert_order_from_checkout_form(channel, form)
    assert order_by_external(tenant, form["id"]).status == status_of(tenant, "unconfirmed")


def test_ready_for_processing_moves_unconfirmed_to_the_import_status(tenant, channel):
    form = checkout_form(status="FILLED_IN")
    upsert_order_from_checkout_form(channel, form)
    paid = dict(form, status="READY_FOR_PROCESSING")
    assert upsert_order_from_checkout_form(channel, paid).outcome == Outcome.UPDATED
    order = order_by_external(tenant, form["id"])
    assert order.status == status_of(tenant, "new")
    assert timeline(order)[1:] == [
        (
            "allegro_status_changed",
            "Allegro status changed: Awaiting payment → Ready for processing",
            None,
        ),
        ("status_changed", "Status: Niepotwierdzone → Nowe", None),
    ]
    assert assert_status_counts_exact(tenant) == {"Nowe": 1}


def test_staff_already_moved_it_on_so_payment_keeps_their_status(tenant, channel, staff_user):
    form = checkout_form(status="FILLED_IN")
    upsert_order_from_checkout_form(channel, form)
    order = order_by_external(tenant, form["id"])
    in_progress = status_of(tenant, "in_progress")
    with in_scope(tenant):
        change_order_status(order, in_progress, staff_user)
    upsert_order_from_checkout_form(channel, dict(form, status="READY_FOR_PROCESSING"))
    order = order_by_external(tenant, form["id"])
    assert order.status == in_progress
    assert kinds(order) == ["imported", "status_changed", "allegro_status_changed"]


def test_repeated_ready_for_processing_is_harmless(tenant, channel, staff_user, form):
    upsert_order_from_checkout_form(channel, form)
    order = order_by_external(tenant, form["id"])
    with in_scope(tenant):
        change_order_status(order, status_of(tenant, "ready_to_ship"), staff_user)
    again = copy.deepcopy(form)
    again["revision"] = "aaaa0001"  # a second RFP (e.g. a surcharge paid)
    assert upsert_order_from_checkout_form(channel, again).outcome == Outcome.UPDATED
    order = order_by_external(tenant, form["id"])
    assert order.status == status_of(tenant, "ready_to_ship")
    assert kinds(order) == ["imported", "status_changed", "updated"]


def test_cancelled_by_the_buyer_moves_the_order_to_cancelled(tenant, channel, form):
    upsert_order_from_checkout_form(channel, form)
    upsert_order_from_checkout_form(channel, dict(form, status="CANCELLED"))
    order = order_by_external(tenant, form["id"])
    assert order.status == status_of(tenant, "cancelled")
    assert order.needs_attention is False
    assert timeline(order)[-1] == ("status_changed", "Status: Nowe → Anulowane", None)


def test_cancelled_after_shipping_raises_an_alert_instead_of_overwriting(
    tenant, channel, staff_user, form
):
    upsert_order_from_checkout_form(channel, form)
    order = order_by_external(tenant, form["id"])
    sent = status_of(tenant, "sent")
    with in_scope(tenant):
        change_order_status(order, sent, staff_user)
    upsert_order_from_checkout_form(channel, dict(form, status="CANCELLED"))
    order = order_by_external(tenant, form["id"])
    assert order.status == sent
    assert order.needs_attention is True
    assert timeline(order)[-1] == (
        "alert",
        "Cancelled on Allegro after it was shipped (status “Wysłane”). The status was not "
        "changed: stop the parcel or contact the buyer.",
        None,
    )
    # The same cancelled form again adds nothing.
    before = counts(tenant)
    changed = dict(form, status="CANCELLED", revision="zz")
    upsert_order_from_checkout_form(channel, changed)
    assert counts(tenant)[2] == before[2] + 1  # one "updated" entry, no second alert
    assert kinds(order_by_external(tenant, form["id"]))[-1] == "updated"
    assert assert_status_counts_exact(tenant) == {"Wysłane": 1}


def test_a_form_imported_already_cancelled_lands_in_cancelled(tenant, channel):
    form = checkout_form(status="CANCELLED")
    upsert_order_from_checkout_form(channel, form)
    assert order_by_external(tenant, form["id"]).status == status_of(tenant, "cancelled")


def test_fulfillment_changes_are_kept_in_their_own_field_with_a_timeline_entry(
    tenant, channel, form
):
    upsert_order_from_checkout_form(channel, form)
    changed = copy.deepcopy(form)
    changed["fulfillment"]["status"] = "PROCESSING"
    upsert_order_from_checkout_form(channel, changed)
    order = order_by_external(tenant, form["id"])
    assert order.fulfillment_status == "PROCESSING"
    assert order.status == status_of(tenant, "new")
    assert timeline(order)[-1] == (
        "fulfillment_changed",
        "Allegro fulfillment status changed: New → Processing",
        None,
    )


# --- Merged purchases ---------------------------------------------------------------------------


def test_a_merged_purchase_closes_the_old_order_and_links_it(tenant, channel):
    old_form = checkout_form(status="BOUGHT")
    upsert_order_from_checkout_form(channel, old_form)
    merged = checkout_form(status="READY_FOR_PROCESSING")
    merged["lineItems"] = copy.deepcopy(old_form["lineItems"])
    result = upsert_order_from_checkout_form(channel, merged)
    assert result.outcome == Outcome.CREATED
    old = order_by_external(tenant, old_form["id"])
    new = order_by_external(tenant, merged["id"])
    assert old.merged_into_id == new.pk
    assert old.status == status_of(tenant, "cancelled")
    assert new.status == status_of(tenant, "new")
    assert timeline(old)[1:] == [
        ("merged", f"Allegro merged this purchase into order {new.number}.", None),
        ("status_changed", "Status: Niepotwierdzone → Anulowane", None),
    ]
    assert timeline(new)[1:] == [
        ("merged", f"Includes the purchase imported earlier as {old.number}.", None)
    ]
    # Updating the new order later does not merge again.
    upsert_order_from_checkout_form(channel, dict(merged, revision="r2"))
    assert kinds(order_by_external(tenant, old_form["id"])) == [
        "imported",
        "merged",
        "status_changed",
    ]
    assert assert_status_counts_exact(tenant) == {"Anulowane": 1, "Nowe": 1}


def test_mark_order_merged_links_two_known_orders_once(tenant, channel):
    old_form, new_form = checkout_form(status="FILLED_IN"), checkout_form()
    upsert_orders_from_checkout_forms(channel, [old_form, new_form])
    assert mark_order_merged(channel, old_form["id"], new_form["id"]) is True
    assert mark_order_merged(channel, old_form["id"], new_form["id"]) is False
    assert mark_order_merged(channel, old_form["id"], "unknown") is False
    old = order_by_external(tenant, old_form["id"])
    assert old.merged_into == order_by_external(tenant, new_form["id"])
    assert old.status == status_of(tenant, "cancelled")
    assert assert_status_counts_exact(tenant) == {"Anulowane": 1, "Nowe": 1}


# --- Defensive import and batches ---------------------------------------------------------------


def test_a_nasty_form_is_imported_with_warnings_shown_on_the_order(tenant, channel):
    form = checkout_form()
    form["buyer"]["firstName"] = "Zoë 🦊\u200f\x00"
    form["delivery"] = None
    form["summary"]["totalToPay"]["amount"] = "abc"
    form["payment"]["type"] = "BARTER"
    result = upsert_order_from_checkout_form(channel, form)
    assert result.outcome == Outcome.CREATED
    assert result.warnings == (
        "summary.totalToPay.amount “abc” is not a number; ignored.",
        "The total to pay is unknown; the sum of the lines (123.45) is shown.",
        "payment.type has an unknown value “BARTER”.",
        "delivery is missing.",
    )
    order = order_by_external(tenant, form["id"])
    assert order.parse_warnings == list(result.warnings)
    assert order.buyer_first_name == "Zoë 🦊\u200f"
    assert order.total_to_pay == Decimal("123.45")
    assert order.payment_status == "paid"


def test_one_bad_form_never_stops_the_batch(tenant, channel):
    good = [checkout_form() for _ in range(3)]
    batch = [
        good[0],
        {"no": "id"},
        "garbage",
        good[1],
        {"id": "x" * 80, "status": "BOUGHT"},
        good[2],
    ]
    result = upsert_orders_from_checkout_forms(channel, batch)
    assert [r.outcome for r in result.results] == [
        Outcome.CREATED,
        Outcome.FAILED,
        Outcome.FAILED,
        Outcome.CREATED,
        Outcome.CREATED,
        Outcome.CREATED,
    ]
    assert result.results[1].error == "The checkout form has no id."
    assert result.results[2].error == "The checkout form is not a JSON object."
    assert result.counts() == {"created": 4, "updated": 0, "unchanged": 0, "failed": 2}
    numbers = [r.number for r in result.results if r.ok]
    assert numbers == [f"AL{_period()}{n:06d}" for n in range(1, 5)]


def test_a_batch_the_database_refuses_is_retried_form_by_form(tenant, channel):
    """A lost counter makes the second new order's number collide with an existing one: the
    batch is refused, retried form by form, and only that form fails."""
    from orders.models import OrderNumberCounter

    first, second = checkout_form(), checkout_form()
    upsert_orders_from_checkout_forms(channel, [first, second])
    with in_scope(tenant):
        Order.objects.get(external_id=first["id"]).delete()
        OrderNumberCounter.objects.update(last_value=0)
    a, b = checkout_form(), checkout_form()
    result = upsert_orders_from_checkout_forms(channel, [a, b])
    assert [r.outcome for r in result.results] == [Outcome.CREATED, Outcome.FAILED]
    assert result.results[0].number == f"AL{_period()}000001"
    assert "order_tenant_number" in result.results[1].error
    with in_scope(tenant):
        assert sorted(Order.objects.values_list("external_id", flat=True)) == sorted(
            [second["id"], a["id"]]
        )


def test_a_batch_of_100_forms_takes_a_handful_of_queries(tenant, channel):
    forms = [checkout_form() for _ in range(100)]
    with CaptureQueriesContext(connection) as first:
        result = upsert_orders_from_checkout_forms(channel, forms)
    assert result.counts()["created"] == 100
    # 20 for the orders, 5 for the catalogue's hooks (the lines' offers and products linked,
    # paid orders' stock taken): per batch, never per order.
    assert len(first.captured_queries) <= 25
    for form in forms[:50]:
        form["fulfillment"]["status"] = "PROCESSING"
    with CaptureQueriesContext(connection) as second:
        result = upsert_orders_from_checkout_forms(channel, forms)
    assert result.counts() == {"created": 0, "updated": 50, "unchanged": 50, "failed": 0}
    assert len(second.captured_queries) <= 25
    with CaptureQueriesContext(connection) as third:
        result = upsert_orders_from_checkout_forms(channel, forms)
    assert result.counts()["unchanged"] == 100
    assert len(third.captured_queries) <= 5
    with in_scope(tenant):
        assert Order.objects.count() == 100
    assert assert_status_counts_exact(tenant) == {"Nowe": 100}


def test_import_into_another_tenants_scope_is_refused(tenant, other_tenant, channel, form):
    from core.models import CrossTenantWrite

    with in_scope(other_tenant), pytest.raises(CrossTenantWrite):
        upsert_order_from_checkout_form(channel, form)
    assert counts(tenant) == (0, 0, 0)


def test_the_channels_import_status_is_where_paid_orders_start(tenant, channel):
    chosen = status_of(tenant, "in_progress")
    with in_scope(tenant):
        channel.import_status = chosen
        channel.save()
    paid, unpaid = checkout_form(), checkout_form(status="FILLED_IN")
    upsert_orders_from_checkout_forms(channel, [paid, unpaid])
    assert order_by_external(tenant, paid["id"]).status == chosen
    upsert_order_from_checkout_form(channel, dict(unpaid, status="READY_FOR_PROCESSING"))
    assert order_by_external(tenant, unpaid["id"]).status == chosen
    # An inactive choice falls back to the tenant's "new".
    with in_scope(tenant):
        chosen.is_active = False
        chosen.save()
    later = checkout_form()
    upsert_order_from_checkout_form(channel, later)
    assert order_by_external(tenant, later["id"]).status == status_of(tenant, "new")


def test_the_invoices_typed_tax_ids_are_stored_and_shown_with_their_names(
    tenant, channel, staff_client
):
    from django.urls import reverse

    polish = checkout_form()
    polish["invoice"]["address"]["company"] = {
        "name": "Firma Sp. z o.o.",
        "ids": [{"type": "PL_NIP", "value": "5261040828"}],
        "vatPayerStatus": "ACTIVE",
        "taxId": "NIP: 5261040828",
    }
    czech = checkout_form()
    czech["invoice"]["address"]["company"] = {
        "name": "Firma s.r.o.",
        "ids": [{"type": "CZ_ICO", "value": "25596641"}, {"type": "CZ_DIC", "value": "CZ25596641"}],
        "vatPayerStatus": "ACTIVE",
        "taxId": "CZ25596641",
    }
    upsert_orders_from_checkout_forms(channel, [polish, czech])
    pl_order = order_by_external(tenant, polish["id"])
    cz_order = order_by_external(tenant, czech["id"])
    assert (pl_order.invoice_tax_ids, pl_order.invoice_tax_id) == (
        [{"type": "PL_NIP", "value": "5261040828"}],
        "5261040828",
    )
    assert cz_order.invoice_tax_ids == [
        {"type": "CZ_ICO", "value": "25596641"},
        {"type": "CZ_DIC", "value": "CZ25596641"},
    ]

    def shown(order) -> str:
        url = reverse("orders:detail", args=[tenant.slug, order.pk])
        html = staff_client.get(url).content.decode()
        start = html.index('<dl class="tax-ids"')
        return " ".join(html[start : html.index("</dl>", start)].split())

    assert shown(pl_order) == (
        '<dl class="tax-ids" data-field="invoice-tax-ids"> <dt title="PL_NIP">NIP</dt>'
        '<dd class="mono"><bdi>5261040828</bdi></dd>'
    )
    assert shown(cz_order) == (
        '<dl class="tax-ids" data-field="invoice-tax-ids"> <dt title="CZ_ICO">IČO</dt>'
        '<dd class="mono"><bdi>25596641</bdi></dd> <dt title="CZ_DIC">DIČ</dt>'
        '<dd class="mono"><bdi>CZ25596641</bdi></dd>'
    )


def test_a_placeholder_phone_number_flags_the_order_and_its_channel(tenant, channel, staff_client):
    from django.urls import reverse

    form = checkout_form()
    form["buyer"]["phoneNumber"] = "---"
    result = upsert_order_from_checkout_form(channel, form)
    order = order_by_external(tenant, form["id"])
    assert order.buyer_phone == ""
    assert order.parse_warnings == list(result.warnings)
    assert order.parse_warnings == ["buyer.phoneNumber “---” is not a phone number; ignored."]
    html = staff_client.get(reverse("orders:detail", args=[tenant.slug, order.pk])).content
    assert "buyer.phoneNumber “---” is not a phone number; ignored." in html.decode()
    dashboard = staff_client.get(reverse("orders:dashboard", args=[tenant.slug]))
    [(_channel, health)] = dashboard.context["channels"]
    assert health["with_warnings"] == 1


def test_orders_imported_before_typed_tax_ids_get_them_from_their_stored_form(tenant, channel):
    import importlib

    from django.apps import apps
    from django_scopes import scopes_disabled

    migration = importlib.import_module("orders.migrations.0005_order_invoice_tax_ids")
    form = checkout_form()
    form["invoice"]["address"]["company"]["ids"] = [
        {"type": "CZ_ICO", "value": "25596641"},
        {"type": "CZ_DIC", "value": "CZ25596641"},
    ]
    upsert_order_from_checkout_form(channel, form)
    with scopes_disabled():
        Order.objects.filter(external_id=form["id"]).update(
            invoice_tax_ids=[], invoice_tax_id="111-11-11-111"
        )

    migration.fill_tax_ids(apps, None)

    order = order_by_external(tenant, form["id"])
    assert order.invoice_tax_ids == [
        {"type": "CZ_ICO", "value": "25596641"},
        {"type": "CZ_DIC", "value": "CZ25596641"},
    ]
    assert order.invoice_tax_id == "25596641"
