"""The order list's search over every field a seller looks orders up by (without diacritics or
case), the "unpaid" tab with the payment-status filter, and the sort by total per currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.urls import reverse
from django_scopes import scope

from fulfillment.services.carriers import OTHER
from fulfillment.services.shipments import add_shipment
from orders.ingest import upsert_order_from_checkout_form, upsert_orders_from_checkout_forms
from orders.models import Order
from orders.search import fold, order_search_text
from tests.factories import in_scope
from tests.orders_domain.helpers import order_by_external
from tests.support.channels import channel_of
from tests.support.orders import checkout_form, form_bought_at, status_of

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def list_url(tenant, **params):
    url = reverse("orders:list", args=[tenant.slug])
    return url + "?" + urlencode(params) if params else url


def numbers_on(response) -> list[str]:
    assert response.status_code == 200
    return [o.number for o in response.context["page"].orders]


def ingest(channel, form) -> Order:
    result = upsert_order_from_checkout_form(channel, form)
    assert result.ok
    return order_by_external(channel.tenant, form["id"])


def test_fold_drops_diacritics_case_and_invisible_characters():
    assert fold("Wójcik") == "wojcik"
    assert fold("ŁÓDŹ") == "lodz"
    assert fold("Żółć gęślą jaźń") == "zolc gesla jazn"
    assert fold("Straße Ærø Œuvre Đakovo") == "strasse aero oeuvre dakovo"
    assert fold("Zo\u00eb \t \u200bKo\u0301wal\u00adski") == "zoe kowalski"
    assert fold("ＡＢＣ１２") == "abc12"


@pytest.fixture
def wojcik(channel):
    """An order with Polish letters in the name, the city, the offer title and the SKU."""
    form = form_bought_at(T0)
    form["buyer"].update(
        {"login": "mleczny_kot", "lastName": "Wójcik", "phoneNumber": "+48 601 202 303"}
    )
    form["buyer"]["address"]["city"] = "Łódź"
    form["invoice"]["address"]["city"] = "Łódź"
    form["invoice"]["address"]["naturalPerson"]["lastName"] = "Wójcik"
    form["delivery"]["address"].update(
        {"city": "Łódź", "lastName": "Wójcik", "phoneNumber": "601-202-303"}
    )
    form["lineItems"][0]["offer"]["name"] = "Żółta kurtka zimowa XL"
    form["lineItems"][0]["offer"]["external"] = {"id": "KURTKA-ŻÓŁ-42"}
    return ingest(channel, form)


@pytest.fixture
def kowalski(channel):
    """The example order: Jan Kowalski from Poznań."""
    return ingest(channel, form_bought_at(T0 + dt.timedelta(hours=1)))


@pytest.mark.parametrize(
    "query",
    [
        "Wojcik",
        "WÓJCIK",
        "lodz",
        "Łódź",
        "ŁODZ",
        "zolta kurtka",
        "KURTKA zimowa",
        "kurtka-zol-42",
        "KURTKA-ŻÓŁ-42",
        "601 202 303",
        "601202303",
        "+48601202303",
        "601-202-303",
        "wojcik lodz",
        "mleczny_kot",
    ],
)
def test_search_finds_by_name_city_offer_sku_and_phone_ignoring_diacritics_and_case(
    staff_client, tenant, wojcik, kowalski, query
):
    assert numbers_on(staff_client.get(list_url(tenant, tab="all", q=query))) == [wojcik.number]


def test_search_words_must_all_be_there(staff_client, tenant, wojcik, kowalski):
    get = lambda q: numbers_on(staff_client.get(list_url(tenant, tab="all", q=q)))  # noqa: E731
    assert get("poznan") == [kowalski.number]
    assert get("wojcik poznan") == []
    assert get("kowalski lodz") == []
    assert get("lodzkie") == []


def _add_shipment(order, waybill, actor):
    with scope(tenant=order.tenant):
        return add_shipment(
            Order.objects.get(pk=order.pk),
            carrier_id=OTHER,
            carrier_name="Kurier Łódzki",
            waybill=waybill,
            line_ids=None,
            comment="",
            actor=actor,
            carriers=[OTHER],
        )


def test_a_shipment_makes_its_tracking_number_findable_and_an_upsert_keeps_it(
    staff_client, tenant, channel, staff_user, wojcik, kowalski
):
    get = lambda q: numbers_on(staff_client.get(list_url(tenant, tab="all", q=q)))  # noqa: E731
    assert get("AB1234567PL") == []
    _add_shipment(wojcik, "AB1234567PL", staff_user)
    _add_shipment(wojcik, "620111222333", staff_user)
    assert get("ab1234567pl") == [wojcik.number]
    assert get("620111222333") == [wojcik.number]
    assert get("1222333") == [wojcik.number]
    # Allegro changes the order afterwards: the upsert rebuilds the search text, waybills kept.
    with in_scope(tenant):
        form = dict(Order.objects.get(pk=wojcik.pk).raw_form)
    form["buyer"] = {**form["buyer"], "lastName": "Wójcik-Nowak"}
    form["revision"] = "changed"
    assert upsert_order_from_checkout_form(channel, form).ok
    with in_scope(tenant):
        stored = Order.objects.get(pk=wojcik.pk)
    assert stored.tracking_numbers == "ab1234567pl 620111222333"
    assert get("wojcik-nowak") == [wojcik.number]
    assert get("AB1234567PL") == [wojcik.number]
    assert get("620111222333") == [wojcik.number]


def test_the_stored_search_text_is_what_the_rules_make_of_the_order(tenant, wojcik):
    with in_scope(tenant):
        order = Order.objects.get(pk=wojcik.pk)
        lines = [(line.offer_name, line.sku) for line in order.lines.all()]
    assert order.search_text == order_search_text(order, lines)
    for word in ("wojcik", "lodz", "zolta kurtka zimowa xl", "kurtka-zol-42", "48601202303"):
        assert word in order.search_text


def test_search_pages_with_the_keyset_cursor(staff_client, tenant, channel):
    forms = [form_bought_at(T0 + dt.timedelta(minutes=i)) for i in range(70)]
    for i, form in enumerate(forms):
        form["delivery"]["address"]["city"] = "Łódź" if i % 2 else "Kraków"
    upsert_orders_from_checkout_forms(channel, forms)
    with in_scope(tenant):
        expected = list(
            Order.objects.filter(delivery_address__city="Łódź")
            .order_by("-bought_at", "-id")
            .values_list("number", flat=True)
        )
    assert len(expected) == 35
    first = staff_client.get(list_url(tenant, tab="all", q="LODZ", sort="bought"))
    assert numbers_on(first) == list(reversed(expected))[:35]
    newest = staff_client.get(list_url(tenant, tab="all", q="lodz"))
    assert numbers_on(newest) == expected
    assert newest.context["next_query"] == ""


def test_search_uses_the_tenant_led_trigram_index(tenant):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'orders_order' "
            "AND indexname LIKE '%%search%%'"
        )
        assert [row[0] for row in cursor.fetchall()] == [
            "CREATE INDEX order_tenant_search_trgm ON public.orders_order "
            "USING gin (tenant_id, search_text gin_trgm_ops)"
        ]


# --- The "unpaid" tab and the payment-status filter -------------------------------------------


@pytest.fixture
def payments(tenant, channel, staff_user):
    """One order per payment status, an hour apart: {payment status: Order}."""
    orders = {}
    for i, kind in enumerate(["none", "partial", "paid", "overpaid", "cash_on_delivery"]):
        form = form_bought_at(T0 + dt.timedelta(hours=i))
        form["summary"]["totalToPay"]["amount"] = "100.00"
        paid = {"none": None, "partial": "40.00", "paid": "100.00", "overpaid": "120.00"}
        if kind == "cash_on_delivery":
            form["payment"]["type"] = "CASH_ON_DELIVERY"
            form["payment"]["paidAmount"] = None
        elif paid[kind] is None:
            form["payment"]["paidAmount"] = None
        else:
            form["payment"]["paidAmount"] = {"amount": paid[kind], "currency": "PLN"}
        orders[kind] = ingest(channel, form)
        assert orders[kind].payment_status == kind
    bulk_change = orders["partial"].pk
    from orders.changes import bulk_change_status

    bulk_change_status(tenant, [bulk_change], status_of(tenant, "sent"), staff_user)
    return orders


def test_unpaid_tab_shows_not_and_partially_paid_orders_without_cash_on_delivery(
    staff_client, tenant, payments
):
    response = staff_client.get(list_url(tenant, tab="unpaid"))
    assert numbers_on(response) == [payments["partial"].number, payments["none"].number]
    counts = {t["key"]: t["count"] for t in response.context["tabs"]}
    assert counts == {
        "new": 4,
        "in_progress": 0,
        "to_ship": 0,
        "completed": 1,
        "unpaid": 2,
        "all": 5,
    }
    labels = [str(t["label"]) for t in response.context["tabs"]]
    assert labels == ["New", "In progress", "To ship", "Completed", "Unpaid", "All"]
    polish = staff_client.get(list_url(tenant, tab="unpaid"), HTTP_ACCEPT_LANGUAGE="pl")
    assert "Nieopłacone" in polish.content.decode()


def test_payment_status_filter_combines_with_the_tabs(staff_client, tenant, payments):
    get = lambda **p: numbers_on(staff_client.get(list_url(tenant, **p)))  # noqa: E731
    n = {k: v.number for k, v in payments.items()}
    assert get(tab="new", payment_status="none") == [n["none"]]
    assert get(tab="new", payment_status="partial") == []
    assert get(tab="completed", payment_status="partial") == [n["partial"]]
    assert get(tab="new", payment_status="cash_on_delivery") == [n["cash_on_delivery"]]
    assert get(tab="all", payment_status="overpaid") == [n["overpaid"]]
    assert get(tab="all", payment_status="paid") == [n["paid"]]
    assert get(tab="unpaid", payment_status="paid") == []
    # The tab links keep the payment filter.
    response = staff_client.get(list_url(tenant, tab="new", payment_status="none"))
    queries = {t["key"]: t["query"] for t in response.context["tabs"]}
    assert queries["completed"] == "tab=completed&payment_status=none"


def test_the_unpaid_count_is_read_from_its_partial_index(tenant, payments):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT COUNT(*) FROM orders_order WHERE tenant_id = %s "
            "AND payment_status IN ('none', 'partial')",
            [tenant.pk],
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "order_tenant_unpaid" in plan


# --- Sort by total, per currency ---------------------------------------------------------------


@pytest.fixture
def currencies(tenant, channel):
    """Orders in PLN, CZK and EUR with ties: [(currency, amount, number)] in creation order."""
    amounts = [
        ("PLN", "1012.82"),
        ("CZK", "1032.51"),
        ("PLN", "50.00"),
        ("EUR", "80.00"),
        ("PLN", "50.00"),
        ("CZK", "10.00"),
        ("PLN", "1012.82"),
        ("EUR", "80.00"),
        ("PLN", "7.99"),
        ("CZK", "1032.51"),
    ]
    made = []
    for i, (currency, amount) in enumerate(amounts):
        form = form_bought_at(T0 + dt.timedelta(minutes=i))
        form["summary"]["totalToPay"] = {"amount": amount, "currency": currency}
        order = ingest(channel, form)
        assert (order.currency, order.total_to_pay) == (currency, Decimal(amount))
        made.append((currency, Decimal(amount), order.pk, order.number))
    return made


def _expected(made, descending):
    ordered = sorted(made, key=lambda m: (m[0], m[1], m[2]), reverse=descending)
    return [m[3] for m in ordered]


@pytest.mark.parametrize("sort,descending", [("-total", True), ("total", False)])
def test_sort_by_total_keeps_currencies_apart(staff_client, tenant, currencies, sort, descending):
    response = staff_client.get(list_url(tenant, tab="all", sort=sort))
    assert numbers_on(response) == _expected(currencies, descending)
    shown = [(o.currency, o.total_to_pay) for o in response.context["page"].orders]
    if descending:
        assert shown[:4] == [
            ("PLN", Decimal("1012.82")),
            ("PLN", Decimal("1012.82")),
            ("PLN", Decimal("50.00")),
            ("PLN", Decimal("50.00")),
        ]
        assert shown[-1] == ("CZK", Decimal("10.00"))
    html = response.content.decode()
    assert "sorting by total groups the orders by currency code, then by amount" in html


@pytest.mark.parametrize("size", [1, 2, 3, 4])
@pytest.mark.parametrize("sort", ["-total", "total"])
def test_total_keyset_pages_cross_ties_and_currencies_forward_and_back(
    tenant, currencies, sort, size
):
    from orders import queries

    descending = sort == "-total"
    expected = _expected(currencies, descending)
    with in_scope(tenant):
        statuses = queries.statuses_with_counts(tenant)
        qs = queries.filtered_orders(tenant, queries.OrderFilters(tab=queries.Tab.ALL), statuses)
        order_sort = queries.Sort(sort)
        pages, cursor = [], None
        while True:
            page = queries.page_of(qs, order_sort, cursor, size=size)
            pages.append([o.number for o in page.orders])
            if page.next_cursor is None:
                break
            cursor = queries.Cursor.decode(page.next_cursor, order_sort)
        assert [n for p in pages for n in p] == expected
        assert all(len(p) == size for p in pages[:-1])
        # And back from the last page to the first.
        back = [pages[-1]]
        cursor = queries.Cursor.decode(page.prev_cursor, order_sort) if page.prev_cursor else None
        while cursor is not None:
            page = queries.page_of(qs, order_sort, cursor, size=size)
            back.append([o.number for o in page.orders])
            cursor = (
                queries.Cursor.decode(page.prev_cursor, order_sort) if page.prev_cursor else None
            )
    assert list(reversed(back)) == pages


def test_total_sort_pages_through_the_list_view(staff_client, tenant, channel):
    forms = []
    for i in range(60):
        form = form_bought_at(T0 + dt.timedelta(minutes=i))
        currency = "CZK" if i % 3 == 0 else "PLN"
        form["summary"]["totalToPay"] = {"amount": str(100 + i % 7), "currency": currency}
        forms.append(form)
    upsert_orders_from_checkout_forms(channel, forms)
    with in_scope(tenant):
        expected = list(
            Order.objects.order_by("-currency", "-total_to_pay", "-id").values_list(
                "number", flat=True
            )
        )
    first = staff_client.get(list_url(tenant, tab="all", sort="-total"))
    assert numbers_on(first) == expected[:50]
    second = staff_client.get(list_url(tenant) + "?" + first.context["next_query"])
    assert numbers_on(second) == expected[50:]
    back = staff_client.get(list_url(tenant) + "?" + second.context["prev_query"])
    assert numbers_on(back) == expected[:50]


def test_a_search_for_a_mixed_word_needs_no_other_tenants_orders(
    staff_client, tenant, other_tenant, other_channel, wojcik
):
    theirs = checkout_form()
    theirs["delivery"]["address"]["city"] = "Łódź"
    upsert_order_from_checkout_form(other_channel, theirs)
    assert numbers_on(staff_client.get(list_url(tenant, tab="all", q="lodz"))) == [wojcik.number]
    channel_of(tenant, "XY")  # a second channel of ours changes nothing
    assert numbers_on(staff_client.get(list_url(tenant, tab="all", q="lodz"))) == [wojcik.number]


def test_the_migration_rebuilds_search_text_and_tracking_numbers(
    tenant, staff_user, wojcik, kowalski
):
    import importlib

    from django.apps import apps
    from django_scopes import scopes_disabled

    _add_shipment(wojcik, "AB1234567PL", staff_user)
    with in_scope(tenant):
        made = {o.pk: (o.search_text, o.tracking_numbers) for o in Order.objects.all()}
    with scopes_disabled():
        Order.objects.update(search_text="", tracking_numbers="")
    migration = importlib.import_module("orders.migrations.0006_order_search_tracking_unpaid")
    migration.rebuild_search_text(apps, None)
    with in_scope(tenant):
        rebuilt = {o.pk: (o.search_text, o.tracking_numbers) for o in Order.objects.all()}
    assert rebuilt == made
    assert made[wojcik.pk][1] == "ab1234567pl"
