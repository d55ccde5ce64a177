"""Mailboxes of a tenant (Administracja → Skrzynki pocztowe): the one module that writes them.

Deleting a mailbox holds its waiting mails (with the reason) in the same transaction, so none of
them is dropped and none goes out from another sender; a mailbox a channel uses cannot be
deleted (SalesChannel.mailbox is PROTECT): the channel is given another one first.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import Tenant
from notifications import sender, timeline
from notifications.models import HoldReason, Mailbox, MailKind, MailState, OutgoingMail
from notifications.outbox import write_mail

FIELDS = ("name", "host", "port", "security", "username", "from_name", "from_address")


class MailboxError(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _name_taken(tenant: Tenant, name: str, exclude: int | None = None) -> bool:
    taken = Mailbox.objects.filter(tenant=tenant, name__iexact=name.strip())
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    return taken.exists()


def create_mailbox(tenant: Tenant, *, password: str = "", **values: Any) -> Mailbox:
    if _name_taken(tenant, values["name"]):
        raise MailboxError(_("A mailbox with this name already exists."), field="name")
    mailbox = Mailbox(tenant=tenant, password=password, **{f: values[f] for f in FIELDS})
    mailbox.save()
    return mailbox


def update_mailbox(mailbox: Mailbox, *, password: str = "", **values: Any) -> Mailbox:
    """Save the settings; an empty password keeps the stored one (it is never shown back)."""
    if _name_taken(mailbox.tenant, values["name"], exclude=mailbox.pk):
        raise MailboxError(_("A mailbox with this name already exists."), field="name")
    for field in FIELDS:
        setattr(mailbox, field, values[field])
    if password:
        mailbox.password = password
    mailbox.save()
    return mailbox


def channels_using(mailbox: Mailbox) -> list[str]:
    return [str(channel) for channel in mailbox.channels.all()]


def delete_mailbox(mailbox: Mailbox) -> int:
    """Delete the mailbox; its mails that still wait are held with the reason. Returns how many
    were held. Refused while a channel sends from it."""
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().filter(pk=mailbox.pk).first()
        if locked is None:
            return 0
        using = channels_using(locked)
        if using:
            raise MailboxError(
                _("Channels send from this mailbox: %(channels)s. Choose another one there first.")
                % {"channels": ", ".join(using)}
            )
        # SENDING rows too: a sender that holds one finds the mailbox gone when its outcome is
        # written and cannot send it again (the row is no longer SENDING).
        waiting = list(
            OutgoingMail.objects.filter(
                mailbox=locked,
                state__in=[MailState.QUEUED, MailState.RETRY_WAIT, MailState.SENDING],
            ).select_for_update()
        )
        now = timezone.now()
        for row in waiting:
            row.state = MailState.HELD
            row.hold_reason = HoldReason.MAILBOX_DELETED
            row.lease_until = None
            row.updated_at = now
        OutgoingMail.objects.bulk_update(
            waiting, ["state", "hold_reason", "lease_until", "updated_at"]
        )
        for row in waiting:
            timeline.record_outcome(row, MailState.HELD)
        locked.delete()
    return len(waiting)


def send_test(mailbox: Mailbox, *, to: str, language: str) -> OutgoingMail:
    """A test mail from the mailbox, sent now (the administrator waits for the server's answer);
    it is an outbox row like any other, so the log shows it too."""
    with transaction.atomic():
        row = write_mail(
            tenant=mailbox.tenant,
            to=to,
            subject=_("Test e-mail from apilo (%(mailbox)s)") % {"mailbox": mailbox.name},
            text=_(
                "This is a test e-mail from the mailbox “%(mailbox)s” of %(company)s in apilo. "
                "If you can read it, the mailbox works."
            )
            % {"mailbox": mailbox.name, "company": mailbox.tenant.name},
            mailbox=mailbox,
            kind=MailKind.TEST,
            language=language,
            dispatch_on_commit=False,
        )
    if row.state == MailState.QUEUED:
        # Tried once while the administrator waits; after a passing fault the outbox keeps
        # trying like for any other mail.
        sender.send(row.pk)
    row.refresh_from_db()
    return row
