"""Sales channels (Allegro accounts) and their OAuth credentials.

The channel row is also the account's lock: every change of its connection state and of its
credential happens under ``SELECT … FOR NO KEY UPDATE`` of the channel row (see
channels/services/locking.py), so token refreshes are single-flight per account.
"""

from __future__ import annotations

from typing import ClassVar, Self

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField
from core.models import TenantManager, TenantOwnedModel
from core.renderer import validate_shipment_comment

BACKFILL_DAYS_MAX = 365

alias_validator = RegexValidator(
    r"^[A-Z]{2}\Z",
    _("The alias must be exactly two letters A–Z, for example AL."),
    code="alias",
)


class ChannelKind(models.TextChoices):
    ALLEGRO = "allegro", "Allegro"


class ConnectionState(models.TextChoices):
    NOT_CONNECTED = "not_connected", _("Not connected")
    CONNECTED = "connected", _("Connected")
    NEEDS_REAUTH = "needs_reauth", _("Re-authorization needed")


class SalesChannelQuerySet(models.QuerySet["SalesChannel"]):
    def pollable(self) -> SalesChannelQuerySet:
        """Accounts whose orders are fetched: active and connected (not needing re-auth)."""
        return self.filter(
            kind=ChannelKind.ALLEGRO, is_active=True, connection_state=ConnectionState.CONNECTED
        )

    def needing_reauth(self) -> SalesChannelQuerySet:
        return self.filter(is_active=True, connection_state=ConnectionState.NEEDS_REAUTH)


# The tenant-scoped manager, with the queryset's pollable() and needing_reauth().
SalesChannelManager = TenantManager.from_queryset(SalesChannelQuerySet)


