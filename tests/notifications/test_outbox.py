"""The mail outbox against real SMTP servers that misbehave: every mail ends delivered exactly
once, or failed or held with the reason in words."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import transaction
from django_scopes import scope, scopes_disabled

from notifications.models import MailProblem, MailState, OutgoingMail
from notifications.outbox import EmptyMail, queue_mail
from notifications.reasons import server_answer
from tests.notifications.helpers import PASSWORD, USER, SilentServer, drain, free_port, rows

pytestmark = pytest.mark.django_db(transaction=True)


def queue(tenant, mailbox, count=1, **kw):
    with scope(tenant=tenant), transaction.atomic():
        return [
            queue_mail(
                tenant=tenant,
                to=f"kupujacy{i}@example.com",
                subject=f"Zamówienie {i}",
                text=f"Treść {i}",
                mailbox=mailbox,
                kind="customer",
                **kw,
            )
            for i in range(count)
        ]


def test_healthy_server_gets_each_mail_once_with_its_message_id(
    tenant, outbox_settings, smtp_faulty, mailbox_at
):
    server = smtp_faulty("healthy")
    box = mailbox_at(server)
    written = queue(tenant, box, 3)
    assert drain() == 3
    received = server.handler.wait_for(3)
    assert [m.to for m in received] == [
        ["kupujacy0@example.com"], ["kupujacy1@example.com"], ["kupujacy2@example.com"]
    ]  # fmt: skip
    assert [m["Message-ID"] for m in received] == [row.message_id for row in written]
    assert [m["From"] for m in received] == ["Sklep Alfa <sklep@alfa.example>"] * 3
    assert [m.envelope_from for m in received] == ["sklep@alfa.example"] * 3
    assert [(r.state, r.attempts, r.reply_code, r.reply_text) for r in rows()] == [
        (MailState.SENT, 1, 250, "2.0.0 Ok: queued as X42")
    ] * 3
    assert server_answer(rows()[0]) == "Accepted by the server: 250 2.0.0 Ok: queued as X42"
    assert drain() == 0  # nothing is sent twice
    assert len(server.handler.messages) == 3


def test_4xx_for_the_first_messages_then_each_delivered_once(
    tenant, outbox_settings, smtp_faulty, mailbox_at
):
    server = smtp_faulty("4xx", faults=3)
    box = mailbox_at(server)
    queue(tenant, box, 2)
    drain()
    received = server.handler.wait_for(2)
    assert sorted(m.to[0] for m in received) == ["kupujacy0@example.com", "kupujacy1@example.com"]
    assert sorted((r.state, r.attempts) for r in rows()) == [
        (MailState.SENT, 2), (MailState.SENT, 3)
    ]  # fmt: skip
    assert len(server.handler.messages) == 2


def test_4xx_until_the_last_try_fails_with_the_servers_words(
    tenant, outbox_settings, smtp_faulty, mailbox_at
):
    server = smtp_faulty("4xx", faults=100)
    queue(tenant, mailbox_at(server))
    drain()
    [row] = rows()
    assert (row.state, row.attempts, row.problem, row.reply_code) == (
        MailState.FAILED, 4, MailProblem.TEMPORARY, 451
    )  # fmt: skip
    assert server_answer(row) == (
        "The server refused for now. The server said: 451 4.3.0 Mailbox busy, try again later"
    )
    assert server.handler.messages == []


def test_connection_dropped_mid_data_is_tried_again_and_delivered_once(
    tenant, outbox_settings, smtp_faulty, mailbox_at
):
    server = smtp_faulty("drop", faults=1)
    [written] = queue(tenant, mailbox_at(server))
    drain()
    [received] = server.handler.wait_for(1)
    assert received["Message-ID"] == written.message_id
    [row] = rows()
    assert (row.state, row.attempts) == (MailState.SENT, 2)
    assert len(server.handler.messages) == 1


def test_5xx_is_shown_and_not_tried_again(tenant, outbox_settings, smtp_faulty, mailbox_at):
    server = smtp_faulty("5xx", faults=1)
    queue(tenant, mailbox_at(server))
    drain()
    [row] = rows()
    assert (row.state, row.attempts, row.problem, row.reply_code, row.reply_text) == (
        MailState.FAILED, 1, MailProblem.PERMANENT, 550, "5.7.1 Message rejected as spam"
    )  # fmt: skip
    assert server_answer(row) == (
        "The server refused the message. The server said: 550 5.7.1 Message rejected as spam"
    )
    assert drain() == 0
    assert server.handler.seen == 1


def test_starttls_required_but_not_offered_fails_and_says_so(
    tenant, outbox_settings, smtp_faulty, mailbox_at
):
    server = smtp_faulty("healthy")
    queue(tenant, mailbox_at(server, security="starttls"))
    drain()
    [row] = rows()
    assert (row.state, row.attempts, row.problem) == (MailState.FAILED, 1, MailProblem.TLS)
    assert server_answer(row) == (
        "A secure connection could not be made. The server said: "
        "The server does not offer STARTTLS."
    )
    assert server.handler.messages == []


# aiosmtpd warns that AUTH without TLS is unsafe: these servers live on loopback for one test.
AUTH_WITHOUT_TLS = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@AUTH_WITHOUT_TLS
def test_wrong_password_fails_and_says_so(tenant, outbox_settings, smtp_faulty, mailbox_at):
    server = smtp_faulty("healthy", auth=True)
    queue(tenant, mailbox_at(server, username=USER, password="not-the-password"))
    drain()
    [row] = rows()
    assert (row.state, row.attempts, row.problem, row.reply_code) == (
        MailState.FAILED, 1, MailProblem.AUTH, 535
    )  # fmt: skip
    assert server_answer(row) == (
        "The server refused the user name or password. The server said: "
        "535 5.7.8 Authentication credentials invalid"
    )
    assert server.handler.messages == []


@AUTH_WITHOUT_TLS
def test_right_password_logs_in_and_delivers(tenant, outbox_settings, smtp_faulty, mailbox_at):
    server = smtp_faulty("healthy", auth=True)
    queue(tenant, mailbox_at(server, username=USER, password=PASSWORD))
    drain()
    assert [r.state for r in rows()] == [MailState.SENT]
    assert len(server.handler.wait_for(1)) == 1


def test_a_server_that_never_answers_times_out_then_fails(tenant, outbox_settings, mailbox_at):
    silent = SilentServer()
    try:
        queue(tenant, mailbox_at(silent))
        drain()
    finally:
        silent.stop()
    [row] = rows()
    assert (row.state, row.attempts, row.problem) == (MailState.FAILED, 4, MailProblem.TIMEOUT)
    assert server_answer(row) == "The server did not answer in time."


def test_server_down_waits_and_retries(tenant, outbox_settings, settings, mailbox_at):
    settings.MAIL_RETRY_BASE_SECONDS = 60
    nobody = SimpleNamespace(host="127.0.0.1", port=free_port())  # nothing listens there
    queue(tenant, mailbox_at(nobody))
    drain()
    [row] = rows()
    assert (row.state, row.attempts, row.problem) == (
        MailState.RETRY_WAIT, 1, MailProblem.UNREACHABLE
    )  # fmt: skip
    assert 59 <= (row.next_attempt_at - row.updated_at).total_seconds() <= 61


def test_dedupe_key_writes_one_row(tenant, outbox_settings, smtp_faulty, mailbox_at):
    box = mailbox_at(smtp_faulty("healthy"))
    first = queue(tenant, box, dedupe_key="seller:order:1")[0]
    second = queue(tenant, box, dedupe_key="seller:order:1")[0]
    assert second.pk == first.pk
    with scopes_disabled():
        assert OutgoingMail.objects.count() == 1


def test_a_mail_needs_subject_and_body(tenant):
    with scope(tenant=tenant), pytest.raises(EmptyMail):
        queue_mail(tenant=tenant, to="a@example.com", subject=" ", text="x", kind="customer")
    with scope(tenant=tenant), pytest.raises(EmptyMail):
        queue_mail(tenant=tenant, to="a@example.com", subject="x", text="\n", kind="customer")
