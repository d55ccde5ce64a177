"""Writing the mail outbox, inside the caller's transaction: `queue_mail` writes one
`OutgoingMail` row (or finds the one its dedupe key already wrote) and dispatches its send task
when the transaction commits. The relay guard holds back mail to an Allegro relay address from
a sender that is not registered on that order's Allegro account.

This module owns the writes that create rows; notifications.sender owns the writes of a row's
delivery (claim, outcome) and notifications.mailboxes the holds of a deleted mailbox's mails.
"""

from __future__ import annotations

import uuid
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from core.models import Tenant
from core.tasks import dispatch_after_commit
from notifications import timeline
from notifications.models import (
    HoldReason,
    Mailbox,
    MailKind,
    MailSender,
    MailState,
    OutgoingMail,
    SenderRegistration,
)
from orders.models import Order

# The send tasks, by name (notifications.tasks imports the sender, which imports this module).
SEND_TASK = "notifications.send_mail"
SEND_PLATFORM_TASK = "notifications.send_platform_mail"

RELAY_DOMAIN = "allegromail.pl"


class EmptyMail(ValueError):
    """A mail without a recipient, subject or text body: never written."""


def platform_from_header() -> str:
    """The From header of the platform's own sender (DEFAULT_FROM_EMAIL)."""
    return str(settings.DEFAULT_FROM_EMAIL)


def platform_from_address() -> str:
    return parseaddr(platform_from_header())[1]


def make_message_id(from_address: str) -> str:
    """A Message-ID fixed for the row's life: every try sends the same one."""
    domain = from_address.rpartition("@")[2] or "apilo.localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def is_relay_address(address: str) -> bool:
    """An Allegro buyer's relay address (code+transaction@allegromail.pl, REFERENCE §11)."""
    return address.strip().lower().rpartition("@")[2] == RELAY_DOMAIN


def relay_hold_reason(*, to: str, from_address: str, order: Order | None) -> str:
    """Why a mail to ``to`` from ``from_address`` must not be sent ("" if it may).

    Allegro's relay accepts mail only from sender addresses registered on the seller's Allegro
    account, so the order's channel must have that address among the registered ones as last
    read from Allegro (SenderRegistration; no Allegro call here, we may be in a transaction)."""
    if not is_relay_address(to):
        return ""
    if order is None:
        return HoldReason.RELAY_NO_CHANNEL
    registration = SenderRegistration.objects.filter(channel_id=order.channel_id).first()
    if registration is None or not registration.is_registered(from_address):
        return HoldReason.RELAY_UNREGISTERED
    return ""


def queue_mail(
    *,
    tenant: Tenant | None,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    mailbox: Mailbox | None = None,
    order: Order | None = None,
    kind: MailKind | str,
    category: str = "",
    hold_reason: str = "",
    dedupe_key: str | None = None,
    language: str | None = None,
) -> OutgoingMail:
    """Write one e-mail into the outbox in the caller's transaction and send it once that
    commits (`mailbox` None: the platform's sender).

    With ``hold_reason`` (or when the relay guard says so) the row is written HELD and never
    sent. With ``dedupe_key`` a second call for the same tenant and key writes nothing and
    returns the first row (a unique constraint decides, so callers need no lock). A mail of an
    order, or its hold, is on the order's timeline."""
    return write_mail(
        tenant=tenant,
        to=to,
        subject=subject,
        text=text,
        html=html,
        mailbox=mailbox,
        order=order,
        kind=kind,
        category=category,
        hold_reason=hold_reason,
        dedupe_key=dedupe_key,
        language=language,
    )


def write_mail(
    *,
    tenant: Tenant | None,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    mailbox: Mailbox | None = None,
    order: Order | None = None,
    kind: MailKind | str,
    category: str = "",
    hold_reason: str = "",
    dedupe_key: str | None = None,
    language: str | None = None,
    dispatch_on_commit: bool = True,
) -> OutgoingMail:
    """queue_mail; ``dispatch_on_commit=False`` for a caller that sends the row itself (the
    mailbox test, whose administrator waits for the answer)."""
    to = to.strip()
    subject = " ".join(subject.split())  # one line: a newline in a header is an injection
    if not to or not subject or not text.strip():
        raise EmptyMail("A mail needs a recipient, a subject and a text body.")
    if mailbox is not None and tenant is not None and mailbox.tenant_id != tenant.pk:
        raise ValueError("The mailbox belongs to another tenant.")
    from_address = mailbox.from_address if mailbox is not None else platform_from_address()
    if not hold_reason:
        hold_reason = relay_hold_reason(to=to, from_address=from_address, order=order)
    now = timezone.now()
    row = OutgoingMail(
        tenant=tenant,
        sender=MailSender.MAILBOX if mailbox is not None else MailSender.PLATFORM,
        mailbox=mailbox,
        mailbox_name=mailbox.name if mailbox is not None else "",
        order=order,
        kind=str(kind),
        category=category,
        language=language or "",
        from_address=from_address,
        to_address=to,
        subject=subject,
        text=text,
        html=html,
        message_id=make_message_id(from_address),
        dedupe_key=dedupe_key,
        state=MailState.HELD if hold_reason else MailState.QUEUED,
        hold_reason=hold_reason[:500],
        next_attempt_at=now,
        created_at=now,
    )
    if dedupe_key is None:
        _save(row)
    else:
        try:
            with transaction.atomic():
                _save(row)
        except IntegrityError:
            existing = _by_dedupe_key(tenant, dedupe_key)
            if existing is None:
                raise
            return existing
    if order is not None:
        timeline.record_queued(row)
    if row.state == MailState.QUEUED and dispatch_on_commit:
        dispatch(row)
    return row


def dispatch(row: OutgoingMail) -> None:
    """Send the row once the current transaction commits (at once outside one)."""
    if row.tenant_id is None:
        dispatch_after_commit(SEND_PLATFORM_TASK, row.pk)
    else:
        dispatch_after_commit(SEND_TASK, row.tenant_id, row.pk)


def _save(row: OutgoingMail) -> None:
    if row.tenant_id is None:
        # Platform mail belongs to no tenant: system code writes it outside any scope.
        with scopes_disabled():
            row.save()
    else:
        row.save()


def _by_dedupe_key(tenant: Tenant | None, key: str) -> OutgoingMail | None:
    with scopes_disabled():
        return OutgoingMail.objects.filter(tenant=tenant, dedupe_key=key).first()
