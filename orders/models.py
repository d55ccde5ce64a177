"""Orders and the tenant's own order statuses."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TenantOwnedModel


class StatusGroup(models.TextChoices):
    """Decides the order-list tab a status belongs to."""

    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    TO_SHIP = "to_ship", _("To ship")
    COMPLETED = "completed", _("Completed")
    OTHER = "other", _("Other")


class SystemStatus(models.TextChoices):
    """Statuses the system itself moves orders into; seeded for every tenant."""

    UNCONFIRMED = "unconfirmed", _("Unconfirmed")
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    READY_TO_SHIP = "ready_to_ship", _("Ready to ship")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a colour as # and six hexadecimal digits, e.g. #1f7a3d.")
)


class OrderStatus(TenantOwnedModel):
    """One of the tenant's own order statuses.

    `system_code` marks the seeded built-ins; the `locked` ones are needed by the order import
    (unconfirmed, new, cancelled) and can be renamed and recoloured but never deleted or
    deactivated.
    """

    name = models.CharField(_("name"), max_length=60)
    buyer_name = models.CharField(
        _("name shown to the buyer"),
        max_length=60,
        blank=True,
        help_text=_("What customers see, e.g. in the customer zone. Empty: the name."),
    )
    colour = models.CharField(
        _("colour"), max_length=7, default="#6b7280", validators=[colour_validator]
    )
    group = models.CharField(_("order-list tab"), max_length=20, choices=StatusGroup.choices)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    system_code = models.CharField(
        max_length=20, choices=SystemStatus.choices, blank=True, default=""
    )
    locked = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("order status")
        verbose_name_plural = _("order statuses")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="orderstatus_tenant_name_uniq"),
            models.UniqueConstraint(
                fields=["tenant", "system_code"],
                condition=~models.Q(system_code=""),
                name="orderstatus_tenant_system_code_uniq",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "position"], name="orderstatus_tenant_pos")]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_to_buyer(self) -> str:
        return self.buyer_name or self.name
