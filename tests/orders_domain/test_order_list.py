"""The order list: tabs with counts, filters, search, sort, keyset pagination, query bounds,
bulk status change, live rows, and tenant isolation of every filter and id."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.changes import bulk_change_status
from orders.ingest import upsert_order_from_checkout_form, upsert_orders_from_checkout_forms
from orders.models import DeliveryMethod, Order
from tests.factories import in_scope
from tests.orders_domain.helpers import assert_status_counts_exact, order_by_external, timeline
from tests.support.channels import channel_of
from tests.support.orders import checkout_form, form_bought_at, status_of

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def list_url(tenant, **params):
    url = reverse("orders:list", args=[tenant.slug])
    if params:
        from urllib.parse import urlencode

        url += "?" + urlencode(params, doseq=True)
    return url


def numbers_on(response) -> list[str]:
    return [o.number for o in response.context["page"].orders]


def tab_counts(response) -> dict[str, int]:
    return {t["key"]: t["count"] for t in response.context["tabs"]}


def ingest(channel, form) -> Order:
    result = upsert_order_from_checkout_form(channel, form)
    assert result.ok
    return order_by_external(channel.tenant, form["id"])


@pytest.fixture
def spread(tenant, channel, staff_user):
    """Six orders an hour apart across the tabs: {name: Order}."""
    orders = {}
    for i, name in enumerate(["new1", "new2", "unconfirmed", "in_progress", "cancelled", "sent"]):
        status = "BOUGHT" if name == "unconfirmed" else "READY_FOR_PROCESSING"
        form = form_bought_at(T0 + dt.timedelta(hours=i), status=status)
        form["buyer"]["login"] = f"kupiec_{name}"
        form["summary"]["totalToPay"]["amount"] = str(100 + i * 10)
        orders[name] = ingest(channel, form)
    for name in ("in_progress", "cancelled", "sent"):
        bulk_change_status(tenant, [orders[name].pk], status_of(tenant, name), staff_user)
    return orders


def test_tabs_show_their_groups_with_counts_and_new_is_the_default(staff_client, tenant, spread):
    response = staff_client.get(list_url(tenant))
    assert response.status_code == 200
    assert tab_counts(response) == {
        "new": 2,
        "in_progress": 1,
        "to_ship": 0,
        "completed": 2,
        "unpaid": 3,  # 130, 140 and 150 PLN to pay, 123.45 paid
        "all": 6,
    }
    n = {k: v.number for k, v in spread.items()}
    assert numbers_on(response) == [n["new2"], n["new1"]]
    assert numbers_on(staff_client.get(list_url(tenant, tab="in_progress"))) == [n["in_progress"]]
    assert numbers_on(staff_client.get(list_url(tenant, tab="to_ship"))) == []
    assert numbers_on(staff_client.get(list_url(tenant, tab="completed"))) == [
        n["sent"],
        n["cancelled"],
    ]
    assert numbers_on(staff_client.get(list_url(tenant, tab="all"))) == [
        n[k] for k in ["sent", "cancelled", "in_progress", "unconfirmed", "new2", "new1"]
    ]


def test_sort_by_date_and_total(staff_client, tenant, spread):
    n = {k: v.number for k, v in spread.items()}
    oldest_first = [
        n[k] for k in ["new1", "new2", "unconfirmed", "in_progress", "cancelled", "sent"]
    ]
    assert numbers_on(staff_client.get(list_url(tenant, tab="all", sort="bought"))) == oldest_first
    assert numbers_on(staff_client.get(list_url(tenant, tab="all", sort="-total"))) == list(
        reversed(oldest_first)
    )
    assert numbers_on(staff_client.get(list_url(tenant, tab="all", sort="total"))) == oldest_first


def test_filters_narrow_exactly(staff_client, tenant, channel, spread):
    n = {k: v.number for k, v in spread.items()}
    second = channel_of(tenant, "XY", "Drugie konto")
    cod = form_bought_at(T0 - dt.timedelta(days=3))
    cod["payment"]["type"] = "CASH_ON_DELIVERY"
    cod["delivery"]["method"] = {"id": "dpd-cod", "name": "Kurier DPD pobranie"}
    cod_order = ingest(second, cod)
    get = lambda **p: numbers_on(staff_client.get(list_url(tenant, tab="all", **p)))  # noqa: E731
    assert get(payment_status="cash_on_delivery") == [cod_order.number]
    assert get(channel=second.pk) == [cod_order.number]
    assert get(delivery_method="dpd-cod") == [cod_order.number]
    assert get(status=status_of(tenant, "sent").pk) == [n["sent"]]
    assert get(bought_from="2026-10-30", bought_to="2026-10-30") == [cod_order.number]
    assert get(bought_from="2026-11-02") == [
        n[k] for k in ["sent", "cancelled", "in_progress", "unconfirmed", "new2", "new1"]
    ]
    today = timezone.localdate().isoformat()
    assert len(get(imported_from=today, imported_to=today)) == 7
    assert get(imported_to="2000-01-01") == []


def test_search_by_number_login_email_name_and_allegro_id(staff_client, tenant, channel, spread):
    special = checkout_form()
    special["buyer"].update(
        {"login": "Zielony_Kot", "email": "zk+77@allegromail.pl", "lastName": "Wiśniewska"}
    )
    order = ingest(channel, special)
    get = lambda q: numbers_on(staff_client.get(list_url(tenant, tab="all", q=q)))  # noqa: E731
    assert get(order.number) == [order.number]
    assert get(order.number.lower()[2:]) == [order.number]
    assert get("zielony_kot") == [order.number]
    assert get("ZK+77@allegromail") == [order.number]
    assert get("wiśniew") == [order.number]
    assert get(special["id"]) == [order.number]
    assert get(special["id"][:8]) == [order.number]
    assert get("nobody-like-that") == []
    assert get("%") == []


def test_keyset_pagination_walks_forward_and_back(staff_client, tenant, channel):
    forms = [form_bought_at(T0 + dt.timedelta(minutes=i)) for i in range(120)]
    # Two orders bought at the same instant: the id breaks the tie.
    forms[60]["lineItems"][0]["boughtAt"] = forms[61]["lineItems"][0]["boughtAt"]
    upsert_orders_from_checkout_forms(channel, forms)
    with in_scope(tenant):
        expected = list(
            Order.objects.order_by("-bought_at", "-id").values_list("number", flat=True)
        )
    first = staff_client.get(list_url(tenant))
    assert numbers_on(first) == expected[:50]
    assert first.context["prev_query"] == ""
    second = staff_client.get(list_url(tenant) + "?" + first.context["next_query"])
    assert numbers_on(second) == expected[50:100]
    third = staff_client.get(list_url(tenant) + "?" + second.context["next_query"])
    assert numbers_on(third) == expected[100:]
    assert third.context["next_query"] == ""
    back = staff_client.get(list_url(tenant) + "?" + third.context["prev_query"])
    assert numbers_on(back) == expected[50:100]
    back_again = staff_client.get(list_url(tenant) + "?" + back.context["prev_query"])
    assert numbers_on(back_again) == expected[:50]
    assert back_again.context["prev_query"] == ""
    # A made-up cursor is the first page, never an error.
    assert numbers_on(staff_client.get(list_url(tenant, cursor="garbage!"))) == expected[:50]
    html = second.content.decode()
    assert 'rel="next"' in html and 'rel="prev"' in html


def test_pages_cost_at_most_ten_queries_first_and_deep(
    staff_client, tenant, channel, django_assert_max_num_queries
):
    upsert_orders_from_checkout_forms(
        channel, [form_bought_at(T0 + dt.timedelta(minutes=i)) for i in range(160)]
    )
    staff_client.get(list_url(tenant))  # the first visit of a tenant also saves the session
    with django_assert_max_num_queries(10):
        first = staff_client.get(list_url(tenant))
    url = list_url(tenant)
    response = first
    for _ in range(3):
        url = list_url(tenant) + "?" + response.context["next_query"]
        response = staff_client.get(url)
    with django_assert_max_num_queries(10):
        deep = staff_client.get(url)
    assert len(numbers_on(deep)) == 10
    with django_assert_max_num_queries(10):
        staff_client.get(list_url(tenant, tab="all", q="user_login", payment_status="paid"))


def test_live_rows_show_a_new_order_and_keep_the_selection(staff_client, tenant, channel, spread):
    rows_url = reverse("orders:rows", args=[tenant.slug])
    page = staff_client.get(list_url(tenant)).content.decode()
    assert f'hx-get="{rows_url}" hx-trigger="every 10s"' in page
    assert 'hx-trigger="every 10s"' in page
    arrived = ingest(channel, form_bought_at(T0 + dt.timedelta(days=1)))
    kept = spread["new1"].pk
    response = staff_client.get(rows_url, {"order_ids": [kept]}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<tbody id="order-rows"')
    assert numbers_on(response) == [arrived.number, spread["new2"].number, spread["new1"].number]
    assert re.search(rf'value="{kept}"[^>]*checked', html)
    assert not re.search(rf'value="{spread["new2"].pk}"[^>]*checked', html)


def test_bulk_status_change_moves_the_selected_orders_with_the_actor(
    staff_client, staff_user, tenant, spread
):
    target = status_of(tenant, "ready_to_ship")
    ids = [spread["new1"].pk, spread["new2"].pk]
    response = staff_client.post(
        reverse("orders:bulk_status", args=[tenant.slug]),
        {"order_ids": ids, "status": target.pk, "next": list_url(tenant, tab="new")},
    )
    assert response.status_code == 302
    assert response["Location"] == list_url(tenant, tab="new")
    for name in ("new1", "new2"):
        order = order_by_external(tenant, spread[name].external_id)
        assert order.status == target
        assert timeline(order)[-1] == (
            "status_changed",
            "Status: Nowe → Do wysłania",
            "staff@alfa.example",
        )
    assert order_by_external(tenant, spread["sent"].external_id).status == status_of(tenant, "sent")
    assert assert_status_counts_exact(tenant) == {
        "Do wysłania": 2,
        "Niepotwierdzone": 1,
        "W realizacji": 1,
        "Anulowane": 1,
        "Wysłane": 1,
    }
    followed = staff_client.get(response["Location"])
    assert tab_counts(followed)["to_ship"] == 2
    assert [str(m) for m in followed.context["messages"]] == ["2 orders moved to “Do wysłania”."]


def test_bulk_change_without_a_selection_says_so(staff_client, tenant, spread):
    response = staff_client.post(
        reverse("orders:bulk_status", args=[tenant.slug]),
        {"status": status_of(tenant, "sent").pk},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["Select at least one order."]
    assert order_by_external(tenant, spread["new1"].external_id).status == status_of(tenant, "new")


# --- Tenant isolation: another tenant's orders are never listed, counted or found ---------------


@pytest.fixture
def theirs(other_tenant, other_channel):
    form = checkout_form()
    form["buyer"]["login"] = "Ich_Klient"
    upsert_order_from_checkout_form(other_channel, form)
    order = order_by_external(other_tenant, form["id"])
    with in_scope(other_tenant):
        DeliveryMethod.objects.create(
            tenant=other_tenant, external_id="their-dm", name="Ich kurier"
        )
    return order


def test_another_tenants_filter_ids_show_nothing_of_theirs(
    staff_client, tenant, other_tenant, other_channel, spread, theirs
):
    their_status = status_of(other_tenant, "new")
    for params, error in [
        (
            {"channel": other_channel.pk},
            "There is no such sales channel; the channel filter was ignored.",
        ),
        ({"status": their_status.pk}, "There is no such status; the status filter was ignored."),
        (
            {"delivery_method": "their-dm"},
            "There is no such delivery method; the delivery filter was ignored.",
        ),
        ({"q": "ich_klient"}, None),
        ({"q": theirs.number}, None),
        ({"q": theirs.external_id}, None),
    ]:
        response = staff_client.get(list_url(tenant, tab="all", **params))
        shown = numbers_on(response)
        assert theirs.number not in shown
        assert all(o.tenant_id == tenant.pk for o in response.context["page"].orders)
        html = response.content.decode()
        opening = html.index('<tbody id="order-rows"')
        rows = html[html.index(">", opening) + 1 : html.index("</tbody>")]
        assert "Ich_Klient" not in rows and theirs.number not in rows
        if error:
            assert error in html
            assert len(shown) == 6  # the invalid filter is ignored: our own orders only
        else:
            assert shown == []
    assert tab_counts(staff_client.get(list_url(tenant)))["all"] == 6


def test_another_tenants_order_ids_are_not_found_anywhere(
    staff_client, tenant, other_tenant, spread, theirs
):
    assert (
        staff_client.get(reverse("orders:detail", args=[tenant.slug, theirs.pk])).status_code == 404
    )
    response = staff_client.post(
        reverse("orders:change_status", args=[tenant.slug, theirs.pk]),
        {"status": status_of(tenant, "sent").pk},
    )
    assert response.status_code == 404
    response = staff_client.post(
        reverse("orders:bulk_status", args=[tenant.slug]),
        {"order_ids": [theirs.pk, spread["new1"].pk], "status": status_of(tenant, "sent").pk},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "1 order moved to “Wysłane”.",
        "1 selected order no longer exists.",
    ]
    theirs_now = order_by_external(other_tenant, theirs.external_id)
    assert theirs_now.status == status_of(other_tenant, "new")
    assert [row[0] for row in timeline(theirs_now)] == ["imported"]


def test_another_tenants_status_cannot_be_set(staff_client, tenant, other_tenant, spread):
    order = spread["new1"]
    their_sent = status_of(other_tenant, "sent")
    response = staff_client.post(
        reverse("orders:change_status", args=[tenant.slug, order.pk]),
        {"status": their_sent.pk},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["Choose one of your active statuses."]
    response = staff_client.post(
        reverse("orders:bulk_status", args=[tenant.slug]),
        {"order_ids": [order.pk], "status": their_sent.pk},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["Choose one of your active statuses."]
    order = order_by_external(tenant, order.external_id)
    assert order.status == status_of(tenant, "new")
    assert [row[0] for row in timeline(order)] == ["imported"]


def test_the_member_of_another_tenant_gets_404_on_our_list(client, other_admin, tenant, spread):
    client.force_login(other_admin)
    assert client.get(list_url(tenant)).status_code == 404
    assert client.get(reverse("orders:rows", args=[tenant.slug])).status_code == 404


def test_totals_render_with_currency(staff_client, tenant, spread):
    html = staff_client.get(list_url(tenant)).content.decode()
    assert "110.00 PLN" in html and "100.00 PLN" in html
    assert Decimal("110.00") == order_by_external(tenant, spread["new2"].external_id).total_to_pay