class SalesChannel(TenantOwnedModel):
    """An Allegro seller account connected to a tenant, with its options."""

    kind = models.CharField(
        _("kind"), max_length=20, choices=ChannelKind.choices, default=ChannelKind.ALLEGRO
    )
    name = models.CharField(_("name"), max_length=100)
    alias = models.CharField(
        _("alias"),
        max_length=2,
        validators=[alias_validator],
        help_text=_("Two letters that start every order number from this channel, e.g. AL."),
    )
    allegro_login = models.CharField(
        _("Allegro login"),
        max_length=100,
        help_text=_("The login of the Allegro seller account you will authorize."),
    )
    pass_shipment_info = models.BooleanField(
        _("Pass shipment information to Allegro"),
        default=False,
        help_text=_(
            "When a shipment with a tracking number is added to an order, Allegro gets the "
            "tracking number and the order becomes “sent” on Allegro."
        ),
    )
    customer_zone = models.BooleanField(
        _("Customer zone"),
        default=False,
        help_text=_(
            "Give every order a private link to an order-summary page for the buyer; "
            "message templates can include it."
        ),
    )
    seller_notification_email = models.EmailField(
        _("Seller notification e-mail address"),
        blank=True,
        help_text=_("If set, this address gets an e-mail for every order fetched from Allegro."),
    )
    default_shipment_comment = models.CharField(
        _("Default shipment comment"),
        max_length=500,
        blank=True,
        validators=[validate_shipment_comment],
    )
    allegro_environment = models.CharField(_("Allegro environment"), max_length=20)
    backfill_days = models.PositiveSmallIntegerField(
        _("Days of past orders to import"),
        default=30,
        validators=[MinValueValidator(0), MaxValueValidator(BACKFILL_DAYS_MAX)],
        help_text=_("On the first authorization, orders from this many past days are imported."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    connection_state = models.CharField(
        _("connection"),
        max_length=20,
        choices=ConnectionState.choices,
        default=ConnectionState.NOT_CONNECTED,
    )
    connected_login = models.CharField(max_length=100, blank=True, default="")
    connected_seller_id = models.CharField(max_length=32, blank=True, default="")
    connected_at = models.DateTimeField(null=True, blank=True)
    needs_reauth_since = models.DateTimeField(null=True, blank=True)
    # Why re-authorization is needed, for the engineer on call (never a token).
    needs_reauth_reason = models.CharField(max_length=200, blank=True, default="")
    # Last successful call to Allegro for this account (any endpoint).
    last_contact_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Order sync: the status paid orders of this channel start in; null = "New". What the sync
    # engine keeps about the channel is in sync/models.py.
    import_status = models.ForeignKey(
        "orders.OrderStatus",
        verbose_name=_("status of new paid orders"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text=_("Paid orders from this channel start in this status. Empty: “New”."),
    )

    # The mailbox customer mail of this channel is sent from; null = the platform's sender.
    # PROTECT: a mailbox in use is taken off its channels before it can be deleted.
    mailbox = models.ForeignKey(
        "notifications.Mailbox",
        verbose_name=_("E-mail account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="channels",
        db_index=False,
        help_text=_(
            "Customer e-mails of this channel are sent from this mailbox. Empty: the platform’s "
            "sender. Allegro relays mail to its buyers only from addresses registered on the "
            "seller’s Allegro account."
        ),
    )

    # The template set whose mails this channel's customers get (notifications); null = none.
    template_set = models.ForeignKey(
        "notifications.TemplateSet",
        verbose_name=_("Customer notification template set"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="channels",
        db_index=False,
        help_text=_(
            "The mails this channel's customers get automatically (Administration → Message "
            "templates). Since 20 October 2025 Allegro forbids sellers to send its buyers order "
            "or payment confirmations, status or tracking updates, payment reminders, thanks "
            "and invoices: mails of those categories are held back, not sent, unless you allow "
            "the category on the channel's page after reading why."
        ),
    )

    objects: ClassVar[SalesChannelManager[Self]] = SalesChannelManager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("sales channel")
        verbose_name_plural = _("sales channels")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "alias"], name="saleschannel_tenant_alias"),
            # One Allegro account is connected at most once per tenant (no double imports).
            models.UniqueConstraint(
                fields=["tenant", "allegro_environment", "connected_seller_id"],
                condition=~models.Q(connected_seller_id=""),
                name="saleschannel_tenant_env_seller",
            ),
            models.CheckConstraint(
                condition=models.Q(alias__regex=r"^[A-Z]{2}$"), name="saleschannel_alias_2_upper"
            ),
            models.CheckConstraint(
                condition=models.Q(backfill_days__gte=0, backfill_days__lte=BACKFILL_DAYS_MAX),
                name="saleschannel_backfill_days_range",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "connection_state", "is_active"], name="saleschannel_tenant_state"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.alias})"

    @property
    def is_connected(self) -> bool:
        return self.connection_state == ConnectionState.CONNECTED

    @property
    def needs_reauth(self) -> bool:
        return self.connection_state == ConnectionState.NEEDS_REAUTH

    @property
    def needs_reauth_words(self) -> str:
        """Why re-authorization is needed, in the seller's words (the raw code is
        ``needs_reauth_code``)."""
        # Imported here: channels.services.tokens imports this module.
        from channels.services.tokens import reauth_reason_in_words

        return reauth_reason_in_words(self.needs_reauth_reason)[0]

    @property
    def needs_reauth_code(self) -> str:
        # Imported here: channels.services.tokens imports this module.
        from channels.services.tokens import reauth_reason_in_words

        return reauth_reason_in_words(self.needs_reauth_reason)[1]


class AllegroCredential(TenantOwnedModel):
    """The OAuth token pair of one channel; tokens encrypted at rest.

    A ForeignKey with a (tenant, channel) unique constraint rather than a OneToOneField, so the
    unique index leads with the tenant (DESIGN §3). Written only under the channel's row lock.
    """

    channel = models.ForeignKey(
        SalesChannel, on_delete=models.CASCADE, related_name="credentials", db_index=False
    )
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField()
    access_expires_at = models.DateTimeField()
    # When the current access token was issued (its lifetime = access_expires_at - this).
    access_issued_at = models.DateTimeField()
    scopes = models.TextField(blank=True, default="")
    # +1 on every new pair: a worker that waited for the lock sees someone else refreshed.
    version = models.PositiveIntegerField(default=1)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel"], name="allegrocredential_tenant_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"credential of channel {self.channel_id} (v{self.version})"
