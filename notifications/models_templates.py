"""Template sets, their templates, the per-channel allowances of categories Allegro forbids, and
the customer zone's links (imported by notifications.models).

Written only by notifications.templates (sets, templates, allowances) and
notifications.customer_zone (links).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TenantOwnedModel


class Language(models.TextChoices):
    POLISH = "pl", _("Polish")
    ENGLISH = "en", _("English")


class Trigger(models.TextChoices):
    """What makes a template send."""

    ORDER_IMPORTED = "order_imported", _("Order imported")
    STATUS_ENTERED = "status_entered", _("Status entered")
    SHIPMENT_ADDED = "shipment_added", _("Shipment added")
    LABEL_GENERATED = "label_generated", _("Shipping label generated")


class Category(models.TextChoices):
    """What a template says to the buyer: decides whether Allegro allows it (REFERENCE §11)."""

    ORDER_CONFIRMATION = "order_confirmation", _("Order confirmation")
    STATUS_UPDATE = "status_update", _("Status update")
    TRACKING = "tracking", _("Tracking")
    PAYMENT_REMINDER = "payment_reminder", _("Payment reminder")
    THANKS = "thanks", _("Thanks or feedback request")
    INVOICE = "invoice", _("Invoice or receipt")
    OTHER = "other", _("Question or other")


# Since 20 Oct 2025 Allegro forbids seller-initiated mail to its buyers that repeats order or
# payment confirmations, status or tracking, reminds about payment, thanks, asks for feedback or
# sends invoices: every category but "question or other".
FORBIDDEN_ON_ALLEGRO: frozenset[str] = frozenset(Category.values) - {Category.OTHER}


class TemplateSet(TenantOwnedModel):
    """A named set of templates; a channel sends its customers the mails of the set it names."""

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(
        _("language"),
        max_length=2,
        choices=Language.choices,
        default=Language.POLISH,
        help_text=_("The language of the set's mails (numbers and dates are written in it)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("template set")
        verbose_name_plural = _("template sets")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="templateset_tenant_name"),
        ]

    def __str__(self) -> str:
        return self.name


class MessageTemplate(TenantOwnedModel):
    """One mail of a set: when it is sent (trigger, and the status for "status entered"), what
    it says (category), and its subject and bodies in the safe renderer's syntax."""

    template_set = models.ForeignKey(
        TemplateSet, on_delete=models.CASCADE, related_name="templates", db_index=False
    )
    name = models.CharField(_("name"), max_length=100)
    trigger = models.CharField(_("sent when"), max_length=20, choices=Trigger.choices)
    # For "status entered": which status. A deleted status leaves the template without one; it
    # then sends nothing until a status is chosen again.
    status = models.ForeignKey(
        "orders.OrderStatus",
        verbose_name=_("status"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    subject = models.CharField(_("subject"), max_length=300)
    body_text = models.TextField(_("plain-text body"))
    body_html = models.TextField(
        _("HTML body"),
        blank=True,
        default="",
        help_text=_("Optional. Values filled in are escaped, so a buyer's name is never markup."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        indexes = [
            models.Index(
                fields=["tenant", "template_set", "trigger"], name="messagetemplate_set_trigger"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CategoryAllowance(TenantOwnedModel):
    """An administrator's explicit decision that a category Allegro forbids is sent anyway to
    this channel's buyers (who decided and when is kept; deleting the row withdraws it)."""

    channel = models.ForeignKey(
        "channels.SalesChannel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    allowed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    allowed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "category"], name="categoryallowance_channel_cat"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.category}"


class CustomerZoneLink(TenantOwnedModel):
    """The customer zone link of one order. The token is derived from ``nonce`` with the
    deployment's secret key (notifications.customer_zone), so the order page and mails can show
    it again; only its sha256 is stored, and the public page finds the link by it."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    nonce = models.CharField(max_length=32)
    # Unique across tenants: the public address carries no tenant.
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "order"], name="customerzonelink_order"),
        ]

    def __str__(self) -> str:
        return f"customer zone of order {self.order_id}"
