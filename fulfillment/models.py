"""Changes flowing out to Allegro: status mappings, shipments and the push outbox.

* ``StatusMapping`` — per channel, which Allegro fulfillment status each of the tenant's
  statuses sets (blank: none). A status without a row uses the default of its system code
  (``services.mappings.DEFAULTS``), so a new channel works without anyone saving the page.
* ``ChannelFulfillmentSettings`` — per channel, the status an order takes when a shipment is
  added (no row: the tenant's "sent" status).
* ``ChannelCarriers`` — per channel, Allegro's list of carriers as a task last fetched it.
* ``Shipment`` — a parcel with its waybill, one per (order, carrier, waybill).
* ``CourierAccount``, ``LabelJob``, ``LabelBatch`` — labels through Wysyłam z Allegro: the
  sender's defaults per Allegro channel, one label of one order (the outbox row of its create
  command), labels of many orders printed from one file (adr/0009).
* ``FulfillmentPush`` — the outbox: one row per change that must reach Allegro, written in the
  transaction of the change, sent by a task dispatched on commit and re-dispatched by the beat
  sweeper until it is finished (docs/adr/0004-fulfillment-outbox.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TenantOwnedModel
from orders.models import SettableFulfillment


def _label_storage() -> Storage:
    # Label files are the tenant's (names carry it) and never served publicly: a view checks
    # the tenant and streams them (settings.STORAGES["labels"]).
    return storages["labels"]


class StatusMapping(TenantOwnedModel):
    channel = models.ForeignKey(
        "channels.SalesChannel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.ForeignKey(
        "orders.OrderStatus", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # "" = this status sets nothing on Allegro.
    fulfillment_status = models.CharField(
        max_length=32, choices=SettableFulfillment.choices, blank=True, default=""
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "status"], name="statusmapping_tenant_ch_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.status_id} → {self.fulfillment_status or '-'}"


class ChannelFulfillmentSettings(TenantOwnedModel):
    channel = models.ForeignKey(
        "channels.SalesChannel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Null (with a row): adding a shipment does not change the status.
    shipment_status = models.ForeignKey(
        "orders.OrderStatus",
        verbose_name=_("status after a shipment is added"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel"], name="channelfulfillment_tenant_ch"
            ),
        ]

    def __str__(self) -> str:
        return f"fulfillment settings of channel {self.channel_id}"


class ChannelCarriers(TenantOwnedModel):
    """Allegro's carriers (``GET /order/carriers``) as last fetched for a channel.

    Pages and the shipment service read this (through the cache) and never call Allegro; only
    the refresh task writes it (services/carriers.py). A row rather than only the cache: every
    order page needs the list, and after a Redis flush or eviction a cache alone would put every
    page back on the fallback list and send every channel to Allegro at once; a row survives
    that, and its dates tell beat which lists are due. One per channel, fetched with the
    channel's own token and owned by its tenant like the rest of its data (Allegro lists the
    same carriers to every seller of an environment, so this costs one small call per channel
    a day).
    """

    channel = models.ForeignKey(
        "channels.SalesChannel",
        on_delete=models.CASCADE,
        related_name="fulfillment_carriers",
        db_index=False,
    )
    # [[carrier id, name], …] as Allegro listed them, without OTHER (the form has its own);
    # [] until Allegro answered once.
    carriers = models.JSONField(default=list, blank=True)
    # When Allegro last answered with the list (None: never).
    fetched_at = models.DateTimeField(null=True, blank=True)
    # When beat should fetch it again: a day after a success, minutes after a failure, and
    # a few minutes ahead while a refresh waits in the queue (beat's claim).
    next_refresh_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "channel"], name="channelcarriers_tenant_ch"),
        ]
        indexes = [
            # Beat's cross-tenant scan of due lists (system query, no tenant).
            models.Index(fields=["next_refresh_at"], name="channelcarriers_due"),
        ]

    def __str__(self) -> str:
        return f"carriers of channel {self.channel_id} ({len(self.carriers)})"


class Shipment(TenantOwnedModel):
    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="shipments", db_index=False
    )
    channel = models.ForeignKey(
        "channels.SalesChannel", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    carrier_id = models.CharField(_("carrier"), max_length=64)
    # The carrier's name: Allegro's for a listed carrier, the seller's for OTHER.
    carrier_name = models.CharField(_("carrier name"), max_length=64, blank=True, default="")
    waybill = models.CharField(_("tracking number"), max_length=64)
    # Allegro line-item ids (OrderLine.external_id) in this parcel; [] = every line.
    line_ids = models.JSONField(default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True, default="")
    # Allegro's id of the shipment once it is there.
    external_id = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "order", "carrier_id", "waybill"],
                name="shipment_tenant_order_waybill",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier_id} {self.waybill}"

    @property
    def carrier_label(self) -> str:
        return self.carrier_name or self.carrier_id


class PushKind(models.TextChoices):
    STATUS = "status", _("Fulfillment status")
    SHIPMENT = "shipment", _("Shipment")


class PushState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    # Allegro already had the status: nothing was sent.
    SKIPPED = "skipped", _("Not needed")
    # A later status change of the same order was pending: only the latest is sent.
    SUPERSEDED = "superseded", _("Replaced by a later change")
    FAILED = "failed", _("Failed")


class PushError(models.TextChoices):
    """Why a push's last try did not finish it, in the seller's words (shown on the order and
    the channel; Allegro's own words, if any, go beside it in ``error_detail``)."""

    TRANSIENT = (
        "transient",
        _("Allegro did not answer or had an error. apilo tries again by itself."),
    )
    RATE_LIMITED = (
        "rate_limited",
        _("Allegro's request limit was reached; apilo waits for it and tries again."),
    )
    NOT_CONNECTED = (
        "not_connected",
        _(
            "The sales channel is not connected to Allegro. The change is sent once the "
            "channel is authorized again."
        ),
    )
    CONFLICT = "conflict", _("The buyer kept changing the order on Allegro; apilo tries again.")
    CHANGE_LIMIT = (
        "change_limit",
        _(
            "Allegro refused: this order's status was already changed on Allegro the maximum "
            "number of times (100). Set it in Allegro's own panel if needed."
        ),
    )
    REFUSED = "refused", _("Allegro refused the change.")
    NOT_FOUND = (
        "not_found",
        _("Allegro no longer knows this order (it may have been merged into another purchase)."),
    )
    WAYBILL_REFUSED = "waybill_refused", _("Allegro refused the tracking number.")
    WAYBILL_USED = (
        "waybill_used",
        _("Allegro refused the tracking number: it is already used on too many orders."),
    )
    CONFIGURATION = (
        "configuration",
        _("The channel's Allegro environment is not configured on this server."),
    )


class FulfillmentPush(TenantOwnedModel):
    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    channel = models.ForeignKey(
        "channels.SalesChannel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=10, choices=PushKind.choices)
    # The Allegro fulfillment status to set (kind = status).
    target_status = models.CharField(max_length=32, blank=True, default="")
    shipment = models.ForeignKey(
        Shipment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="pushes",
        db_index=False,
    )
    state = models.CharField(max_length=12, choices=PushState.choices, default=PushState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Allegro requests made for this push (bench and diagnosis).
    requests = models.PositiveIntegerField(default=0)
    # When the sweeper should look at it again (a pending row only).
    next_attempt_at = models.DateTimeField()
    # Why the last try did not finish it (put in words by services.push.reasons.reason_text,
    # with Allegro's own words, if any). Shown on the order and the channel.
    error_code = models.CharField(max_length=40, choices=PushError.choices, blank=True, default="")
    error_detail = models.CharField(max_length=500, blank=True, default="")
    error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["tenant", "order", "id"], name="push_tenant_order"),
            models.Index(
                fields=["tenant", "channel", "state", "id"],
                condition=models.Q(state__in=["pending", "failed"]),
                name="push_tenant_ch_open",
            ),
            # The sweeper's cross-tenant scan of due rows (system query, no tenant).
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="push_pending_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="status") | ~models.Q(target_status=""),
                name="push_status_has_target",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="shipment") | models.Q(shipment__isnull=False),
                name="push_shipment_has_shipment",
            ),
        ]

    def __str__(self) -> str:
        what = (
            self.target_status if self.kind == PushKind.STATUS else f"shipment {self.shipment_id}"
        )
        return f"push {self.pk} of order {self.order_id}: {what} ({self.state})"


