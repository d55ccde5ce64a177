"""API keys of a tenant and the stored answers of idempotent POSTs (written by api.keys and
api.idempotency only)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TenantOwnedModel


class KeyScope(models.TextChoices):
    READ = "read", _("Read")
    READ_WRITE = "read_write", _("Read and write")


class ApiKey(TenantOwnedModel):
    """A secret an integration sends as ``Authorization: Bearer <key>``.

    Only the sha256 of the secret is stored (the secret is 256 random bits, so a plain hash is
    enough: nothing to brute-force), with its last four characters to tell keys apart.
    """

    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(
        _("access"), max_length=20, choices=KeyScope.choices, default=KeyScope.READ
    )
    secret_hash = models.CharField(max_length=64, unique=True)
    last_four = models.CharField(max_length=4)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        default=150,  # new keys: API_DEFAULT_RATE_LIMIT_PER_MINUTE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="apikey_tenant_created")]

    def __str__(self) -> str:
        return f"{self.name} (…{self.last_four})"

    @property
    def can_write(self) -> bool:
        return self.scope == KeyScope.READ_WRITE


class IdempotentRequest(TenantOwnedModel):
    """The first answer to a POST sent with an ``Idempotency-Key``, replayed for repeats."""

    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)  # 0 until the answer is stored
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="idempotentrequest_tenant_key")
        ]
        indexes = [
            # beat's purge of answers past their retention (system query, no tenant)
            models.Index(fields=["created_at"], name="idempotentrequest_created"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.status_code}"


# The webhooks' tables (a module of their own).
from api.models_webhooks import (  # noqa: E402, F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


class FeedCounter(TenantOwnedModel):
    """The last position the tenant's event feed gave out. Written only by the database trigger
    of migration 0004 (at commit, under this row's lock): see adr/0012."""

    last = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="feedcounter_tenant")]

    def __str__(self) -> str:
        return f"feed of tenant {self.tenant_id} at {self.last}"


class FeedEntry(TenantOwnedModel):
    """One timeline entry's place in the tenant's event feed (``GET /api/v1/events/``).

    The position is given when the transaction that wrote the entry commits (a deferred
    database trigger on the timeline's table), one after the other per tenant: a reader that
    sees position n has seen every position below it. Nothing in Python writes these rows.
    """

    position = models.BigIntegerField()
    event = models.OneToOneField(
        "orders.OrderEvent", on_delete=models.CASCADE, related_name="+", db_constraint=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "position"], name="feedentry_tenant_pos")
        ]

    def __str__(self) -> str:
        return f"{self.position}: event {self.event_id}"
