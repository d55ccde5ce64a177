"""Order detail: every block of the order, warnings and alerts, timeline newest first, status
change (with actor), alert handling; and the dashboard."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import translation

from orders.changes import OrderStatusError, change_order_status
from orders.charts import axis_ticks, bar_chart_svg, orders_per_day
from orders.ingest import upsert_order_from_checkout_form, upsert_orders_from_checkout_forms
from tests.factories import in_scope
from tests.orders_domain.helpers import order_by_external, timeline
from tests.support.orders import checkout_form, form_bought_at, status_of

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


def test_detail_costs_at_most_eleven_queries(staff_client, order, django_assert_max_num_queries):
    staff_client.get(detail_url(order))
    # The catalogue's products and offers of all lines: one query of the eleven.
    with django_assert_max_num_queries(11):
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


def y_labels(svg: str) -> list[str]:
    return re.findall(r'<text class="y-label"[^>]*>([^<]*)</text>', svg)


def three_days(*counts: int) -> list[tuple[dt.date, int]]:
    return [(dt.date(2026, 11, 1) + dt.timedelta(days=i), n) for i, n in enumerate(counts)]


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [
        (0, [0]),
        (1, [0, 1]),
        (2, [0, 1, 2]),
        (3, [0, 1, 2, 3]),
        (4, [0, 1, 2, 3, 4]),
        (5, [0, 2, 4, 6]),
        (9, [0, 5, 10]),
        (12, [0, 5, 10, 15]),
        (37, [0, 10, 20, 30, 40]),
        (101, [0, 50, 100, 150]),
    ],
)
def test_axis_ticks_are_whole_numbers_each_once(peak, ticks):
    assert axis_ticks(peak) == ticks


def test_a_chart_without_orders_is_one_zero_baseline_and_a_message():
    with translation.override("pl"):
        svg = str(bar_chart_svg(three_days(0, 0, 0)))
    assert svg == (
        '<svg class="chart" viewBox="0 0 720 220" width="100%" role="img" '
        'aria-label="Zamówienia dziennie, ostatnie 3 dni">'
        '<line x1="36" y1="196" x2="712" y2="196" stroke="#9ca3af"/>'
        '<text class="y-label" x="30" y="200" text-anchor="end" font-size="11" '
        'fill="#6b7280">0</text>'
        '<text class="empty" x="374.0" y="104.0" text-anchor="middle" font-size="14" '
        'fill="#6b7280">Brak zamówień w tym okresie</text>'
        '<text x="148.7" y="214" text-anchor="middle" font-size="11" fill="#6b7280">01.11</text>'
        '<text x="599.4" y="214" text-anchor="middle" font-size="11" fill="#6b7280">03.11</text>'
        "</svg>"
    )


def test_a_chart_with_two_orders_on_a_day_has_ticks_0_1_2():
    svg = str(bar_chart_svg(three_days(0, 1, 2)))
    assert svg == (
        '<svg class="chart" viewBox="0 0 720 220" width="100%" role="img" '
        'aria-label="Orders per day, last 3 days">'
        '<line x1="36" y1="104.0" x2="712" y2="104.0" stroke="#e5e7eb"/>'
        '<text class="y-label" x="30" y="108.0" text-anchor="end" font-size="11" '
        'fill="#6b7280">1</text>'
        '<line x1="36" y1="12.0" x2="712" y2="12.0" stroke="#e5e7eb"/>'
        '<text class="y-label" x="30" y="16.0" text-anchor="end" font-size="11" '
        'fill="#6b7280">2</text>'
        '<line x1="36" y1="196" x2="712" y2="196" stroke="#9ca3af"/>'
        '<text class="y-label" x="30" y="200" text-anchor="end" font-size="11" '
        'fill="#6b7280">0</text>'
        '<rect class="bar" x="69.8" y="196.0" width="157.7" height="0.0" fill="#2563eb">'
        "<title>1 Nov 2026: 0 orders</title></rect>"
        '<rect class="bar" x="295.1" y="104.0" width="157.7" height="92.0" fill="#2563eb">'
        "<title>2 Nov 2026: 1 order</title></rect>"
        '<rect class="bar" x="520.5" y="12.0" width="157.7" height="184.0" fill="#2563eb">'
        "<title>3 Nov 2026: 2 orders</title></rect>"
        '<text x="148.7" y="214" text-anchor="middle" font-size="11" fill="#6b7280">1 Nov</text>'
        '<text x="599.4" y="214" text-anchor="middle" font-size="11" fill="#6b7280">3 Nov</text>'
        "</svg>"
    )


@pytest.mark.parametrize(
    ("counts", "labels"),
    [((0, 1, 0), ["1", "0"]), ((0, 2, 1), ["1", "2", "0"]), ((3, 1, 2), ["1", "2", "3", "0"])],
)
def test_small_maxima_label_each_tick_once(counts, labels):
    svg = str(bar_chart_svg(three_days(*counts)))
    assert y_labels(svg) == labels
    assert "No orders in this period" not in svg


def test_the_dashboard_of_a_company_without_orders_says_so(staff_client, tenant):
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "pl"
    html = staff_client.get(reverse("orders:dashboard", args=[tenant.slug])).content.decode()
    translation.deactivate()  # the Polish request left Polish active in this thread
    assert y_labels(html) == ["0"]
    assert html.count(">Brak zamówień w tym okresie</text>") == 1
    assert html.count('<rect class="bar"') == 0


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


# --- Text from buyers cannot reorder the page (bidi isolation) --------------------------------

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: reverses everything after it until isolated


def bidi_form():
    form = checkout_form()
    form["buyer"].update(login=f"{RLO}nigol", firstName=f"{RLO}Jan", email=f"{RLO}a@b.pl")
    form["delivery"]["address"]["street"] = f"{RLO}Grunwaldzka 182"
    form["messageToSeller"] = f"{RLO}proszę o fakturę"
    form["lineItems"][0]["offer"]["name"] = f"{RLO}Kubek 300 ml"
    return form


def test_buyer_text_is_isolated_on_the_detail(staff_client, tenant, channel):
    form = bidi_form()
    upsert_order_from_checkout_form(channel, form)
    html = staff_client.get(detail_url(order_by_external(tenant, form["id"]))).content.decode()
    for fragment in [
        f"<dt>Login</dt><dd><bdi>{RLO}nigol</bdi>",
        f"<dt>Full name</dt><dd><bdi>{RLO}Jan Kowalski</bdi></dd>",
        f"<dt>E-mail</dt><dd><bdi>{RLO}a@b.pl</bdi></dd>",
        f'<blockquote class="buyer-message"><bdi>{RLO}proszę o fakturę</bdi></blockquote>',
        f"<bdi>{RLO}Grunwaldzka 182</bdi><br>",
        f'<td data-label="Offer"><bdi>{RLO}Kubek 300 ml</bdi>',
        f"1 × <bdi>{RLO}Kubek 300 ml</bdi></label>",
    ]:
        assert html.count(fragment) == 1, fragment
    # Not one of these characters stands outside an isolate.
    outside = html
    for isolated in re.findall(r"<bdi>[^<]*</bdi>", html):
        outside = outside.replace(isolated, "")
    assert RLO not in outside


def test_buyer_text_is_isolated_in_the_order_list(staff_client, tenant, channel):
    upsert_order_from_checkout_form(channel, bidi_form())
    html = staff_client.get(reverse("orders:list", args=[tenant.slug]) + "?tab=all")
    assert (
        f'<td><bdi>{RLO}nigol</bdi><div class="muted small"><bdi>{RLO}Jan Kowalski</bdi></div></td>'
        in html.content.decode()
    )
