"""Sales channels (Allegro accounts) and their OAuth credentials.

The channel row is also the account's lock: every change of its connection state and of its
credential happens under ``SELECT … FOR NO KEY UPDATE`` of the channel row (see
channels/services/locking.py), so token refreshes are single-flight per account.
"""

from __future__ import annotations

from typing import ClassVar, Self

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField
from core.models import TenantManager, TenantOwnedModel
from notifications.renderer import validate_shipment_comment

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

    # Order sync: the status paid orders of this channel start in; null = "New".
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
        from channels.services.tokens import reauth_reason_in_words

        return reauth_reason_in_words(self.needs_reauth_reason)[0]

    @property
    def needs_reauth_code(self) -> str:
        from channels.services.tokens import reauth_reason_in_words

        return reauth_reason_in_words(self.needs_reauth_reason)[1]

    @property
    def sync_health(self):
        """The order sync's health for the channel page (channels.services.sync.health_of)."""
        from channels.services.sync import health_of

        return health_of(self)


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


# --------------------------------------------------------------------------- order sync
# (docs/adr/0003-order-sync.md). The import status is a channel setting (on
# SalesChannel above); everything the sync engine keeps about an account lives in
# ChannelSyncState, one row per channel, so the account lock (the SalesChannel row, taken by
# token refreshes) and the sync bookkeeping never contend.


class PollOutcome(models.TextChoices):
    NEVER = "", _("Not polled yet")
    OK = "ok", _("OK")
    PARTIAL = "partial", _("Interrupted, will continue")
    FAILED = "failed", _("Failed")


class BackfillState(models.TextChoices):
    NONE = "", _("Not started")
    PENDING = "pending", _("Waiting to start")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Stopped with an error")


