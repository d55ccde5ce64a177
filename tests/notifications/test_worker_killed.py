"""A worker SIGKILLed between the server's acceptance and the outcome's commit: the mail is
delivered, at most once more, with the same Message-ID (adr/0007)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_scopes import scope, scopes_disabled

from notifications.models import MailState, OutgoingMail
from notifications.outbox import queue_mail
from tests.celery_support import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_ENV = {
    "MAIL_SEND_LEASE_SECONDS": "3",
    "MAIL_SWEEP_SECONDS": "1",
    "MAIL_RETRY_BASE_SECONDS": "0",
    "SYNC_POLL_TICK_SECONDS": "3600",
}


def row_of(pk: int) -> OutgoingMail:
    with scopes_disabled():
        return OutgoingMail.objects.get(pk=pk)


def test_worker_killed_mid_send_delivers_at_most_once_more_with_the_same_message_id(
    tenant, smtp_faulty, mailbox_at, celery_processes
):
    # The first message is kept by the server, whose "250" then takes a minute: the worker
    # is killed while it waits for it, so the server has the mail and we do not know.
    server = smtp_faulty("hang_after_accept", faults=1, hang=60)
    box = mailbox_at(server)
    worker, _beat = celery_processes(WORKER_ENV)
    with scope(tenant=tenant), transaction.atomic():
        mail = queue_mail(tenant=tenant, to="anna@example.com", subject="Zamówienie",
                          text="Dzień dobry", mailbox=box, kind="customer")  # fmt: skip
    [first] = server.handler.wait_for(1, timeout=30)
    assert row_of(mail.pk).state == MailState.SENDING
    worker.kill()
    worker.start()
    worker.wait_for_log("ready.", timeout=60)

    sent = wait_until(
        lambda: (row := row_of(mail.pk)).state == MailState.SENT and row,
        timeout=60,
        message="the mail claimed by the dead worker is sent again after its lease",
    )
    received = server.handler.wait_for(2)
    assert [m["Message-ID"] for m in received] == [mail.message_id, mail.message_id]
    assert first["Message-ID"] == mail.message_id
    assert (sent.attempts, sent.reply_code) == (2, 250)
    assert len(server.handler.messages) == 2  # at most one duplicate
