"""Mailboxes (the tenant's SMTP accounts), the mail outbox (`OutgoingMail`) and what the relay
guard knows of the sender addresses registered on each Allegro account.

Every e-mail the product sends is an `OutgoingMail` row first, written in the transaction of the
event that causes it (notifications.outbox.queue_mail); a task sends it (notifications.sender),
a beat sweeper re-dispatches rows that are due or whose sender died (adr/0007).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField
from core.models import Tenant, TenantManager, TenantOwnedModel, assert_writable_in_scope


class MailboxSecurity(models.TextChoices):
    SSL = "ssl", _("SSL/TLS (usually port 465)")
    STARTTLS = "starttls", _("STARTTLS (usually port 587)")
    NONE = "none", _("None (unencrypted)")


class Mailbox(TenantOwnedModel):
    """An SMTP account of the tenant that mail is sent from (Administracja → Skrzynki pocztowe).

    The password is encrypted at rest and never rendered back into a form."""

    name = models.CharField(_("name"), max_length=100)
    host = models.CharField(_("SMTP server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=587)
    security = models.CharField(
        _("security"), max_length=10, choices=MailboxSecurity.choices, default="starttls"
    )
    username = models.CharField(_("user name"), max_length=255, blank=True, default="")
    password = EncryptedTextField(_("password"), blank=True, default="")
    from_name = models.CharField(_("sender name"), max_length=100, blank=True, default="")
    from_address = models.EmailField(_("sender address"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[TenantManager[Self]] = TenantManager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="mailbox_tenant_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.from_address}>"


class MailKind(models.TextChoices):
    ACCOUNT = "account", _("Account")
    REAUTH = "reauth", _("Re-authorization needed")
    SELLER_NEW_ORDER = "seller_new_order", _("New order for the seller")
    CUSTOMER = "customer", _("To the customer")
    TEST = "test", _("Test")
    WEBHOOK_DISABLED = "webhook_disabled", _("Webhook turned off")


class MailState(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    RETRY_WAIT = "retry_wait", _("Waiting to try again")
    FAILED = "failed", _("Failed")
    HELD = "held", _("Held back")


class MailSender(models.TextChoices):
    PLATFORM = "platform", _("Platform sender")
    MAILBOX = "mailbox", _("Mailbox")


class MailProblem(models.TextChoices):
    """Why a try did not deliver (put in words with the server's own answer by
    notifications.reasons)."""

    TEMPORARY = "temporary", _("The server refused for now")
    PERMANENT = "permanent", _("The server refused the message")
    AUTH = "auth", _("The server refused the user name or password")
    TLS = "tls", _("A secure connection could not be made")
    DISCONNECTED = "disconnected", _("The server closed the connection")
    TIMEOUT = "timeout", _("The server did not answer in time")
    UNREACHABLE = "unreachable", _("The server could not be reached")
    CONFIG = "config", _("The mailbox settings are incomplete")
    WORKER_LOST = "worker_lost", _("Sending was interrupted")


class HoldReason(models.TextChoices):
    """Why a mail is held back and never sent (held rows say it on the log and the timeline).

    A caller of queue_mail may give one of these codes or its own sentence."""

    MAILBOX_DELETED = "mailbox_deleted", _("Its mailbox was deleted before it was sent.")
    RELAY_UNREGISTERED = (
        "relay_unregistered",
        _(
            "Allegro relays mail to its buyers only from sender addresses registered on the "
            "seller's Allegro account; this mailbox's address is not registered there."
        ),
    )
    RELAY_NO_CHANNEL = (
        "relay_no_channel",
        _("An Allegro relay address gets mail only about an order of an Allegro account."),
    )
    # The category guard (notifications.customer_mail, adr/0008).
    ALLEGRO_CATEGORY = (
        "allegro_category",
        _("Held: Allegro forbids this category since 20 Oct 2025."),
    )
    EMPTY_RENDER = (
        "empty_render",
        _("Held: the template's subject or body is empty for this order."),
    )


class OutgoingMailQuerySet(models.QuerySet["OutgoingMail"]):
    def due(self, now: Any = None) -> OutgoingMailQuerySet:
        """Rows a sender should pick up now: waiting and due, or claimed by a sender whose
        lease ran out (it died between claiming and recording the outcome)."""
        now = now or timezone.now()
        return self.filter(
            models.Q(state__in=[MailState.QUEUED, MailState.RETRY_WAIT], next_attempt_at__lte=now)
            | models.Q(state=MailState.SENDING, lease_until__lt=now)
        )


OutgoingMailManager = TenantManager.from_queryset(OutgoingMailQuerySet)


class OutgoingMail(models.Model):
    """One e-mail, from the moment it was decided on to its delivery (or why not).

    ``tenant`` is null for platform mail that belongs to no company (sign-up, password reset):
    the scoped manager filters by the active tenant, so such rows are never visible to any
    tenant, and only system code (``scopes_disabled()``) reads them.

    ``message_id`` is fixed when the row is written: a retry after an unknown outcome resends
    the same Message-ID, so the recipient's client shows one message (adr/0007).
    """

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    sender = models.CharField(max_length=10, choices=MailSender.choices)
    # SET_NULL, not CASCADE: a deleted mailbox's waiting mails stay (held, with the reason).
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mailbox_name = models.CharField(max_length=100, blank=True, default="")
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=MailKind.choices)
    category = models.CharField(max_length=40, blank=True, default="")
    language = models.CharField(max_length=10, blank=True, default="")
    from_address = models.CharField(max_length=320, blank=True, default="")
    to_address = models.CharField(max_length=320)
    subject = models.TextField()
    text = models.TextField()
    html = models.TextField(null=True, blank=True)
    message_id = models.CharField(max_length=255, unique=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)

    state = models.CharField(max_length=12, choices=MailState.choices, default=MailState.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # While SENDING: until when the claiming sender may take (after it the sweeper takes over).
    lease_until = models.DateTimeField(null=True, blank=True)
    # The last SMTP answer: code and text as the server said them (or our words for a
    # connection that broke), and what kind of problem it was.
    reply_code = models.IntegerField(null=True, blank=True)
    reply_text = models.CharField(max_length=1000, blank=True, default="")
    problem = models.CharField(max_length=20, choices=MailProblem.choices, blank=True, default="")
    hold_reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[Any] = OutgoingMailManager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [
            models.Index(fields=["tenant", "-id"], name="mail_tenant_id"),
            models.Index(fields=["tenant", "order", "id"], name="mail_tenant_order"),
            models.Index(fields=["tenant", "mailbox", "-id"], name="mail_tenant_mailbox"),
            models.Index(fields=["tenant", "state", "-id"], name="mail_tenant_state"),
            # The sweeper's cross-tenant scan of due rows (system query, no tenant).
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state__in=["queued", "retry_wait"]),
                name="mail_waiting_due",
            ),
            models.Index(
                fields=["lease_until"],
                condition=models.Q(state="sending"),
                name="mail_sending_lease",
            ),
        ]
        constraints = [
            # "Exactly once" callers (one seller mail per order, one re-auth mail per
            # transition) give a key: a second write of it returns the first row.
            models.UniqueConstraint(
                fields=["tenant", "dedupe_key"],
                condition=models.Q(dedupe_key__isnull=False),
                nulls_distinct=False,
                name="mail_tenant_dedupe_key",
            ),
            models.CheckConstraint(
                condition=~models.Q(sender="mailbox")
                | models.Q(mailbox__isnull=False)
                | ~models.Q(state__in=["queued", "sending", "retry_wait"]),
                name="mail_waiting_mailbox_exists",
            ),
        ]

    def __str__(self) -> str:
        return f"mail {self.pk} to {self.to_address} ({self.state})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Platform rows (no tenant) are written only by system code (scopes_disabled()).
        assert_writable_in_scope(self.tenant_id)
        super().save(*args, **kwargs)


class SenderRegistration(TenantOwnedModel):
    """What Allegro said, when last asked, about the sender addresses registered on one
    channel's Allegro account (GET /account/additional-emails). Written only by the refresh
    task; the relay guard and the channel page read it, never Allegro."""

    channel = models.ForeignKey(
        "channels.SalesChannel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Canonical (lower-case) addresses with Allegro's ids: {"address": "id", ...}.
    addresses = models.JSONField(default=dict)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # Why the last refresh did not get an answer (e.g. the scope is missing), in a code.
    problem = models.CharField(max_length=40, blank=True, default="")
    problem_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel"], name="senderregistration_tenant_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"sender addresses of channel {self.channel_id}"

    def is_registered(self, address: str) -> bool:
        return address.strip().lower() in self.addresses


# Template sets, templates, category allowances and customer zone links live in their own
# module; Django finds every model of the app through this one.
from notifications.models_templates import (  # noqa: E402
    FORBIDDEN_ON_ALLEGRO,
    Category,
    CategoryAllowance,
    CustomerZoneLink,
    Language,
    MessageTemplate,
    TemplateSet,
    Trigger,
)

__all__ = [
    "FORBIDDEN_ON_ALLEGRO",
    "Category",
    "CategoryAllowance",
    "CustomerZoneLink",
    "HoldReason",
    "Language",
    "MailKind",
    "MailState",
    "Mailbox",
    "MessageTemplate",
    "OutgoingMail",
    "SenderRegistration",
    "TemplateSet",
    "Trigger",
]
