"""The relay guard, sender registration over the simulator, a mailbox deleted while mails
wait, the order timeline, and the pages (administrators only, another tenant's rows 404)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django_scopes import scope, scopes_disabled

from channels.models import AllegroCredential, SalesChannel
from notifications import registration
from notifications.mailboxes import delete_mailbox
from notifications.models import HoldReason, Mailbox, MailState, OutgoingMail
from notifications.outbox import queue_mail
from orders.models import Order, OrderEvent
from tests.notifications.helpers import drain, rows
from tests.support.channels import make_channel
from tests.support.orders import import_orders

pytestmark = pytest.mark.django_db(transaction=True)

RELAY = "kupujacy+1a2b3c@allegromail.pl"


def order_of_channel(channel, allegro_sandbox) -> Order:
    [order] = import_orders(channel, allegro_sandbox, 1)
    return order


def mail_about(order, mailbox, to=RELAY, **kw) -> OutgoingMail:
    with scope(tenant=order.tenant), transaction.atomic():
        return queue_mail(
            tenant=order.tenant,
            to=to,
            subject=f"Pytanie o {order.number}",
            text="Dzień dobry",
            mailbox=mailbox,
            order=order,
            kind="customer",
            **kw,
        )


def timeline(order) -> list[str]:
    with scope(tenant=order.tenant):
        return [
            e.describe() for e in OrderEvent.objects.filter(order=order, kind="mail").order_by("id")
        ]


def test_relay_mail_from_an_unregistered_address_is_held_never_sent(
    tenant, outbox_settings, smtp_faulty, mailbox_at, connected_channel, allegro_sandbox
):
    server = smtp_faulty("healthy")
    box = mailbox_at(server)
    order = order_of_channel(connected_channel, allegro_sandbox)
    with scope(tenant=tenant):
        registration.refresh(connected_channel.pk)  # Allegro: no addresses registered
    held = mail_about(order, box)
    assert (held.state, held.hold_reason) == (MailState.HELD, HoldReason.RELAY_UNREGISTERED)
    assert drain() == 0
    assert server.handler.seen == 0
    assert timeline(order) == [
        f"E-mail “Pytanie o {order.number}” to {RELAY} held back: Allegro relays mail to its "
        "buyers only from sender addresses registered on the seller's Allegro account; this "
        "mailbox's address is not registered there."
    ]


def test_registering_the_address_lets_relay_mail_through(
    tenant, outbox_settings, smtp_faulty, mailbox_at, connected_channel, allegro_sandbox
):
    server = smtp_faulty("healthy")
    box = mailbox_at(server)
    with scope(tenant=tenant):
        SalesChannel.objects.filter(pk=connected_channel.pk).update(mailbox=box)
        stored = registration.register(connected_channel.pk)
    assert stored.problem == ""
    assert list(stored.addresses) == ["sklep@alfa.example"]
    # Allegro has it (read back over HTTP, not from our row).
    with scope(tenant=tenant):
        assert registration.refresh(connected_channel.pk).is_registered("SKLEP@alfa.example")
    order = order_of_channel(connected_channel, allegro_sandbox)
    sent = mail_about(order, box)
    assert sent.state == MailState.QUEUED
    drain()
    [received] = server.handler.wait_for(1)
    assert received.to == [RELAY]
    assert timeline(order) == [
        f"E-mail “Pytanie o {order.number}” to {RELAY} is waiting to be sent.",
        f"E-mail “Pytanie o {order.number}” sent to {RELAY}.",
    ]


def test_registration_refused_without_the_write_scope_says_so(
    tenant, connected_channel, allegro_sandbox
):
    with scope(tenant=tenant):
        AllegroCredential.objects.filter(channel=connected_channel).update(
            scopes="allegro:api:profile:read allegro:api:orders:read"
        )
        stored = registration.register(connected_channel.pk)
    assert stored.problem == registration.Problem.NO_WRITE_SCOPE
    assert registration.problem_text(stored.problem) == (
        "The channel was authorized before apilo asked Allegro for permission to register "
        "sender addresses: authorize it again, then register the address."
    )
    with scope(tenant=tenant):
        assert registration.refresh(connected_channel.pk).addresses == {}  # nothing registered


def test_a_relay_address_without_an_order_is_held(tenant, outbox_settings, smtp_faulty, mailbox_at):
    box = mailbox_at(smtp_faulty("healthy"))
    with scope(tenant=tenant), transaction.atomic():
        row = queue_mail(tenant=tenant, to=RELAY, subject="x", text="y", mailbox=box, kind="test")
    assert (row.state, row.hold_reason) == (MailState.HELD, HoldReason.RELAY_NO_CHANNEL)


def test_a_mailbox_deleted_while_mails_wait_holds_them(
    tenant, outbox_settings, smtp_faulty, mailbox_at
):
    server = smtp_faulty("healthy")
    box = mailbox_at(server)
    with scope(tenant=tenant), transaction.atomic():
        waiting = [
            queue_mail(tenant=tenant, to=f"k{i}@example.com", subject="s", text="t",
                       mailbox=box, kind="customer")
            for i in range(3)
        ]  # fmt: skip
    with scope(tenant=tenant):
        assert delete_mailbox(box) == 3
        assert not Mailbox.objects.filter(pk=box.pk).exists()
    assert drain() == 0
    assert server.handler.seen == 0
    assert [(r.pk, r.state, r.hold_reason, r.mailbox_id, r.mailbox_name) for r in rows()] == [
        (w.pk, MailState.HELD, HoldReason.MAILBOX_DELETED, None, "Sklep") for w in waiting
    ]


def test_the_database_refuses_to_drop_a_mailbox_under_waiting_mails(
    tenant, outbox_settings, smtp_faulty, mailbox_at
):
    """Deleted behind the service's back, the FK would set null and the mail could go out from
    another sender: a check constraint refuses that while the mail waits."""
    server = smtp_faulty("healthy")
    box = mailbox_at(server)
    with scope(tenant=tenant), transaction.atomic():
        queue_mail(tenant=tenant, to="k@example.com", subject="s", text="t", mailbox=box,
                   kind="customer")  # fmt: skip
    with scopes_disabled(), pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.filter(pk=box.pk).delete()
    drain()
    assert [(r.state, r.mailbox_id) for r in rows()] == [(MailState.SENT, box.pk)]
    assert len(server.handler.wait_for(1)) == 1


def test_a_mailbox_a_channel_uses_cannot_be_deleted(tenant, admin_client, smtp_faulty, mailbox_at):
    box = mailbox_at(smtp_faulty("healthy"))
    channel = make_channel(tenant, {"name": "Allegro", "alias": "AL", "allegro_login": "x"})
    with scope(tenant=tenant):
        SalesChannel.objects.filter(pk=channel.pk).update(mailbox=box)
    page = admin_client.get(f"/app/alfa/administration/mailboxes/{box.pk}/delete/")
    assert "These sales channels send from this mailbox: Allegro (AL)." in " ".join(
        page.content.decode().split()
    )
    admin_client.post(f"/app/alfa/administration/mailboxes/{box.pk}/delete/")
    with scope(tenant=tenant):
        assert Mailbox.objects.filter(pk=box.pk).exists()
