"""Account e-mails (welcome, invitation, password reset): render in the recipient's language,
send after the transaction that caused them commits.

These are platform mails from DEFAULT_FROM_EMAIL over the deployment's EMAIL_* settings; tenants'
customer mail goes through the notifications outbox instead. A failure to send is logged and
does not undo what was committed (the user can ask for the mail again: reset, re-invite).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


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
) -> None:
    """Render now (template errors surface in the request), send once the transaction commits.

    Outside a transaction the mail goes out at once. Sending is synchronous: these mails are
    rare and the user waits for them anyway.
    """
    subject, text, html = render_mail(template_prefix, context, language=language)
    transaction.on_commit(
        partial(_deliver, subject=subject, text=text, html=html, to=to, kind=template_prefix)
    )


def _deliver(*, subject: str, text: str, html: str | None, to: str, kind: str) -> None:
    try:
        send_mail(
            subject,
            text,
            settings.DEFAULT_FROM_EMAIL,
            [to],
            html_message=html,
            fail_silently=False,
        )
    except Exception:
        # Never log the address or the body: the body of these mails carries secret links.
        logger.exception("Could not send the %s e-mail.", kind)
