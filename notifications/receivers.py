"""The hooks of the floors below that the outbox answers (NotificationsConfig.ready connects
them)."""

from __future__ import annotations

from django_scopes import scope

from core.mail import PlatformMail
from notifications.models import OutgoingMail
from notifications.outbox import queue_mail


def write_platform_mail(mail: PlatformMail) -> OutgoingMail:
    """core.mail's outbox hook: account and re-authorization mail, from the platform's sender,
    in the caller's transaction."""
    if mail.tenant is None:
        return _write(mail)
    # Sign-up and invitations run before or beside a request's scope: enter the company's.
    with scope(tenant=mail.tenant):
        return _write(mail)


def _write(mail: PlatformMail) -> OutgoingMail:
    return queue_mail(
        tenant=mail.tenant,
        to=mail.to,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        kind=mail.kind,
        language=mail.language,
        dedupe_key=mail.dedupe_key,
    )
