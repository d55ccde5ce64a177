"""Order detail: every block of the order, warnings and alerts, timeline newest first, status
change (with actor), alert handling; and the dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from orders.charts import bar_chart_svg, orders_per_day
from orders.ingest import upsert_order_from_checkout_form, upsert_orders_from_checkout_forms
from orders.order_services import OrderStatusError, change_order_status
from tests.factories import in_scope
from tests.orders_domain.builders import checkout_form, form_bought_at
from tests.orders_domain.helpers import order_by_external, status_of, timeline

pytestmark = pytest.mark.django_db


def detail_url(order):
    return reverse("orders:detail", args=[order.tenant.slug, order.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def order(tenant, channel, form):
    upsert_order_from_checkout_form(channel, form)
    return order_by_external(tenant, form["id"])


def test_detail_shows_every_block_of_the_order(staff_client, order):
    response = staff_client.get(detail_url(order))
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        f"Order {order.number}",
        "User_Login",
        "user-email@allegro.pl",
        "Jan Kowalski",
        "Kowalex",
        "Please send me an item in red color",
        "Grunwaldzka 182",
        "60-166 Poznań",
        "Allegro Paczkomaty InPost",
        "Paczkomat POZ08A",
        "POZ08A",
        "Stacja paliw BP",
        "Udix Sp. z o.o.",
        "111-11-11-111",
        '<span title="ONLINE · PAYU">Online payment (PayU)</span>',
        "123.45 PLN",
        "Name of purchased offer",
        "AH-129834",
        "Ready for processing",
        "allegro-pl",
        order.external_id,
        "Imported from Allegro as",
    ]:
        assert text in html, text
    assert '<circle cx="5" cy="5" r="5" fill="#2563eb"/>' in html
    assert "style=" not in html and "<script>" not in html


def test_parse_warnings_are_shown_on_the_detail(staff_client, tenant, channel):
    form = checkout_form()
    form["delivery"] = None
    upsert_order_from_checkout_form(channel, form)
    html = staff_client.get(detail_url(order_by_external(tenant, form["id"]))).content.decode()
    assert "Allegro sent data we could not fully read" in html
    assert "<li>delivery is missing.</li>" in html


def test_status_change_writes_the_timeline_with_the_actor(staff_client, tenant, order):
    target = status_of(tenant, "in_progress")
    response = staff_client.post(
        reverse("orders:change_status", args=[tenant.slug, order.pk]), {"status": target.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(order)
    order = order_by_external(tenant, order.external_id)
    assert order.status == target
    assert timeline(order)[-1] == (
        "status_changed",
        "Status: Nowe → W realizacji",
        "staff@alfa.example",
    )
    page = staff_client.get(detail_url(order))
    assert messages_of(page) == ["Status changed to “W realizacji”."]
    # Newest first on the page.
    assert [e.kind for e in page.context["events"]] == ["status_changed", "imported"]
    html = page.content.decode()
    assert html.index("Status: Nowe → W realizacji") < html.index("Imported from Allegro as")
    assert "staff@alfa.example" in html


def test_the_same_status_again_changes_nothing(staff_client, tenant, order):
    response = staff_client.post(
        reverse("orders:change_status", args=[tenant.slug, order.pk]),
        {"status": order.status_id},
        follow=True,
    )
    assert messages_of(response) == ["The order already has this status."]
    assert [row[0] for row in timeline(order)] == ["imported"]


def test_an_inactive_status_is_refused(tenant, order, staff_user):
    status = status_of(tenant, "returned")
    with in_scope(tenant):
        status.is_active = False
        status.save()
        with pytest.raises(OrderStatusError):
            change_order_status(order, status, staff_user)
    assert order_by_external(tenant, order.external_id).status == status_of(tenant, "new")


def test_an_alert_is_shown_in_list_and_detail_and_can_be_handled(
    staff_client, tenant, channel, staff_user, form, order
):
    with in_scope(tenant):
        change_order_status(order, status_of(tenant, "sent"), staff_user)
    upsert_order_from_checkout_form(channel, dict(form, status="CANCELLED"))
    html = staff_client.get(detail_url(order)).content.decode()
    assert "This order needs attention." in html
    assert "Cancelled on Allegro after it was shipped" in html
    listing = staff_client.get(reverse("orders:list", args=[tenant.slug]) + "?tab=all")
    assert 'class="order-row attention"' in listing.content.decode()
    response = staff_client.post(
        reverse("orders:resolve_alert", args=[tenant.slug, order.pk]), follow=True
    )
    assert messages_of(response) == ["The alert is marked as handled."]
    order = order_by_external(tenant, order.external_id)
    assert order.needs_attention is False
    assert timeline(order)[-1] == (
        "attention_cleared",
        "Alert marked as handled.",
        "staff@alfa.example",
    )


def test_merged_orders_link_to_each_other(staff_client, tenant, channel):
    old_form = checkout_form(status="BOUGHT")
    upsert_order_from_checkout_form(channel, old_form)
    merged = checkout_form()
    merged["lineItems"] = old_form["lineItems"]
    upsert_order_from_checkout_form(channel, merged)
    old = order_by_external(tenant, old_form["id"])
    new = order_by_external(tenant, merged["id"])
    assert f'href="{detail_url(new)}"' in staff_client.get(detail_url(old)).content.decode()
    assert f'href="{detail_url(old)}"' in staff_client.get(detail_url(new)).content.decode()


def test_detail_costs_at_most_ten_queries(staff_client, order, django_assert_max_num_queries):
    staff_client.get(detail_url(order))
    with django_assert_max_num_queries(10):
        staff_client.get(detail_url(order))


# --- Dashboard -------------------------------------------------------------------------------


def test_orders_per_day_counts_in_warsaw_time(tenant, channel):
    today = dt.date(2026, 11, 27)
    moments = [
        dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.UTC),  # 00:30 on the 26th in Warsaw
        dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 28, 23, 30, tzinfo=dt.UTC),  # 00:30 on the 29th: the first day
        dt.datetime(2026, 10, 28, 22, 59, tzinfo=dt.UTC),  # 23:59 on the 28th: outside
    ]
    upsert_orders_from_checkout_forms(channel, [form_bought_at(m) for m in moments])
    with in_scope(tenant):
        series = orders_per_day(tenant, 30, today=today)
    assert [day for day, _n in series] == [
        dt.date(2026, 10, 29) + dt.timedelta(days=i) for i in range(30)
    ]
    assert [(day, n) for day, n in series if n] == [
        (dt.date(2026, 10, 29), 1),
        (dt.date(2026, 11, 26), 2),
        (dt.date(2026, 11, 27), 1),
    ]


def test_the_chart_is_an_svg_with_a_bar_per_day():
    series = [(dt.date(2026, 11, 1) + dt.timedelta(days=i), i % 3) for i in range(30)]
    svg = str(bar_chart_svg(series))
    assert svg.startswith('<svg class="chart"')
    assert svg.count("<rect ") == 30
    assert svg.count("<title>") == 30
    assert 'height="0.0"' in svg  # days without orders have empty bars
    assert "style=" not in svg


def test_dashboard_shows_the_chart_and_sync_health(staff_client, tenant, channel, order):
    response = staff_client.get(reverse("orders:dashboard", args=[tenant.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg class="chart"' in html
    assert "Sync health" in html
    assert "Allegro główne" in html and "(AL)" in html
    assert "Connected" in html
    [(shown_channel, health)] = response.context["channels"]
    assert shown_channel == channel
    assert health == {"last_import": order.imported_at, "needs_attention": 0, "with_warnings": 0}
