"""Our 403, 404, CSRF-failure and 500 pages, with DEBUG off as in production: in the user's
language (Polish by default), inside the layout where the user is known, with a way back."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tests.core import error_urls
from tests.support.orders import order_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_reset():
    """A Polish request leaves Polish active in this thread: later tests expect the default."""
    yield
    translation.deactivate()


def polish_client(user=None, **kwargs) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="pl", **kwargs)
    if user is not None:
        client.force_login(user)
    return client


def heading(response) -> str:
    [h1] = re.findall(r"<h1>(.*?)</h1>", response.content.decode())
    return h1


def links(response) -> list[tuple[str, str]]:
    """(href, text) of the page's buttons: the ways back."""
    return re.findall(
        r'<a class="button[^"]*" href="([^"]+)">([^<]+)</a>', response.content.decode()
    )


def without_tokens(response) -> str:
    """The page without its per-response CSRF tokens and the language form's return address
    (the address asked for)."""
    html = response.content.decode().replace(response.wsgi_request.path, "")
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


def test_debug_is_off():
    assert settings.DEBUG is False


def test_a_missing_order_answers_our_404_inside_the_layout(tenant, staff_user):
    response = polish_client(staff_user).get(reverse("orders:detail", args=[tenant.slug, 999999]))
    assert response.status_code == 404
    assert heading(response) == "Nie znaleziono strony"
    assert '<html lang="pl">' in response.content.decode()
    assert links(response) == [
        ("/app/alfa/orders/", "Wróć do zamówień firmy Sklep Alfa"),
        ("/app/alfa/", "Pulpit"),
    ]
    assert 'class="mainnav"' in response.content.decode()  # the navigation is there


def test_another_companys_order_answers_exactly_like_a_missing_one(
    tenant, other_tenant, staff_user
):
    foreign = order_of(other_tenant)
    client = polish_client(staff_user)
    theirs = client.get(reverse("orders:detail", args=[tenant.slug, foreign.pk]))
    missing = client.get(reverse("orders:detail", args=[tenant.slug, foreign.pk + 1000]))
    assert (theirs.status_code, missing.status_code) == (404, 404)
    assert without_tokens(theirs) == without_tokens(missing)
    assert heading(theirs) == "Nie znaleziono strony"


def test_another_companys_pages_answer_exactly_like_a_missing_company(
    tenant, other_tenant, staff_user
):
    client = polish_client(staff_user)
    theirs = client.get(f"/app/{other_tenant.slug}/orders/")
    missing = client.get("/app/no-such-company/orders/")
    assert (theirs.status_code, missing.status_code) == (404, 404)
    assert without_tokens(theirs) == without_tokens(missing)
    assert heading(theirs) == "Nie znaleziono strony"
    assert links(theirs) == [("/", "Przejdź do strony startowej")]
    assert "Sklep Beta" not in theirs.content.decode()


def test_an_unknown_address_answers_our_404_to_a_visitor(db):
    response = polish_client().get("/no-such-page/")
    assert response.status_code == 404
    assert heading(response) == "Nie znaleziono strony"
    assert links(response) == [("/", "Przejdź do strony startowej")]


def test_english_users_get_the_404_in_english(tenant, staff_user):
    client = polish_client(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get(reverse("orders:detail", args=[tenant.slug, 999999]))
    assert response.status_code == 404
    assert heading(response) == "Page not found"


def test_a_user_outside_administracja_gets_our_403(tenant, staff_user):
    response = polish_client(staff_user).get(f"/app/{tenant.slug}/administration/statuses/")
    assert response.status_code == 403
    assert heading(response) == "Brak dostępu"
    assert links(response) == [
        ("/app/alfa/orders/", "Wróć do zamówień firmy Sklep Alfa"),
        ("/app/alfa/", "Pulpit"),
    ]


def test_a_form_without_its_csrf_token_gets_our_page(tenant, staff_user):
    client = polish_client(staff_user, enforce_csrf_checks=True)
    order = order_of(tenant)
    response = client.post(reverse("orders:change_status", args=[tenant.slug, order.pk]), {})
    assert response.status_code == 403
    assert heading(response) == "Formularz wygasł"
    assert links(response) == [
        ("/app/alfa/orders/", "Wróć do zamówień firmy Sklep Alfa"),
        ("/app/alfa/", "Pulpit"),
    ]
    assert "Przeglądarka musi akceptować ciasteczka z tej strony." in response.content.decode()


@override_settings(ROOT_URLCONF="tests.core.error_urls")
def test_the_500_page_renders_while_the_database_is_down(db):
    refused: list[str] = []

    def database_down(execute, sql, params, many, context):
        refused.append(sql)
        raise OperationalError("could not connect to server")

    client = polish_client(raise_request_exception=False)
    with connection.execute_wrapper(database_down):
        response = client.get("/boom/")
    assert response.status_code == 500
    assert len(refused) == 1  # the page's own query; the error page asked for nothing
    assert heading(response) == "Coś poszło nie tak po naszej stronie"
    assert '<html lang="pl">' in response.content.decode()
    assert links(response) == [("/", "Przejdź do strony startowej")]


@override_settings(ROOT_URLCONF="tests.core.error_urls")
def test_the_500_page_of_a_company_links_back_to_its_orders(tenant, staff_user):
    client = polish_client(staff_user, raise_request_exception=False)
    error_urls.QUERIES_WHEN_FAILED.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/app/{tenant.slug}/boom/")
    assert response.status_code == 500
    assert [len(queries.captured_queries)] == error_urls.QUERIES_WHEN_FAILED  # none after
    assert heading(response) == "Coś poszło nie tak po naszej stronie"
    assert links(response) == [
        ("/app/alfa/orders/", "Wróć do zamówień"),
        ("/", "Przejdź do strony startowej"),
    ]
