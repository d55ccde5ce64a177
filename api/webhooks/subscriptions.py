"""Webhook subscriptions: creating (the secret returned once), changing, turning off and on,
deleting, and turning off after repeated failed deliveries with a mail to the company's
administrators. Owns every write of ``WebhookSubscription``."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from api.models_webhooks import (
    DeliveryState,
    DisabledReason,
    EventType,
    WebhookDelivery,
    WebhookSubscription,
)
from api.webhooks import addresses
from api.webhooks.errors import WebhookError
from channels.services.notifications import administrator_emails
from core.models import Tenant
from notifications.models import MailKind
from notifications.outbox import queue_mail

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of generated secrets, not a secret)


@dataclass(frozen=True)
class NewSubscription:
    subscription: WebhookSubscription
    secret: str  # shown once on the page that created it


def _clean(url: str, events: Sequence[str]) -> tuple[str, list[str]]:
    url = url.strip()
    if not url:
        raise WebhookError(_("Enter the address."), code="url_required", field="url")
    if len(url) > 500:
        raise WebhookError(_("The address is too long."), code="url_too_long", field="url")
    addresses.resolve(url)
    chosen = [value for value in EventType.values if value in set(events)]
    if not chosen or len(chosen) != len(set(events)):
        raise WebhookError(
            _("Choose at least one event from the list."), code="events_invalid", field="events"
        )
    return url, chosen


def create_subscription(
    tenant: Tenant, *, url: str, events: Sequence[str], created_by: User | None
) -> NewSubscription:
    url, chosen = _clean(url, events)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    subscription = WebhookSubscription(
        tenant=tenant, url=url, events=chosen, secret=secret, created_by=created_by
    )
    subscription.save()
    return NewSubscription(subscription, secret)


def update_subscription(
    subscription: WebhookSubscription, *, url: str, events: Sequence[str]
) -> WebhookSubscription:
    subscription.url, subscription.events = _clean(url, events)
    subscription.save(update_fields=["url", "events", "updated_at"])
    return subscription


def disable(
    subscription: WebhookSubscription, reason: str = DisabledReason.BY_ADMINISTRATOR
) -> bool:
    """Turn the subscription off (its waiting deliveries wait); False if it already was."""
    now = timezone.now()
    updated = WebhookSubscription.objects.filter(pk=subscription.pk, is_active=True).update(
        is_active=False, disabled_reason=reason, disabled_at=now, updated_at=now
    )
    subscription.refresh_from_db()
    return bool(updated)


def enable(subscription: WebhookSubscription) -> bool:
    """Turn the subscription on again, its failure count from zero; False if it was on."""
    updated = WebhookSubscription.objects.filter(pk=subscription.pk, is_active=False).update(
        is_active=True,
        disabled_reason="",
        disabled_at=None,
        consecutive_failures=0,
        updated_at=timezone.now(),
    )
    subscription.refresh_from_db()
    if updated:
        # Deliveries that waited while it was off are due now; the sweeper sends them.
        WebhookDelivery.objects.filter(
            subscription=subscription, state=DeliveryState.PENDING
        ).update(next_attempt_at=timezone.now())
    return bool(updated)


def delete_subscription(subscription: WebhookSubscription) -> None:
    """Delete the subscription with its deliveries and their log."""
    subscription.delete()


def record_delivered(subscription_id: int) -> None:
    """A delivery arrived: the run of failures is over (a write only when there was one)."""
    WebhookSubscription.objects.filter(pk=subscription_id, consecutive_failures__gt=0).update(
        consecutive_failures=0
    )


def record_failed(subscription_id: int) -> bool:
    """A delivery ended failed, in the transaction that records it. After
    ``WEBHOOK_DISABLE_AFTER_FAILURES`` in a row the subscription is turned off and each
    administrator gets a mail (the outbox row in this transaction). True if it was turned off."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    subscription.consecutive_failures += 1
    fields = ["consecutive_failures"]
    turned_off = (
        subscription.is_active
        and subscription.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES
    )
    if turned_off:
        subscription.is_active = False
        subscription.disabled_reason = DisabledReason.FAILURES
        subscription.disabled_at = timezone.now()
        fields += ["is_active", "disabled_reason", "disabled_at"]
    subscription.save(update_fields=fields)
    if turned_off:
        _mail_administrators(subscription)
    return turned_off


def _mail_administrators(subscription: WebhookSubscription) -> None:
    assert transaction.get_connection().in_atomic_block
    tenant = subscription.tenant
    url = settings.SITE_URL + reverse(
        "administration:webhooks:deliveries",
        kwargs={"tenant_slug": tenant.slug, "subscription_id": subscription.pk},
    )
    context = {
        "tenant": tenant,
        "subscription": subscription,
        "failures": subscription.consecutive_failures,
        "url": url,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("emails/api/webhook_disabled_subject.txt", context)
        text = render_to_string("emails/api/webhook_disabled.txt", context)
    since = subscription.disabled_at.isoformat() if subscription.disabled_at else ""
    for address in administrator_emails(tenant):
        queue_mail(
            tenant=tenant,
            to=address,
            subject=" ".join(subject.split()),
            text=text,
            kind=MailKind.WEBHOOK_DISABLED,
            language=settings.LANGUAGE_CODE,
            dedupe_key=f"webhook_disabled:{subscription.pk}:{since}:{address}",
        )
