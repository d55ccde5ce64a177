"""Sending one outbox row, and the sweeper's query (adr/0007).

A row moves QUEUED → SENDING → SENT, or RETRY_WAIT (a problem that may pass: 4xx, a dropped
connection, a timeout, a TLS failure that may pass) → SENDING → …, or FAILED (5xx, a wrong
password, a mailbox set up wrongly, too many tries) or HELD (its mailbox was deleted, the relay
guard). This module owns those writes.

1. Claim: one UPDATE, outside any transaction, takes a due row (waiting and due, or SENDING
   whose lease ran out: its sender died) and sets SENDING, a lease and attempts + 1.
2. Send over SMTP, no transaction open.
3. Record the outcome with an UPDATE conditional on our claim (state SENDING, our attempt), so
   a sender that outlived its lease cannot overwrite the one that took over.

A sender killed between the server's "250" and step 3 leaves the row SENDING; after the lease
the sweeper sends it again with the same Message-ID: at most one duplicate, which mail clients
fold into one message by that header.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from notifications import smtp, timeline
from notifications.models import (
    HoldReason,
    MailKind,
    MailSender,
    MailState,
    OutgoingMail,
)
from notifications.outbox import platform_from_header, relay_hold_reason
from notifications.smtp import Reply, SMTPConfig

logger = logging.getLogger("notifications.mail")

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


@dataclass(frozen=True)
class Outcome:
    state: str  # the row's state after this call ("" when the row was not ours to send)
    retry_in: float | None = None


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` tries: doubling from the base."""
    base = float(settings.MAIL_RETRY_BASE_SECONDS)
    return min(base * (2 ** max(0, attempts - 1)), float(settings.MAIL_RETRY_MAX_SECONDS))


