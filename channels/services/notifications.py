"""E-mails about a channel: one "re-authorization needed" mail to every administrator, written
into the mail outbox (through core.mail's hook) in the transaction of the transition, so a mail
server that is down at that moment delays the mail instead of losing it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from channels.models import SalesChannel
from core.mail import PlatformMail, queue_platform_mail
from core.models import Role, Tenant


def administrator_emails(tenant: Tenant) -> list[str]:
    users = get_user_model().objects.filter(
        is_active=True,
        memberships__tenant=tenant,
        memberships__role=Role.ADMINISTRATOR,
    )
    return sorted({u.email for u in users.exclude(email="")})


def queue_reauth_mails(channel: SalesChannel) -> int:
    """One mail per administrator of the channel's tenant: the channel needs re-authorization.

    Called in the transaction of the connected → needs_reauth transition; the dedupe key (the
    channel and the moment of the transition) keeps it to one mail per address and transition.
    Returns the number of mails written."""
    tenant = channel.tenant
    recipients = administrator_emails(tenant)
    if not recipients:
        return 0
    url = settings.SITE_URL + reverse(
        "administration:channels:detail",
        kwargs={"tenant_slug": tenant.slug, "channel_id": channel.pk},
    )
    context = {"tenant": tenant, "channel": channel, "url": url}
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("emails/channels/reauth_needed_subject.txt", context)
        body = render_to_string("emails/channels/reauth_needed.txt", context)
    since = channel.needs_reauth_since.isoformat() if channel.needs_reauth_since else ""
    for address in recipients:
        queue_platform_mail(
            PlatformMail(
                tenant=tenant,
                to=address,
                subject=" ".join(subject.split()),
                text=body,
                kind="reauth",
                language=settings.LANGUAGE_CODE,
                dedupe_key=f"reauth:{channel.pk}:{since}:{address}",
            )
        )
    return len(recipients)
