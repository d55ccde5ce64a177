"""The channel page's sender card (what the tasks stored; no Allegro call while it renders),
the "Konto e-mail" field, and core's mail hook failing loudly when no outbox is connected."""

from __future__ import annotations

import html
import re

import pytest
from django.core.checks import run_checks
from django_scopes import scope

from channels.models import AllegroCredential, SalesChannel
from core import mail as core_mail
from core.mail import MailNotRouted, PlatformMail, queue_platform_mail
from notifications import registration
from notifications.models import Mailbox
from tests.support.channels import make_channel

pytestmark = pytest.mark.django_db(transaction=True)


def words(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def page(admin_client, channel) -> str:
    return words(admin_client.get(f"/app/alfa/administration/channels/{channel.pk}/"))


def test_the_card_says_what_allegro_last_said(
    admin_client, tenant, connected_channel, mailbox_at, smtp_faulty
):
    box = mailbox_at(smtp_faulty("healthy"))
    with scope(tenant=tenant):
        SalesChannel.objects.filter(pk=connected_channel.pk).update(mailbox=box)
    text = page(admin_client, connected_channel)
    assert (
        "Customer e-mails are sent from the mailbox “Sklep”: sklep@alfa.example "
        "Not checked with Allegro yet."
    ) in text
    assert "E-mail account Sklep <sklep@alfa.example>" in text

    with scope(tenant=tenant):
        registration.refresh(connected_channel.pk)
    text = page(admin_client, connected_channel)
    assert "The address is not registered on this Allegro account" in text
    assert "Register this address in Allegro" in text

    with scope(tenant=tenant):
        registration.register(connected_channel.pk)
    text = page(admin_client, connected_channel)
    assert "The address is registered on this Allegro account" in text
    assert "Register this address in Allegro" not in text


def test_a_channel_authorized_without_the_profile_scopes_is_told_to_authorize_again(
    admin_client, tenant, connected_channel
):
    with scope(tenant=tenant):
        AllegroCredential.objects.filter(channel=connected_channel).update(
            scopes="allegro:api:profile:read allegro:api:orders:read"
        )
    # Said before anything is asked of Allegro: the stored authorization lacks the scope.
    assert (
        "The channel was authorized before apilo asked Allegro for permission to register "
        "sender addresses: authorize it again, then register the address."
    ) in page(admin_client, connected_channel)
    with scope(tenant=tenant):
        AllegroCredential.objects.filter(channel=connected_channel).update(
            scopes="allegro:api:orders:read"
        )
    assert (
        "The channel was authorized before apilo asked Allegro for its sender addresses: "
        "authorize it again to check them."
    ) in page(admin_client, connected_channel)


def test_the_register_button_queues_the_task_after_the_request(
    admin_client, tenant, connected_channel, settings
):
    # The task runs eagerly here: the page then shows what Allegro answered.
    from celery import current_app

    current_app.conf.task_always_eager = True
    try:
        response = admin_client.post(
            f"/app/alfa/administration/channels/{connected_channel.pk}/sender-address/register/"
        )
    finally:
        current_app.conf.task_always_eager = False
    assert response.status_code == 302
    text = page(admin_client, connected_channel)
    assert "Customer e-mails are sent from the platform's sender: no-reply@apilo.localhost" in text
    assert "The address is registered on this Allegro account" in text


def test_the_channel_form_offers_the_tenants_mailboxes(
    admin_client, tenant, other_tenant, mailbox_at, smtp_faulty
):
    mine = mailbox_at(smtp_faulty("healthy"))
    with scope(tenant=other_tenant):
        Mailbox(tenant=other_tenant, name="Beta", host="127.0.0.1", port=25, security="none",
                from_address="beta@beta.example").save()  # fmt: skip
    channel = make_channel(tenant, {"name": "Allegro", "alias": "AL", "allegro_login": "x"})
    edit = admin_client.get(f"/app/alfa/administration/channels/{channel.pk}/edit/")
    form = edit.context["form"]
    assert [str(label) for _value, label in form.fields["mailbox"].choices] == [
        "Platform sender (default)",
        "Sklep <sklep@alfa.example>",
    ]
    assert "address is registered and offers to register it" in form.fields["mailbox"].help_text
    with scope(tenant=tenant):
        assert list(form.fields["mailbox"].queryset) == [mine]


def test_no_outbox_connected_is_an_error_not_a_lost_mail(monkeypatch):
    monkeypatch.setattr(core_mail, "_writer", [])
    with pytest.raises(MailNotRouted):
        queue_platform_mail(
            PlatformMail(tenant=None, to="a@example.com", subject="s", text="t", kind="account")
        )
    assert [e.id for e in run_checks() if e.id == "core.E010"] == ["core.E010"]