class ChannelSyncState(TenantOwnedModel):
    """What the sync engine knows about one channel: the journal cursor, the poll schedule and
    health, the backfill's progress and the reconciliation's findings.

    Written only by channels/services/sync.py, backfill.py and reconcile.py. The cursor moves in
    the same transaction as the orders it covers.
    """

    channel = models.ForeignKey(
        SalesChannel, on_delete=models.CASCADE, related_name="sync_states", db_index=False
    )

    # --- Journal cursor: the id of the last /order/events event processed ("" = from the
    # oldest retained event, which is right only for a journal that was empty at bootstrap).
    cursor = models.CharField(max_length=32, blank=True, default="")
    cursor_bootstrapped_at = models.DateTimeField(null=True, blank=True)
    # "<environment>:<seller id>" the cursor belongs to: another account (the channel's
    # environment was changed and it was authorized again) starts over.
    cursor_account = models.CharField(max_length=64, blank=True, default="")
    # occurredAt of the last processed event (for the lag shown on the channel page).
    last_event_occurred_at = models.DateTimeField(null=True, blank=True)

    # --- Poll schedule and health.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_interval_seconds = models.PositiveIntegerField(default=15)
    last_poll_started_at = models.DateTimeField(null=True, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_poll_outcome = models.CharField(
        max_length=10, choices=PollOutcome.choices, blank=True, default=PollOutcome.NEVER
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_poll_events = models.PositiveIntegerField(default=0)
    last_poll_orders = models.PositiveIntegerField(default=0)
    last_poll_requests = models.PositiveIntegerField(default=0)
    # How many times the cursor moved (one per committed batch of events).
    cursor_advances = models.PositiveBigIntegerField(default=0)
    events_processed = models.PositiveBigIntegerField(default=0)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # The last problem, in words a seller understands (never a token or a response body).
    last_error = models.CharField(max_length=500, blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Checkout forms that could not be imported (or disappeared), newest first:
    # [{"id", "error", "at"}], at most BAD_FORMS_KEPT.
    bad_forms = models.JSONField(default=list, blank=True)
    bad_forms_total = models.PositiveIntegerField(default=0)

    # --- Backfill (first connection) and re-import of a date range.
    backfill_state = models.CharField(
        max_length=10, choices=BackfillState.choices, blank=True, default=BackfillState.NONE
    )
    # +1 for every new backfill: a task of an older run stops at its next page.
    backfill_run = models.PositiveIntegerField(default=0)
    backfill_from = models.DateTimeField(null=True, blank=True)
    backfill_to = models.DateTimeField(null=True, blank=True)
    # Keyset position: the purchase time of the last form imported, and how many forms with
    # exactly that time were already imported (ties).
    backfill_position = models.DateTimeField(null=True, blank=True)
    backfill_position_offset = models.PositiveIntegerField(default=0)
    backfill_total = models.PositiveIntegerField(default=0)
    backfill_done = models.PositiveIntegerField(default=0)
    backfill_created = models.PositiveIntegerField(default=0)
    backfill_failed = models.PositiveIntegerField(default=0)
    backfill_started_at = models.DateTimeField(null=True, blank=True)
    backfill_heartbeat_at = models.DateTimeField(null=True, blank=True)
    backfill_finished_at = models.DateTimeField(null=True, blank=True)
    backfill_error = models.CharField(max_length=500, blank=True, default="")

    # --- Reconciliation sweeps.
    last_reconcile_at = models.DateTimeField(null=True, blank=True)
    last_reconcile_window_hours = models.PositiveIntegerField(default=0)
    last_reconcile_checked = models.PositiveIntegerField(default=0)
    # Orders the journal had missed: not in the database, or in another state than Allegro's.
    last_reconcile_missing = models.PositiveIntegerField(default=0)
    last_reconcile_missing_ids = models.JSONField(default=list, blank=True)
    reconcile_missing_total = models.PositiveIntegerField(default=0)
    last_reconcile_error = models.CharField(max_length=500, blank=True, default="")

    created_at = models.DateTimeField(auto_now_add=True)

    BAD_FORMS_KEPT = 20

    class Meta:
        verbose_name = _("channel sync state")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel"], name="channelsyncstate_tenant_ch"
            ),
        ]

    def __str__(self) -> str:
        return f"sync state of channel {self.channel_id} (cursor {self.cursor or '-'})"

    @property
    def backfill_active(self) -> bool:
        return self.backfill_state in (BackfillState.PENDING, BackfillState.RUNNING)

    @property
    def backfill_percent(self) -> int:
        if self.backfill_state == BackfillState.DONE:
            return 100
        if not self.backfill_total:
            return 0
        return min(100, int(self.backfill_done * 100 / self.backfill_total))


class StuckCheckoutForm(TenantOwnedModel):
    """A checkout form Allegro answers 5xx for while it serves the rest of the account (it has
    done so for single orders for hours). The journal poll sets it aside here and moves its
    cursor on; the poll retries the form on its own with backoff (``next_retry_at``), and the
    reconciliation sweeps (which read forms through the list endpoint) pick it up too. The row
    goes when the form is imported, or when Allegro answers 404 (merged away or removed).

    Written only by channels/services/sync.py and reconcile.py, under the channel's sync-state
    row lock.
    """

    channel = models.ForeignKey(
        SalesChannel, on_delete=models.CASCADE, related_name="stuck_forms", db_index=False
    )
    form_id = models.CharField(max_length=64)
    first_failed_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField()
    # HTTP status of Allegro's last answer for the form (a 5xx).
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    next_retry_at = models.DateTimeField()

    class Meta:
        verbose_name = _("checkout form Allegro cannot serve")
        ordering = ["first_failed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "form_id"], name="stuckcheckoutform_tenant_ch_form"
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "channel", "next_retry_at"], name="stuckform_tenant_ch_retry"
            ),
        ]

    def __str__(self) -> str:
        return f"stuck checkout form {self.form_id} of channel {self.channel_id}"

    @property
    def last_answer_words(self) -> str:
        """Allegro's last answer for the form, for the channel page."""
        if self.last_status in (502, 503, 504):
            return gettext("Allegro was unavailable")
        if self.last_status == 500:
            return gettext("internal error at Allegro")
        return gettext("error at Allegro")
