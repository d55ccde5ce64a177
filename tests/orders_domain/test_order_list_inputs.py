"""Whatever a query string holds, the order list and its live rows answer with the page (200) and,
for a value they cannot use, a message saying which filter was ignored: never a server error."""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.ingest import upsert_orders_from_checkout_forms
from orders.queries import Cursor, Sort
from tests.support.orders import form_bought_at

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def cursor_of(*payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(payload)).encode()).decode().rstrip("=")


@pytest.fixture
def orders(channel):
    upsert_orders_from_checkout_forms(
        channel, [form_bought_at(T0 + dt.timedelta(minutes=i)) for i in range(3)]
    )


def warnings_on(response) -> list[str]:
    return [str(e) for errors in response.context["form"].errors.values() for e in errors]


@pytest.mark.parametrize("endpoint", ["orders:list", "orders:rows"])
@pytest.mark.parametrize("name", ["bought_from", "bought_to", "imported_from", "imported_to"])
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01"])
def test_a_date_out_of_range_is_a_message_and_the_filter_is_ignored(
    staff_client, tenant, orders, endpoint, name, value
):
    url = reverse(endpoint, args=[tenant.slug]) + "?" + urlencode({"tab": "all", name: value})
    response = staff_client.get(url)
    assert response.status_code == 200
    assert len(response.context["page"].orders) == 3
    label = {
        "bought_from": "Bought from",
        "bought_to": "Bought to",
        "imported_from": "Imported from",
        "imported_to": "Imported to",
    }[name]
    assert warnings_on(response) == [
        f"“{label}”: enter a date between 1 Jan 2000 and 31 Dec 2099; this filter was ignored."
    ]
    assert name not in response.context["query"]


def test_the_last_and_first_accepted_days_work(staff_client, tenant, orders):
    get = lambda **p: staff_client.get(  # noqa: E731
        reverse("orders:list", args=[tenant.slug]) + "?" + urlencode({"tab": "all", **p})
    )
    response = get(bought_from="2000-01-01", bought_to="2099-12-31")
    assert warnings_on(response) == []
    assert len(response.context["page"].orders) == 3
    page = get(imported_to="2099-12-31").content.decode()
    assert 'max="2099-12-31"' in page and 'min="2000-01-01"' in page


def test_a_malformed_date_says_so(staff_client, tenant, orders):
    url = reverse("orders:list", args=[tenant.slug]) + "?bought_to=31.02.2026"
    response = staff_client.get(url)
    assert response.status_code == 200
    assert warnings_on(response) == ["Enter a valid date; this date filter was ignored."]
    polish = staff_client.get(url, HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert "Wpisz poprawną datę; ten filtr daty pominięto." in polish


@pytest.mark.parametrize(
    "sort,payload",
    [
        ("-total", ["-total", "1e999999", 5, 0, "PLN"]),
        ("total", ["total", "-1e999999", 5, 1, "PLN"]),
        ("-total", ["-total", "99999999999.99", 5, 0, "PLN"]),
        ("-total", ["-total", "NaN", 5, 0, "PLN"]),
        ("-total", ["-total", "10.00", 2**70, 0, "PLN"]),
        ("-total", ["-total", "10.00", -3, 0, "PLN"]),
        ("-total", ["-total", "10.00", 5, 0, "PLNX"]),
        ("-total", ["-total", "10.00", 5, 0]),
        ("-bought", ["-bought", "0001-01-01T00:00:00+01:00", 5, 0, ""]),
        ("-bought", ["-bought", "9999-12-31T23:59:59-01:00", 5, 0, ""]),
        ("-bought", ["-bought", 12, 5, 0, ""]),
    ],
)
def test_a_cursor_out_of_range_is_the_first_page(staff_client, tenant, orders, sort, payload):
    assert Cursor.decode(cursor_of(*payload), Sort(sort)) is None
    for endpoint in ("orders:list", "orders:rows"):
        url = reverse(endpoint, args=[tenant.slug])
        response = staff_client.get(
            url + "?" + urlencode({"tab": "all", "sort": sort, "cursor": cursor_of(*payload)})
        )
        assert response.status_code == 200
        assert len(response.context["page"].orders) == 3


def test_a_tampered_total_is_rounded_to_a_stored_amount():
    cursor = Cursor.decode(cursor_of("-total", "12.345678", 5, 0, "PLN"), Sort.TOTAL_DESC)
    assert (str(cursor.value), cursor.id, cursor.group) == ("12.35", 5, "PLN")
    tiny = Cursor.decode(cursor_of("-total", "1e-999999", 5, 0, "PLN"), Sort.TOTAL_DESC)
    assert str(tiny.value) == "0.00"


def test_a_selection_of_odd_digits_is_ignored(staff_client, tenant, orders):
    url = (
        reverse("orders:rows", args=[tenant.slug])
        + "?"
        + urlencode([("order_ids", "²"), ("order_ids", "٣"), ("order_ids", "7")])
    )
    response = staff_client.get(url)
    assert response.status_code == 200
    assert response.context["selected"] == {7}


# --- Fuzz: every parameter of both endpoints ----------------------------------------------------

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "0", "-1", "1e999999", "9" * 30, "null", "%", "\x00", "2026-02-30"]),
)
dates = st.one_of(
    texts,
    st.dates().map(dt.date.isoformat),
    st.sampled_from(["9999-12-31", "0001-01-01", "+10000-01-01"]),
)
numbers = st.one_of(texts, st.integers().map(str))
raw_cursors = st.one_of(
    texts,
    st.tuples(
        st.one_of(st.sampled_from([s.value for s in Sort]), texts),
        st.one_of(
            texts,
            st.decimals(allow_nan=True, allow_infinity=True).map(str),
            st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
            st.integers(),
        ),
        st.one_of(st.integers(), texts),
        st.one_of(st.integers(), st.booleans()),
        st.one_of(texts, st.sampled_from(["PLN", "CZK", ""])),
    ).map(lambda t: cursor_of(*t)),
)
params = st.fixed_dictionaries(
    {},
    optional={
        "tab": st.one_of(texts, st.sampled_from(["new", "unpaid", "all", "completed"])),
        "q": texts,
        "status": numbers,
        "payment_status": st.one_of(texts, st.sampled_from(["none", "partial", "paid"])),
        "channel": numbers,
        "delivery_method": texts,
        "bought_from": dates,
        "bought_to": dates,
        "imported_from": dates,
        "imported_to": dates,
        "sort": st.one_of(texts, st.sampled_from([s.value for s in Sort])),
        "cursor": raw_cursors,
        "order_ids": st.lists(numbers, max_size=3),
    },
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=params, rows=st.booleans())
def test_no_query_string_makes_a_server_error(staff_client, tenant, orders, query, rows):
    pairs = []
    for key, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item.replace("\x00", "\\x00") if key == "cursor" else item))
    endpoint = "orders:rows" if rows else "orders:list"
    url = reverse(endpoint, args=[tenant.slug]) + "?" + urlencode(pairs)
    response = staff_client.get(url)
    assert response.status_code == 200, (url, response.status_code)
