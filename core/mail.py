"""Account e-mails (welcome, invitation, password reset): rendered in the recipient's language
and handed to the mail outbox through the hook below, in the transaction that caused them.

core is below notifications, which owns the outbox (`OutgoingMail`): the outbox connects its
writer here at start-up (`connect_outbox`), and a mail with no writer connected raises instead
of vanishing. These are platform mails from DEFAULT_FROM_EMAIL over the deployment's EMAIL_*
settings; the outbox retries them like any other mail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import translation

from core.models import Tenant


def render_mail(
    template_prefix: str, context: Mapping[str, Any], *, language: str | None = None
) -> tuple[str, str, str | None]:
    """(subject, text body, HTML body or None) from `<prefix>_subject.txt`, `<prefix>.txt` and
    the optional `<prefix>.html`, rendered in `language` (default: the active one)."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or translation.get_language()):
        subject: str = render_to_string(f"{template_prefix}_subject.txt", context)
        text = render_to_string(f"{template_prefix}.txt", context)
        try:
            html = get_template(f"{template_prefix}.html").render(context)
        except TemplateDoesNotExist:
            html = None
    # A subject is one line: a stray newline in it would be a header injection.
    subject = " ".join(subject.split())
    return subject, text, html


def send_templated_mail(
    template_prefix: str,
    context: Mapping[str, Any],
    *,
    to: str,
    language: str | None = None,
    tenant: Tenant | None = None,
) -> None:
    """Render now (template errors surface in the request) and write the mail into the outbox
    in the current transaction; it is sent once that commits (ACCOUNT mail from the platform's
    sender). ``tenant``: the company the mail is about (an invitation), None for mail of the
    person alone (sign-up, password reset), which no company's log shows."""
    subject, text, html = render_mail(template_prefix, context, language=language)
    queue_platform_mail(
        PlatformMail(
            tenant=tenant,
            to=to,
            subject=subject,
            text=text,
            html=html,
            kind="account",
            language=language or translation.get_language() or "",
        )
    )


# --------------------------------------------------------------------------- the outbox hook
@dataclass(frozen=True)
class PlatformMail:
    """A mail of core or channels (account, re-authorization) for the outbox of the floor
    above. ``dedupe_key``: the outbox writes one row per tenant and key."""

    tenant: Tenant | None
    to: str
    subject: str
    text: str
    kind: str
    html: str | None = None
    language: str = ""
    dedupe_key: str | None = None


class MailNotRouted(RuntimeError):
    """No outbox is connected: the mail would be lost, so nothing is written at all."""


MailWriter = Callable[[PlatformMail], object]
_writer: list[MailWriter] = []


def connect_outbox(writer: MailWriter) -> None:
    """The notifications app connects its outbox here (NotificationsConfig.ready). One writer:
    every mail of the floors below goes through it, in the caller's transaction."""
    _writer[:] = [writer]


def outbox_connected() -> bool:
    return bool(_writer)


def queue_platform_mail(mail: PlatformMail) -> None:
    """Hand a mail to the outbox, in the caller's transaction (adr/0006: hooks of the lower
    floor). Raises MailNotRouted when no outbox is connected: the caller's transaction fails
    rather than drop the mail (the system check core.E010 says so at start-up too)."""
    if not _writer:
        raise MailNotRouted("No mail outbox is connected (is the notifications app installed?).")
    _writer[0](mail)
