"""E-mails about a channel. Sent with Django's mail API right after the transaction commits.

Known limit: a mail server outage at that moment loses the e-mail (the failure is logged). The
OutgoingMail outbox of the notifications work will carry these mails with retries.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_scopes import scope

from channels.models import ConnectionState, SalesChannel
from core.models import Role, Tenant

logger = logging.getLogger(__name__)


def administrator_emails(tenant: Tenant) -> list[str]:
    users = get_user_model().objects.filter(
        is_active=True,
        memberships__tenant=tenant,
        memberships__role=Role.ADMINISTRATOR,
    )
    return sorted({u.email for u in users.exclude(email="")})


def notify_reauth_needed(tenant_id: int, channel_id: int) -> int:
    """One e-mail to every administrator of the tenant: the channel needs re-authorization.

    Called once per transition (on commit of connected → needs_reauth). Returns the number of
    messages sent.
    """
    tenant = Tenant.objects.get(pk=tenant_id)
    with scope(tenant=tenant):
        channel = SalesChannel.objects.filter(pk=channel_id).first()
        if channel is None or channel.connection_state != ConnectionState.NEEDS_REAUTH:
            return 0
        recipients = administrator_emails(tenant)
        if not recipients:
            return 0
        url = settings.SITE_URL + reverse(
            "administration:channels:detail",
            kwargs={"tenant_slug": tenant.slug, "channel_id": channel.pk},
        )
        context = {"tenant": tenant, "channel": channel, "url": url}
        with translation.override(settings.LANGUAGE_CODE):
            subject = render_to_string("emails/channels/reauth_needed_subject.txt", context).strip()
            body = render_to_string("emails/channels/reauth_needed.txt", context)
        messages = [
            EmailMessage(subject=" ".join(subject.split()), body=body, to=[address])
            for address in recipients
        ]
        try:
            return get_connection().send_messages(messages) or 0
        except Exception:
            logger.exception(
                "Could not e-mail the administrators of tenant %s about channel %s",
                tenant_id,
                channel_id,
            )
            return 0
