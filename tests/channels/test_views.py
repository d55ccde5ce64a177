"""Administracja → Kanały sprzedaży: list, the form with every option, edit, deactivate, delete
after asking, roles and tenant isolation."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from channels.models import AllegroCredential, ConnectionState, SalesChannel
from orders.ingest import upsert_order_from_checkout_form
from tests.channels.helpers import CHANNEL, SELLER_LOGIN, SELLER_PASSWORD, messages_of
from tests.support.channels import make_channel
from tests.support.connect import authorize
from tests.support.orders import checkout_form

pytestmark = pytest.mark.django_db

LIST = "/app/alfa/administration/channels/"
ADD = "/app/alfa/administration/channels/add/"

VALID = {
    "name": "Allegro – główne konto",
    "alias": "al",
    "allegro_login": SELLER_LOGIN,
    "pass_shipment_info": "on",
    "customer_zone": "on",
    "seller_notification_email": "zamowienia@alfa.example",
    "default_shipment_comment": "Zamówienie {order.number} – {buyer.login}",
    "allegro_environment": "local",
    "backfill_days": "14",
}


def channels_of(tenant) -> list[tuple]:
    with scope(tenant=tenant):
        return list(
            SalesChannel.objects.order_by("pk").values_list(
                "name", "alias", "allegro_login", "allegro_environment", "connection_state"
            )
        )


def errors_of(response) -> dict[str, list[str]]:
    return {name: list(errs) for name, errs in response.context["form"].errors.items()}


def test_urls_resolve_as_documented(tenant):
    assert reverse("administration:channels:list", kwargs={"tenant_slug": "alfa"}) == LIST
    assert reverse("allegro_callback") == "/channels/allegro/callback/"


def test_the_nav_links_the_list_for_administrators_only(client, admin_user, staff_user, allegro):
    client.force_login(admin_user)
    assert f'href="{LIST}"'.encode() in client.get("/app/alfa/").content
    client.force_login(staff_user)
    assert f'href="{LIST}"'.encode() not in client.get("/app/alfa/").content
    assert client.get(LIST).status_code == 403
    assert client.get(ADD).status_code == 403


def test_adding_a_channel_stores_every_option(admin_client, tenant, allegro):
    page = admin_client.get(ADD)
    assert page.status_code == 200
    form = page.context["form"]
    assert list(form.fields) == [
        "name", "alias", "allegro_login", "pass_shipment_info", "customer_zone", "template_set",
        "mailbox", "seller_notification_email", "default_shipment_comment", "allegro_environment",
        "backfill_days",
    ]  # fmt: skip
    # Only environments with a client id are offered.
    assert form.fields["allegro_environment"].choices == [
        ("local", "Allegro simulator on this server (for trying out)")
    ]
    assert form.fields["backfill_days"].initial == 30
    response = admin_client.post(ADD, VALID)
    with scope(tenant=tenant):
        channel = SalesChannel.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}{channel.pk}/"
    assert (
        channel.name,
        channel.alias,
        channel.allegro_login,
        channel.pass_shipment_info,
        channel.customer_zone,
        channel.seller_notification_email,
        channel.default_shipment_comment,
        channel.allegro_environment,
        channel.backfill_days,
        channel.is_active,
        channel.connection_state,
        channel.kind,
    ) == (
        "Allegro – główne konto", "AL", SELLER_LOGIN, True, True, "zamowienia@alfa.example",
        "Zamówienie {order.number} – {buyer.login}", "local", 14, True, "not_connected",
        "allegro",
    )  # fmt: skip
    detail = admin_client.get(response["Location"])
    assert messages_of(detail) == [
        "The sales channel was saved. Now click “Authorize” to connect it to Allegro."
    ]
    assert b'data-action="authorize">Authorize</button>' in detail.content
    # CSP lets the Authorize form go to the environment's auth host, and only there.
    csp = detail["Content-Security-Policy"]
    assert f"form-action 'self' {allegro.sandbox.base_url}" in csp


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("A", "The alias must be exactly two letters A–Z, for example AL."),
        ("ABC", "The alias must be exactly two letters A–Z, for example AL."),
        ("1A", "The alias must be exactly two letters A–Z, for example AL."),
        ("Ł1", "The alias must be exactly two letters A–Z, for example AL."),
        ("ŁÓ", "The alias must be exactly two letters A–Z, for example AL."),
        ("", "Enter a two-letter alias, e.g. AL."),
    ],
)
def test_a_wrong_alias_is_refused(admin_client, tenant, allegro, alias, message):
    response = admin_client.post(ADD, {**VALID, "alias": alias})
    assert response.status_code == 200
    assert errors_of(response) == {"alias": [message]}
    assert channels_of(tenant) == []


def test_a_duplicate_alias_is_refused_in_the_tenant_but_not_across_tenants(
    admin_client, tenant, other_tenant, allegro
):
    make_channel(other_tenant, CHANNEL, alias="AL")  # another company may use AL
    admin_client.post(ADD, VALID)
    response = admin_client.post(ADD, {**VALID, "name": "Drugie", "alias": "aL"})
    assert errors_of(response) == {
        "alias": ["Another sales channel already uses the alias AL. Choose other letters."]
    }
    assert [row[:2] for row in channels_of(tenant)] == [("Allegro – główne konto", "AL")]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("backfill_days", "366", "Enter a number of days from 0 to 365."),
        ("backfill_days", "-1", "Enter a number of days from 0 to 365."),
        ("seller_notification_email", "nie-email", "Enter a valid e-mail address."),
        ("allegro_environment", "production",
         "Select a valid choice. production is not one of the available choices."),
        ("default_shipment_comment", "Nr {order.__class__}",
         "“{order.__class__}” reaches into a variable. Only the names listed next to the "
         "field can be used, e.g. {order.number}."),
        ("default_shipment_comment", "Nr {order.secret}",
         "Unknown variable {order.secret}. Use only the variables listed below the field."),
        ("name", "", "Give the channel a name, e.g. “Allegro – main account”."),
        ("allegro_login", "", "Enter the login of the Allegro account."),
    ],
)  # fmt: skip
def test_the_form_says_what_is_wrong(admin_client, tenant, allegro, field, value, message):
    response = admin_client.post(ADD, {**VALID, field: value})
    assert errors_of(response) == {field: [message]}
    assert channels_of(tenant) == []


def test_editing_a_connected_channel_keeps_the_authorization(admin_client, channel, allegro):
    authorize(admin_client, channel, SELLER_PASSWORD)
    url = f"{LIST}{channel.pk}/edit/"
    page = admin_client.get(url)
    assert page.context["form"].fields["allegro_login"].disabled
    response = admin_client.post(
        url,
        {**VALID, "name": "Nowa nazwa", "alias": "NN", "allegro_login": "ktos-inny",
         "backfill_days": "7"},
    )  # fmt: skip
    assert response.status_code == 302
    with scope(tenant=channel.tenant):
        fresh = SalesChannel.objects.get(pk=channel.pk)
        assert AllegroCredential.objects.filter(channel=channel).count() == 1
    assert (fresh.name, fresh.alias, fresh.allegro_login, fresh.backfill_days) == (
        "Nowa nazwa", "NN", SELLER_LOGIN, 7
    )  # fmt: skip
    assert fresh.connection_state == ConnectionState.CONNECTED
    assert allegro.token_calls()["calls"] == {"authorization_code": 1}


def test_changing_the_environment_needs_a_new_authorization(
    admin_client, channel, allegro, settings
):
    authorize(admin_client, channel, SELLER_PASSWORD)
    settings.ALLEGRO_ENVIRONMENTS = {
        **settings.ALLEGRO_ENVIRONMENTS,
        "sandbox": {**settings.ALLEGRO_ENVIRONMENTS["local"]},
    }
    response = admin_client.post(
        f"{LIST}{channel.pk}/edit/", {**VALID, "allegro_environment": "sandbox"}, follow=True
    )
    assert messages_of(response) == [
        "The Allegro environment changed, so the channel must be authorized again: click "
        "“Authorize”."
    ]
    with scope(tenant=channel.tenant):
        fresh = SalesChannel.objects.get(pk=channel.pk)
        assert not AllegroCredential.objects.filter(channel=channel).exists()
    assert (fresh.allegro_environment, fresh.connection_state, fresh.connected_seller_id) == (
        "sandbox", ConnectionState.NOT_CONNECTED, ""
    )  # fmt: skip


def test_the_list_shows_name_alias_login_state_and_last_contact(admin_client, channel, allegro):
    make_channel(channel.tenant, CHANNEL, name="Drugie konto", alias="DK", allegro_login="drugi")
    authorize(admin_client, channel, SELLER_PASSWORD)
    page = admin_client.get(LIST).content.decode()
    assert "Allegro – główne konto" in page and "Drugie konto" in page
    assert '<span class="badge ok">Connected</span>' in page
    assert '<span class="badge warn">Not connected</span>' in page
    assert '<span class="muted">never</span>' in page  # the second was never contacted


def test_another_tenants_channel_is_a_404_everywhere(admin_client, other_tenant, allegro):
    theirs = make_channel(other_tenant, CHANNEL, alias="XX")
    for suffix in ("", "edit/"):
        assert admin_client.get(f"{LIST}{theirs.pk}/{suffix}").status_code == 404
    for action in ("authorize", "deactivate", "activate", "delete"):
        assert admin_client.post(f"{LIST}{theirs.pk}/{action}/").status_code == 404
    with scope(tenant=other_tenant):
        fresh = SalesChannel.objects.get(pk=theirs.pk)
    assert (fresh.is_active, fresh.connection_state) == (True, "not_connected")


def test_deactivating_stops_polling_and_activating_restores_it(admin_client, channel, allegro):
    authorize(admin_client, channel, SELLER_PASSWORD)
    with scope(tenant=channel.tenant):
        assert list(SalesChannel.objects.pollable()) == [channel]
    admin_client.post(f"{LIST}{channel.pk}/deactivate/")
    with scope(tenant=channel.tenant):
        assert list(SalesChannel.objects.pollable()) == []
    admin_client.post(f"{LIST}{channel.pk}/activate/")
    with scope(tenant=channel.tenant):
        assert list(SalesChannel.objects.pollable()) == [channel]


def test_a_channel_without_orders_is_deleted(admin_client, channel, allegro):
    authorize(admin_client, channel, SELLER_PASSWORD)
    response = admin_client.post(f"{LIST}{channel.pk}/delete/", follow=True)
    assert messages_of(response) == ["The sales channel was deleted."]
    assert channels_of(channel.tenant) == []
    with scope(tenant=channel.tenant):
        assert AllegroCredential.objects.count() == 0


def test_a_channel_with_orders_is_deactivated_never_deleted(admin_client, channel, allegro):
    from orders.models import Order

    order = _an_order(channel)
    response = admin_client.post(f"{LIST}{channel.pk}/delete/", follow=True)
    assert messages_of(response) == [
        "The sales channel has orders, so it was deactivated instead of deleted: its orders "
        "stay in apilo."
    ]
    with scope(tenant=channel.tenant):
        fresh = SalesChannel.objects.get(pk=channel.pk)
        assert Order.objects.filter(pk=order.pk).exists()
    assert fresh.is_active is False


def _an_order(channel: SalesChannel):
    """A minimal order row of the channel (the order import has its own tests)."""
    from django.utils import timezone

    from orders.models import Order, OrderStatus

    with scope(tenant=channel.tenant):
        status = OrderStatus.objects.order_by("position").first()
        fields = {f.name for f in Order._meta.concrete_fields}
        data = {"tenant": channel.tenant, "channel": channel, "status": status}
        defaults = {
            "external_id": "29d4e3f0-0000-11ef-8000-000000000001",
            "number": "AL2611000001",
            "bought_at": timezone.now(),
        }
        data.update({k: v for k, v in defaults.items() if k in fields})
        for f in Order._meta.concrete_fields:  # any other required timestamp
            required = not f.null and not f.has_default() and not getattr(f, "auto_now_add", 0)
            if f.get_internal_type() == "DateTimeField" and required and f.name not in data:
                data[f.name] = timezone.now()
        return Order.objects.create(**data)


# --- Deleting asks first, and offers only what can happen -------------------------------------


class _Actions(HTMLParser):
    """The forms (action, method, CSRF token?, button) and button-links of one section."""

    def __init__(self, section_id: str) -> None:
        super().__init__()
        self.section_id = section_id
        self.depth = 0  # <section> nesting inside the wanted one; 0 = outside
        self.found: list[tuple] = []
        self._form: dict | None = None
        self._text: list[str] | None = None
        self._link: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and (self.depth or a.get("id") == self.section_id):
            self.depth += 1
        if not self.depth:
            return
        if tag == "form":
            self._form = {"action": a.get("action"), "method": a.get("method"), "csrf": False}
        elif tag == "input" and a.get("name") == "csrfmiddlewaretoken" and self._form:
            self._form["csrf"] = bool(a.get("value"))
        elif tag == "button" or (tag == "a" and "button" in (a.get("class") or "").split()):
            self._text, self._link = [], a.get("href") if tag == "a" else None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag in ("button", "a") and self._text is not None:
            text = "".join(self._text).strip()
            if self._link is not None:
                self.found.append(("link", self._link, text))
            else:
                form = self._form or {}
                self.found.append(
                    ("form", form.get("action"), form.get("method"), form.get("csrf"), text)
                )
            self._text = self._link = None
        elif tag == "form":
            self._form = None
        elif tag == "section":
            self.depth -= 1


def actions_of(response, section_id: str) -> list[tuple]:
    parser = _Actions(section_id)
    parser.feed(response.content.decode())
    return parser.found


def field_text(response, name: str) -> str:
    [text] = re.findall(rf'data-field="{name}">(.*?)</', response.content.decode(), flags=re.DOTALL)
    return " ".join(text.split())


def import_orders(channel: SalesChannel, count: int) -> None:
    """`count` orders of the channel, imported from checkout forms like any other."""
    for _ in range(count):
        result = upsert_order_from_checkout_form(channel, checkout_form())
        assert result.ok, result.error


def orders_of(channel: SalesChannel) -> int:
    from orders.models import Order

    with scope(tenant=channel.tenant):
        return Order.objects.filter(channel_id=channel.pk).count()


def test_the_detail_page_offers_deactivate_and_delete_once_each(admin_client, channel, allegro):
    page = admin_client.get(f"{LIST}{channel.pk}/")
    assert actions_of(page, "settings") == [
        ("link", f"{LIST}{channel.pk}/edit/", "Edit"),
        ("form", f"{LIST}{channel.pk}/deactivate/", "post", True, "Deactivate"),
        ("link", f"{LIST}{channel.pk}/delete/", "Delete…"),
    ]
    assert b"Deactivate (has orders)" not in page.content


def test_with_orders_the_detail_page_offers_no_delete_and_says_why(admin_client, channel, allegro):
    import_orders(channel, 3)
    page = admin_client.get(f"{LIST}{channel.pk}/")
    assert actions_of(page, "settings") == [
        ("link", f"{LIST}{channel.pk}/edit/", "Edit"),
        ("form", f"{LIST}{channel.pk}/deactivate/", "post", True, "Deactivate"),
    ]
    assert field_text(page, "why-no-delete") == (
        "This channel has 3 orders, so it cannot be deleted. To stop fetching orders, "
        "deactivate it: its orders stay in apilo."
    )
    admin_client.post(f"{LIST}{channel.pk}/deactivate/")
    page = admin_client.get(f"{LIST}{channel.pk}/")
    assert actions_of(page, "settings") == [
        ("link", f"{LIST}{channel.pk}/edit/", "Edit"),
        ("form", f"{LIST}{channel.pk}/activate/", "post", True, "Activate"),
    ]
    assert field_text(page, "why-no-delete") == (
        "This channel has 3 orders, so it cannot be deleted. It is inactive: no orders are "
        "fetched, and its orders stay in apilo."
    )


def test_delete_asks_first_naming_the_channel_and_its_orders(admin_client, channel, allegro):
    page = admin_client.get(f"{LIST}{channel.pk}/delete/")
    assert page.status_code == 200
    assert page.templates[0].name == "channels/delete.html"
    html = page.content.decode()
    assert "<h1>Delete the sales channel “Allegro – główne konto”?</h1>" in html
    assert field_text(page, "channel-name") == "Allegro – główne konto (AL)"
    assert field_text(page, "order-count") == "0"
    assert field_text(page, "outcome") == (
        "The channel has no orders, so it can be deleted: its settings and its Allegro "
        "authorization are removed and no orders are fetched for it any more. Nothing changes "
        "on the Allegro account itself. This cannot be undone."
    )
    assert actions_of(page, "deletion") == [
        ("form", f"{LIST}{channel.pk}/delete/", "post", True, "Delete the channel"),
        ("link", f"{LIST}{channel.pk}/", "Cancel"),
    ]
    # Asking changed nothing.
    assert channels_of(channel.tenant) == [
        ("Allegro – główne konto", "AL", SELLER_LOGIN, "local", "not_connected")
    ]


def test_with_orders_the_page_offers_deactivation_and_says_why(admin_client, channel, allegro):
    import_orders(channel, 3)
    page = admin_client.get(f"{LIST}{channel.pk}/delete/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>The sales channel “Allegro – główne konto” cannot be deleted</h1>" in html
    assert field_text(page, "order-count") == "3"
    assert field_text(page, "outcome") == (
        "It cannot be deleted while it has orders: its 3 orders would lose the channel they came "
        "from. The orders stay in apilo as they are."
    )
    assert actions_of(page, "deletion") == [
        ("form", f"{LIST}{channel.pk}/deactivate/", "post", True, "Deactivate"),
        ("link", f"{LIST}{channel.pk}/", "Cancel"),
    ]
    response = admin_client.post(f"{LIST}{channel.pk}/deactivate/", follow=True)
    assert messages_of(response) == [
        "The sales channel was deactivated: its orders are no longer fetched."
    ]
    with scope(tenant=channel.tenant):
        assert SalesChannel.objects.get(pk=channel.pk).is_active is False
    assert orders_of(channel) == 3
    # Inactive already: nothing left to offer but the way back.
    page = admin_client.get(f"{LIST}{channel.pk}/delete/")
    assert "It is already inactive: no orders are fetched from Allegro for it." in (
        page.content.decode()
    )
    assert actions_of(page, "deletion") == [("link", f"{LIST}{channel.pk}/", "Back to the channel")]


def test_the_seller_reads_the_count_in_polish(client, admin_user, channel, allegro):
    import_orders(channel, 2)
    client.force_login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "pl"
    page = client.get(f"{LIST}{channel.pk}/delete/")
    assert "<h1>Kanału sprzedaży „Allegro – główne konto” nie można usunąć</h1>" in (
        page.content.decode()
    )
    assert field_text(page, "outcome") == (
        "Nie można go usunąć, dopóki ma zamówienia: jego 2 zamówienia straciłyby kanał, z "
        "którego pochodzą. Zamówienia zostają w apilo bez zmian."
    )
    assert actions_of(page, "deletion")[0][-1] == "Dezaktywuj"
    import_orders(channel, 3)
    detail = client.get(f"{LIST}{channel.pk}/")
    assert field_text(detail, "why-no-delete") == (
        "Ten kanał ma 5 zamówień, więc nie można go usunąć. Aby przestać pobierać zamówienia, "
        "dezaktywuj go: jego zamówienia zostają w apilo."
    )


def test_confirming_deletes_the_channel(admin_client, channel, allegro):
    authorize(admin_client, channel, SELLER_PASSWORD)
    assert admin_client.get(f"{LIST}{channel.pk}/delete/").status_code == 200
    response = admin_client.post(f"{LIST}{channel.pk}/delete/", follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert messages_of(response) == ["The sales channel was deleted."]
    assert channels_of(channel.tenant) == []
    with scope(tenant=channel.tenant):
        assert AllegroCredential.objects.count() == 0


def test_orders_that_arrive_after_the_page_was_shown_keep_the_channel(
    admin_client, channel, allegro
):
    page = admin_client.get(f"{LIST}{channel.pk}/delete/")
    assert field_text(page, "order-count") == "0"  # deletion offered…
    import_orders(channel, 1)  # …and an order comes in before the seller confirms
    response = admin_client.post(f"{LIST}{channel.pk}/delete/", follow=True)
    assert response.redirect_chain == [(f"{LIST}{channel.pk}/", 302)]
    assert messages_of(response) == [
        "The sales channel has orders, so it was deactivated instead of deleted: its orders "
        "stay in apilo."
    ]
    with scope(tenant=channel.tenant):
        assert SalesChannel.objects.get(pk=channel.pk).is_active is False
    assert orders_of(channel) == 1


def test_another_tenants_channel_cannot_be_asked_about_or_deleted(
    admin_client, other_tenant, allegro
):
    theirs = make_channel(other_tenant, CHANNEL, alias="XX")
    assert admin_client.get(f"{LIST}{theirs.pk}/delete/").status_code == 404
    assert admin_client.post(f"{LIST}{theirs.pk}/delete/").status_code == 404
    with scope(tenant=other_tenant):
        assert SalesChannel.objects.get(pk=theirs.pk).is_active is True


def test_only_administrators_may_delete(client, staff_user, channel, allegro):
    url = f"{LIST}{channel.pk}/delete/"
    for method in ("get", "post"):  # anonymous: to the login page
        response = getattr(client, method)(url)
        assert (response.status_code, response["Location"]) == (
            302, f"/accounts/login/?next={url}"
        )  # fmt: skip
    client.force_login(staff_user)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert channels_of(channel.tenant) == [
        ("Allegro – główne konto", "AL", SELLER_LOGIN, "local", "not_connected")
    ]


def test_deleting_needs_the_forms_csrf_token(admin_user, channel, allegro):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    url = f"{LIST}{channel.pk}/delete/"
    assert client.post(url).status_code == 403
    assert channels_of(channel.tenant) == [
        ("Allegro – główne konto", "AL", SELLER_LOGIN, "local", "not_connected")
    ]
    page = client.get(url)
    assert actions_of(page, "deletion")[0] == ("form", url, "post", True, "Delete the channel")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = client.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert channels_of(channel.tenant) == []


def test_the_alias_field_carries_its_limit_and_the_hint_that_explains_it(
    admin_client, tenant, allegro
):
    html = admin_client.get(ADD).content.decode()
    assert re.search(r'<input type="text" name="alias"[^>]* maxlength="2"[^>]* id="id_alias"', html)
    assert (
        '<span class="helptext limit-hint" role="status" data-limit-hint-for="id_alias" '
        'data-message="Only two letters fit: the alias is exactly two letters A–Z, the start of '
        'every order number from this channel (e.g. AL2611000017)."></span>'
    ) in html
