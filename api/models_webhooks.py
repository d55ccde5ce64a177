"""Webhook subscriptions of a tenant, the outbox of their deliveries and each delivery's
attempts (written by api.webhooks only; docs/adr/0011-webhooks.md)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField
from core.models import TenantManager, TenantOwnedModel


class EventType(models.TextChoices):
    ORDER_CREATED = "order.created", _("Order created")
    ORDER_STATUS_CHANGED = "order.status_changed", _("Order status changed")
    ORDER_CANCELLED = "order.cancelled", _("Order cancelled by Allegro")
    SHIPMENT_CREATED = "shipment.created", _("Shipment created")
    LABEL_CREATED = "label.created", _("Label created")
    # Sent once the catalogue of products tells of stock changes (catalog.signals.stock_changed).
    STOCK_CHANGED = "stock.changed", _("Stock changed")


# The "send test" button's event: not a subscription choice, sent to one subscription on request.
TEST_EVENT = "webhook.test"


class DisabledReason(models.TextChoices):
    BY_ADMINISTRATOR = "by_administrator", _("Turned off by an administrator")
    FAILURES = "failures", _("Turned off after repeated failed deliveries")


class WebhookSubscription(TenantOwnedModel):
    """An address of the seller's other system that is told of chosen events, signed with a
    secret of its own (shown once; kept encrypted, because signing needs it)."""

    url = models.URLField(_("address"), max_length=500)
    # The EventType values chosen (a list: the development server runs on SQLite too).
    events = models.JSONField(default=list)
    secret = EncryptedTextField()
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(
        max_length=20, choices=DisabledReason.choices, blank=True, default=""
    )
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Deliveries that ended failed one after another (a delivered one sets it back to 0).
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "is_active"], name="webhooksub_tenant_active"),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def event_labels(self) -> list[str]:
        labels = dict(EventType.choices)
        return [str(labels.get(event, event)) for event in self.events]

    @property
    def secret_last_four(self) -> str:
        return self.secret[-4:]


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDeliveryQuerySet(models.QuerySet["WebhookDelivery"]):
    def due(self, now: object) -> WebhookDeliveryQuerySet:
        """Rows a sender should pick up now: waiting and due, or claimed by a sender whose
        lease ran out (it died between sending and recording), of an active subscription."""
        return self.filter(
            models.Q(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            | models.Q(state=DeliveryState.SENDING, lease_until__lt=now),
            subscription__is_active=True,
        )


WebhookDeliveryManager = TenantManager.from_queryset(WebhookDeliveryQuerySet)


class WebhookDelivery(TenantOwnedModel):
    """One event for one subscription: the outbox row, written in the transaction of the
    change. ``body`` is the exact JSON sent (and signed) on every attempt; ``event_id`` is the
    same on every attempt, so a receiver can drop a repeat."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(default=uuid.uuid4)
    event_type = models.CharField(max_length=40)
    # What the event is about ("order.created:<order id>"): set for events that happen once, so
    # the same one is never written twice for a subscription.
    dedupe_key = models.CharField(max_length=100, null=True, blank=True)
    body = models.TextField()
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    # The due() query of the sender and the sweeper (a manager built from the queryset: Any to
    # django-stubs, as OutgoingMail's).
    objects: ClassVar[Any] = WebhookDeliveryManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "subscription", "dedupe_key"], name="webhookdelivery_dedupe"
            ),
            # One delivery of an event per subscription; also the lookup of an event's rows.
            models.UniqueConstraint(
                fields=["tenant", "event_id", "subscription"], name="webhookdelivery_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "subscription", "created_at"], name="webhookdelivery_sub_log"
            ),
            # The sweeper's query: only rows still to send.
            models.Index(
                fields=["next_attempt_at"],
                name="webhookdelivery_due",
                condition=models.Q(state__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.state}"


class WebhookAttempt(TenantOwnedModel):
    """One try of a delivery: what the receiver answered (or why there was no answer)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["delivery_id", "number"]
        indexes = [
            models.Index(fields=["tenant", "delivery", "number"], name="webhookattempt_delivery")
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"