# --------------------------------------------------------------------------- labels (WzA)
class PackageType(models.TextChoices):
    PACKAGE = "PACKAGE", _("Parcel")
    DOX = "DOX", _("Envelope")
    PALLET = "PALLET", _("Pallet")
    OTHER = "OTHER", _("Other")


class LabelFormat(models.TextChoices):
    PDF = "PDF", "PDF"
    ZPL = "ZPL", _("ZPL (thermal printer)")


class PageSize(models.TextChoices):
    A4 = "A4", "A4"
    A6 = "A6", _("A6 (label printer)")


class CourierAccount(TenantOwnedModel):
    """Administracja → Kurierzy → Wysyłam z Allegro: the sender and label defaults of labels
    made through one Allegro channel (services/labels/accounts.py writes it)."""

    channel = models.ForeignKey(
        "channels.SalesChannel",
        verbose_name=_("Allegro account"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    name = models.CharField(_("name"), max_length=100)
    sender_name = models.CharField(_("sender's name"), max_length=100, blank=True, default="")
    sender_company = models.CharField(_("company"), max_length=100, blank=True, default="")
    street = models.CharField(_("street and number"), max_length=100)
    postal_code = models.CharField(_("postal code"), max_length=12)
    city = models.CharField(_("city"), max_length=60)
    country_code = models.CharField(_("country"), max_length=2, default="PL")
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=20)
    drop_off_point = models.CharField(_("drop-off point"), max_length=40, blank=True, default="")
    package_type = models.CharField(
        _("package type"), max_length=8, choices=PackageType.choices, default=PackageType.PACKAGE
    )
    length_cm = models.DecimalField(_("length (cm)"), max_digits=6, decimal_places=1)
    width_cm = models.DecimalField(_("width (cm)"), max_digits=6, decimal_places=1)
    height_cm = models.DecimalField(_("height (cm)"), max_digits=6, decimal_places=1)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=6, decimal_places=2)
    label_format = models.CharField(
        _("label format"), max_length=3, choices=LabelFormat.choices, default=LabelFormat.PDF
    )
    page_size = models.CharField(
        _("page size"), max_length=2, choices=PageSize.choices, default=PageSize.A6
    )
    cod_owner = models.CharField(
        _("account holder for cash on delivery"), max_length=100, blank=True, default=""
    )
    cod_iban = models.CharField(
        _("IBAN for cash on delivery"), max_length=34, blank=True, default=""
    )
    insure_order_value = models.BooleanField(_("insure for the order's value"), default=False)
    # The tenant's status an order moves to once its label is made (None: stays).
    status_after_label = models.ForeignKey(
        "orders.OrderStatus",
        verbose_name=_("status after the label"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="courieraccount_tenant_name"),
        ]
        indexes = [models.Index(fields=["tenant", "channel"], name="courieraccount_tenant_ch")]

    def __str__(self) -> str:
        return self.name


