"""Administracja → Kanały sprzedaży: list, the form with every option, edit, deactivate/delete,
roles and tenant isolation."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope

from channels.models import AllegroCredential, ConnectionState, SalesChannel
from tests.channels.helpers import CHANNEL, SELLER_LOGIN, SELLER_PASSWORD, messages_of
from tests.support.channels import make_channel
from tests.support.connect import authorize

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
        "name", "alias", "allegro_login", "pass_shipment_info", "customer_zone",
        "seller_notification_email", "default_shipment_comment", "allegro_environment",
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