def claim(mail_id: int) -> OutgoingMail | None:
    """Take the row for sending if it is due (one UPDATE); None if it is not ours to send."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.MAIL_SEND_LEASE_SECONDS)
    with scopes_disabled():
        taken = (
            OutgoingMail.objects.due(now)
            .filter(pk=mail_id)
            .update(state=MailState.SENDING, lease_until=lease, attempts=F("attempts") + 1)
        )
        if not taken:
            return None
        return OutgoingMail.objects.select_related("mailbox", "order").get(pk=mail_id)


def send(mail_id: int) -> Outcome:
    """Send one row if it is due; record what the server said."""
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("Mail is sent outside any transaction (the SMTP call may be slow).")
    row = claim(mail_id)
    if row is None:
        return Outcome("")
    # The row's own tenant (the sweeper and the platform task run outside any scope): the
    # timeline entries are that tenant's rows.
    with scope(tenant=row.tenant_id) if row.tenant_id is not None else scopes_disabled():
        return _send_claimed(row)


def _send_claimed(row: OutgoingMail) -> Outcome:
    if row.sender == MailSender.MAILBOX and row.mailbox is None:
        return _hold(row, HoldReason.MAILBOX_DELETED)
    from_address = row.mailbox.from_address if row.mailbox is not None else row.from_address
    with scopes_disabled():
        # The registration may have changed since the row was written (checked again).
        reason = relay_hold_reason(to=row.to_address, from_address=from_address, order=row.order)
    if reason:
        return _hold(row, reason)
    reply = _deliver(row)
    return _record(row, reply)


def _message(row: OutgoingMail) -> EmailMessage:
    if row.mailbox is not None:
        from_header = formataddr((row.mailbox.from_name, row.mailbox.from_address))
    else:
        from_header = platform_from_header()
    headers = {"Message-ID": row.message_id}
    if row.html is not None:
        message: EmailMessage = EmailMultiAlternatives(
            row.subject, row.text, from_header, [row.to_address], headers=headers
        )
        message.attach_alternative(row.html, "text/html")  # type: ignore[attr-defined]
    else:
        message = EmailMessage(
            row.subject, row.text, from_header, [row.to_address], headers=headers
        )
    return message


def _deliver(row: OutgoingMail) -> Reply:
    message = _message(row)
    if row.mailbox is not None:
        box = row.mailbox
        config = SMTPConfig(
            host=box.host,
            port=box.port,
            security=box.security,
            username=box.username,
            password=box.password,
            timeout=float(settings.MAIL_SMTP_TIMEOUT),
        )
        envelope_from = box.from_address
    elif settings.EMAIL_BACKEND == SMTP_BACKEND:
        security = (
            "ssl" if settings.EMAIL_USE_SSL else "starttls" if settings.EMAIL_USE_TLS else "none"
        )
        config = SMTPConfig(
            host=settings.EMAIL_HOST,
            port=int(settings.EMAIL_PORT),
            security=security,
            username=settings.EMAIL_HOST_USER or "",
            password=settings.EMAIL_HOST_PASSWORD or "",
            timeout=float(settings.EMAIL_TIMEOUT or settings.MAIL_SMTP_TIMEOUT),
        )
        envelope_from = parseaddr(platform_from_header())[1]
    else:
        # A development or test backend (console, file, in-memory): Django's own API.
        get_connection(fail_silently=False).send_messages([message])
        return Reply(True, None, f"Handed to {settings.EMAIL_BACKEND}")
    # SMTP lines end in CRLF; smtplib sends bytes as given, so a message longer than a server's
    # line limit (1 000 bytes) with bare LFs would be one over-long line to it.
    # Django's MIME classes take ``linesep`` (django.core.mail.message.MIMEMixin); the stubs
    # know only email.message.Message.as_bytes.
    raw = message.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]
    return smtp.deliver(config, envelope_from=envelope_from, to=row.to_address, message=raw)


def _finish(row: OutgoingMail, **fields: object) -> bool:
    """Write the outcome if the row is still ours (SENDING, our attempt). False otherwise."""
    fields.setdefault("lease_until", None)
    fields["updated_at"] = timezone.now()
    if fields.get("state") in (MailState.SENT, MailState.FAILED) and row.kind == MailKind.ACCOUNT:
        # Account mail carries secret links (reset, invitation): not kept once delivered.
        fields.update(text="", html=None)
    with scopes_disabled():
        updated = OutgoingMail.objects.filter(
            pk=row.pk, state=MailState.SENDING, attempts=row.attempts
        ).update(**fields)
    if updated:
        for name, value in fields.items():
            setattr(row, name, value)
    return bool(updated)


def _hold(row: OutgoingMail, reason: str) -> Outcome:
    with transaction.atomic():
        if _finish(row, state=MailState.HELD, hold_reason=reason):
            timeline.record_outcome(row, MailState.HELD)
    return Outcome(MailState.HELD)


def _record(row: OutgoingMail, reply: Reply) -> Outcome:
    now = timezone.now()
    said = f"{reply.code} {reply.text}".strip() if reply.code is not None else reply.text
    common = {"reply_code": reply.code, "reply_text": reply.text, "problem": reply.problem}
    with transaction.atomic():
        if reply.delivered:
            if _finish(row, state=MailState.SENT, sent_at=now, **common):
                timeline.record_outcome(row, MailState.SENT, reply=said)
                logger.info("mail %s sent (%s)", row.pk, said)
            return Outcome(MailState.SENT)
        if reply.retry and row.attempts < settings.MAIL_MAX_ATTEMPTS:
            delay = backoff(row.attempts)
            _finish(
                row,
                state=MailState.RETRY_WAIT,
                next_attempt_at=now + timedelta(seconds=delay),
                **common,
            )
            logger.info(
                "mail %s: try %s failed (%s), again in %ss", row.pk, row.attempts, said, delay
            )
            return Outcome(MailState.RETRY_WAIT, retry_in=delay)
        if _finish(row, state=MailState.FAILED, **common):
            timeline.record_outcome(row, MailState.FAILED, reply=said or str(reply.problem))
            logger.warning("mail %s failed (%s: %s)", row.pk, reply.problem, said)
        return Outcome(MailState.FAILED)


def due_ids(limit: int) -> list[tuple[int | None, int]]:
    """(tenant id, mail id) of rows due for sending, oldest first (the sweeper's system query)."""
    with scopes_disabled():
        return list(
            OutgoingMail.objects.due()
            .order_by("next_attempt_at", "id")
            .values_list("tenant_id", "id")[:limit]
        )