class LabelState(models.TextChoices):
    # the create command is to be sent (or its status read: see LabelJob.command_sent)
    CREATING = "creating", _("Being created")
    # Allegro made the shipment; its waybills or label file are still to come
    WAITING = "waiting", _("Waiting for the tracking number")
    READY = "ready", _("Label ready")
    # Allegro answered the command with ERROR (errors), or refused it
    ERROR = "error", _("Error")
    CANCELLING = "cancelling", _("Being cancelled")
    CANCELLED = "cancelled", _("Cancelled")


class LabelBatch(TenantOwnedModel):
    """Labels of many orders made together and printed from one file."""

    courier_account = models.ForeignKey(
        CourierAccount, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    file = models.FileField(storage=_label_storage, max_length=300, blank=True)
    file_type = models.CharField(max_length=3, blank=True, default="")
    # The handover protocol of the batch's shipments (Allegro's PDF), once asked for;
    # protocol_state: "" not asked, "pending", "ready", "none" (the carrier has none).
    protocol_file = models.FileField(storage=_label_storage, max_length=300, blank=True)
    protocol_state = models.CharField(max_length=8, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "id"], name="labelbatch_tenant")]

    def __str__(self) -> str:
        return f"label batch {self.pk}"


class LabelJob(TenantOwnedModel):
    """One label of one order: the outbox row of its create command, then the shipment Allegro
    made, its waybills and label file (services/labels/ writes it; adr/0009)."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    channel = models.ForeignKey(
        "channels.SalesChannel", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    courier_account = models.ForeignKey(
        CourierAccount, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    batch = models.ForeignKey(
        LabelBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
        db_index=False,
    )
    state = models.CharField(max_length=12, choices=LabelState.choices, default=LabelState.CREATING)
    # Each try after an ERROR is a new attempt with a new command id; a retry of the same
    # attempt (a worker lost mid-way) reuses it, so Allegro never makes a second shipment.
    attempt = models.PositiveIntegerField(default=1)
    command_id = models.CharField(max_length=36)
    # True once a create command of this attempt may have reached Allegro: then its status is
    # read before anything is sent again.
    command_sent = models.BooleanField(default=False)
    # the ShipmentCreateRequestDto sent
    shipment_input = models.JSONField(default=dict)
    # Allegro's id of the shipment it made
    wza_shipment_id = models.CharField(max_length=64, blank=True, default="")
    carrier = models.CharField(max_length=64, blank=True, default="")
    waybills = models.JSONField(default=list, blank=True)
    # Allegro's error items of the last ERROR ({code, path, userMessage}).
    errors = models.JSONField(default=list, blank=True)
    cancel_command_id = models.CharField(max_length=36, blank=True, default="")
    file = models.FileField(storage=_label_storage, max_length=300, blank=True)
    file_type = models.CharField(max_length=3, blank=True, default="")
    # our shipment row (carrier + waybill on the order) once the waybills are known
    shipment = models.ForeignKey(
        Shipment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    next_attempt_at = models.DateTimeField(default=timezone.now)
    requests = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "command_id"], name="labeljob_tenant_cmd"),
        ]
        indexes = [
            models.Index(fields=["tenant", "order", "id"], name="labeljob_tenant_order"),
            models.Index(fields=["tenant", "batch"], name="labeljob_tenant_batch"),
            # the sweeper's cross-tenant scan of unfinished labels (system query, no tenant)
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state__in=["creating", "waiting", "cancelling"]),
                name="labeljob_open_due",
            ),
        ]

    def __str__(self) -> str:
        return f"label {self.pk} of order {self.order_id} ({self.state})"


class PickupState(models.TextChoices):
    # the pickup windows are being asked of Allegro
    PROPOSING = "proposing", _("Asking for pickup times")
    CHOOSING = "choosing", _("Choose a pickup time")
    # the pickup command is to be sent (or its status read: see CourierPickup.command_sent)
    ORDERING = "ordering", _("Being ordered")
    ORDERED = "ordered", _("Pickup ordered")
    ERROR = "error", _("Error")


class CourierPickup(TenantOwnedModel):
    """A courier pickup of label shipments: the windows Allegro proposed, the one chosen, and
    the outbox row of its create command (services/labels/pickups.py writes it)."""

    courier_account = models.ForeignKey(
        CourierAccount, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    state = models.CharField(
        max_length=10, choices=PickupState.choices, default=PickupState.PROPOSING
    )
    # the label jobs picked up and their Allegro shipment ids, in the same order
    job_ids = models.JSONField(default=list)
    wza_shipment_ids = models.JSONField(default=list)
    # Allegro's windows: [{"date", "minTime", "maxTime"}]; the chosen one
    slots = models.JSONField(default=list, blank=True)
    pickup_time = models.JSONField(default=dict, blank=True)
    # each choice after an ERROR is a new attempt with a new command id
    attempt = models.PositiveIntegerField(default=0)
    command_id = models.CharField(max_length=36, blank=True, default="")
    command_sent = models.BooleanField(default=False)
    pickup_id = models.CharField(max_length=64, blank=True, default="")
    carrier_pickup_id = models.CharField(max_length=64, blank=True, default="")
    # Allegro's error items of the last ERROR ({code, path, userMessage})
    errors = models.JSONField(default=list, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["tenant", "id"], name="courierpickup_tenant"),
            # the sweeper's cross-tenant scan of unfinished pickups (system query, no tenant)
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state__in=["proposing", "ordering"]),
                name="courierpickup_open_due",
            ),
        ]

    def __str__(self) -> str:
        return f"courier pickup {self.pk} ({self.state})"


class ProtocolState(models.TextChoices):
    PENDING = "pending", _("Being fetched from Allegro")
    READY = "ready", _("Ready")
    # Allegro has no protocol for these shipments' carrier (204)
    NONE = "none", _("This carrier has no handover protocol")
    ERROR = "error", _("Error")


class HandoverProtocol(TenantOwnedModel):
    """The handover protocol of a day's labels of one courier account: the shipments as they
    were when asked for, and Allegro's PDF (services/labels/protocols.py writes it)."""

    courier_account = models.ForeignKey(
        CourierAccount, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    day = models.DateField()
    state = models.CharField(
        max_length=8, choices=ProtocolState.choices, default=ProtocolState.PENDING
    )
    wza_shipment_ids = models.JSONField(default=list)
    file = models.FileField(storage=_label_storage, max_length=300, blank=True)
    # Allegro's error items when it refused ({code, path, userMessage})
    errors = models.JSONField(default=list, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["tenant", "id"], name="handoverprotocol_tenant"),
            # the sweeper's cross-tenant scan of protocols still to fetch (system query)
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="handoverprotocol_pending_due",
            ),
        ]

    def __str__(self) -> str:
        return f"handover protocol {self.day} ({self.state})"
