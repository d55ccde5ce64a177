"""The customer zone: `/o/<token>` shows the buyer one order and nothing of staff data; any
other token, a switched-off zone or a token built for another company is a plain 404."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from channels.models import SalesChannel
from notifications import customer_zone
from notifications.models import CustomerZoneLink
from orders.models import OrderStatus
from tests.notifications.template_helpers import import_form
from tests.support.channels import channel_of

pytestmark = pytest.mark.django_db


def _zone_path(order) -> str:
    with scope(tenant=order.tenant):
        url = customer_zone.url_for(order)
    assert url.startswith("http")
    return url[url.index("/o/") :]


def test_a_new_order_of_a_zone_channel_gets_a_link_stored_as_a_hash(tenant, shop):
    order = import_form(shop)
    with scopes_disabled():
        link = CustomerZoneLink.objects.get(order_id=order.pk)
    path = _zone_path(order)
    token = path.removeprefix("/o/")
    assert len(token) == 43  # 256 bits, URL-safe base64
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (link.nonce, link.token_hash)


def test_the_page_shows_the_buyers_facts_in_their_language_and_no_staff_data(client, tenant, shop):
    with scope(tenant=tenant):
        OrderStatus.objects.filter(tenant=tenant, system_code="new").update(
            name="Nowe (magazyn B)", buyer_name="Przyjęte do realizacji"
        )
    order = import_form(shop)
    response = client.get(_zone_path(order))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="pl">' in page  # buyer.preferences.language is pl-PL
    assert f"Zamówienie {order.number}" in page
    assert "Name of purchased offer" in page
    assert "123,45 PLN" in page  # Polish number format
    assert "Przyjęte do realizacji" in page
    assert "Allegro Paczkomaty InPost" in page
    # Staff data never: the internal status name, the buyer's phone and e-mail, the Allegro id.
    for staff in ("Nowe (magazyn B)", "123123123", "jan.kowalski@example.com", order.external_id):
        assert staff not in page
    assert "<script" not in page  # works without JavaScript
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_an_english_buyer_gets_the_page_in_english(client, tenant, shop):
    from tests.support.orders import checkout_form

    buyer = checkout_form()["buyer"] | {"preferences": {"language": "en-US"}}
    order = import_form(shop, buyer=buyer)
    page = client.get(_zone_path(order)).content.decode()
    assert '<html lang="en">' in page
    assert f"Order {order.number}" in page


def test_guessed_and_altered_tokens_are_a_plain_404(client, tenant, shop):
    order = import_form(shop)
    token = _zone_path(order).removeprefix("/o/")
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    guesses = [altered, token[:-1], token + "A", "", "x" * 43, token.upper()]
    guesses += [secrets.token_urlsafe(32) for _ in range(200)]
    for guess in guesses:
        if guess == token:
            continue
        response = client.get(f"/o/{guess}")
        assert response.status_code == 404, guess
        assert order.number not in response.content.decode()


def test_a_token_built_for_another_companys_order_id_is_a_404(client, tenant, other_tenant, shop):
    order = import_form(shop)
    with scopes_disabled():
        link = CustomerZoneLink.objects.get(order_id=order.pk)
    # Whoever knows the nonce and the order id but names another company gets nothing: the
    # tenant is part of what the token signs.
    forged = CustomerZoneLink(tenant_id=other_tenant.pk, order_id=order.pk, nonce=link.nonce)
    assert client.get(f"/o/{customer_zone._token(forged)}").status_code == 404


def test_another_companys_link_opens_only_its_own_order(client, tenant, other_tenant, shop):
    mine = import_form(shop)
    theirs_channel = channel_of(other_tenant, "BE", "Allegro Beta")
    with scope(tenant=other_tenant):
        SalesChannel.objects.filter(pk=theirs_channel.pk).update(customer_zone=True)
        theirs_channel.refresh_from_db()
    theirs = import_form(theirs_channel)
    page = client.get(_zone_path(theirs)).content.decode()
    assert theirs.number in page and mine.number not in page


def test_switching_the_zone_off_closes_the_page(client, tenant, shop):
    order = import_form(shop)
    path = _zone_path(order)
    with scope(tenant=tenant):
        SalesChannel.objects.filter(pk=shop.pk).update(customer_zone=False)
    assert client.get(path).status_code == 404


def test_the_order_page_shows_the_link(client, tenant, admin_user, shop):
    order = import_form(shop)
    client.force_login(admin_user)
    page = client.get(
        reverse("orders:detail", kwargs={"tenant_slug": tenant.slug, "order_id": order.pk})
    ).content.decode()
    assert f'href="http://127.0.0.1:8000{_zone_path(order)}" data-field="customer-zone-url"' in page


def test_the_link_is_a_variable_of_customer_mails(tenant, shop, template_set):
    from tests.notifications.template_helpers import mails
    from tests.support.notifications import template_of

    template_of(tenant, template_set, body_text="Twoje zamówienie: {order.customer_zone_url}")
    order = import_form(shop)
    [row] = mails(order_id=order.pk)
    assert row.text == f"Twoje zamówienie: http://127.0.0.1:8000{_zone_path(order)}"
