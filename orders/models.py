"""Orders and the tenant's own order statuses."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels.allegro_names import CHECKOUT_FORM_STATUSES, FULFILLMENT_STATUSES, PAYMENT_TYPES
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


# --- Orders (flowing in from Allegro) -------------------------------------------------------
#
# An Order is one Allegro checkout form of one sales channel, keyed by (tenant, channel,
# external_id). Everything the order list filters, searches or sorts by is a column; the rest of
# the checkout form (addresses, pickup point) is JSON, and the last form as received is kept in
# `raw_form` for diagnosis. Writes go through orders.ingest (Allegro → order) and
# orders.changes (staff operations); nothing else writes these tables.


class AllegroStatus(models.TextChoices):
    """The checkout form's own status (Allegro's `status`); names from channels.allegro_names."""

    BOUGHT = "BOUGHT", CHECKOUT_FORM_STATUSES["BOUGHT"]
    FILLED_IN = "FILLED_IN", CHECKOUT_FORM_STATUSES["FILLED_IN"]
    READY_FOR_PROCESSING = "READY_FOR_PROCESSING", CHECKOUT_FORM_STATUSES["READY_FOR_PROCESSING"]
    CANCELLED = "CANCELLED", CHECKOUT_FORM_STATUSES["CANCELLED"]


class FulfillmentStatus(models.TextChoices):
    """Allegro's seller-managed fulfillment status (`fulfillment.status`); "" = not given."""

    NEW = "NEW", FULFILLMENT_STATUSES["NEW"]
    PROCESSING = "PROCESSING", FULFILLMENT_STATUSES["PROCESSING"]
    READY_FOR_SHIPMENT = "READY_FOR_SHIPMENT", FULFILLMENT_STATUSES["READY_FOR_SHIPMENT"]
    READY_FOR_PICKUP = "READY_FOR_PICKUP", FULFILLMENT_STATUSES["READY_FOR_PICKUP"]
    SENT = "SENT", FULFILLMENT_STATUSES["SENT"]
    PICKED_UP = "PICKED_UP", FULFILLMENT_STATUSES["PICKED_UP"]
    CANCELLED = "CANCELLED", FULFILLMENT_STATUSES["CANCELLED"]
    SUSPENDED = "SUSPENDED", FULFILLMENT_STATUSES["SUSPENDED"]
    RETURNED = "RETURNED", FULFILLMENT_STATUSES["RETURNED"]


# The fulfillment statuses a seller can set: all but RETURNED, Allegro's own (422 if sent).
# (django-stubs types the functional form only with plain-string members.)
SettableFulfillment = models.TextChoices(  # type: ignore[call-overload]
    "SettableFulfillment",
    [
        (status.name, (status.value, status.label))
        for status in FulfillmentStatus
        if status != FulfillmentStatus.RETURNED
    ],
)


class PaymentStatus(models.TextChoices):
    """How much of the total the buyer has paid: an axis of its own, next to the status."""

    NONE = "none", _("Not paid")
    PARTIAL = "partial", _("Partially paid")
    PAID = "paid", _("Paid")
    OVERPAID = "overpaid", _("Overpaid")
    CASH_ON_DELIVERY = "cash_on_delivery", _("Cash on delivery")


class PaymentType(models.TextChoices):
    """Allegro's `payment.type`. Stored as received; an unknown value is kept and warned about."""

    CASH_ON_DELIVERY = "CASH_ON_DELIVERY", PAYMENT_TYPES["CASH_ON_DELIVERY"]
    WIRE_TRANSFER = "WIRE_TRANSFER", PAYMENT_TYPES["WIRE_TRANSFER"]
    ONLINE = "ONLINE", PAYMENT_TYPES["ONLINE"]
    SPLIT_PAYMENT = "SPLIT_PAYMENT", PAYMENT_TYPES["SPLIT_PAYMENT"]
    EXTENDED_TERM = "EXTENDED_TERM", PAYMENT_TYPES["EXTENDED_TERM"]


class TaxIdType(models.TextChoices):
    """Allegro's `invoice.address.company.ids[].type`, labelled with the name the id has in its
    country (what the invoice has to say)."""

    PL_NIP = "PL_NIP", "NIP"
    CZ_ICO = "CZ_ICO", "IČO"
    CZ_DIC = "CZ_DIC", "DIČ"
    HU_ADOSZAM = "HU_ADOSZAM", "Adószám"
    SK_ICO = "SK_ICO", "IČO"
    SK_IC_DPH = "SK_IC_DPH", "IČ DPH"
    VAT_EU = "VAT_EU", _("EU VAT number")
    OTHER = "OTHER", _("Other tax id")


class Order(TenantOwnedModel):
    channel = models.ForeignKey(
        "channels.SalesChannel", on_delete=models.PROTECT, related_name="orders"
    )
    # The checkout form id (a UUID at Allegro; kept as text so an odd value is still stored).
    external_id = models.CharField(_("Allegro order id"), max_length=64)
    number = models.CharField(_("number"), max_length=20)
    status = models.ForeignKey(
        OrderStatus, on_delete=models.PROTECT, related_name="orders", verbose_name=_("status")
    )
    needs_attention = models.BooleanField(_("needs attention"), default=False)

    # Allegro's view of the order.
    allegro_status = models.CharField(
        _("Allegro status"), max_length=32, choices=AllegroStatus.choices
    )
    fulfillment_status = models.CharField(
        _("Allegro fulfillment status"),
        max_length=32,
        choices=FulfillmentStatus.choices,
        blank=True,
        default="",
    )
    # When our own push last confirmed fulfillment_status on Allegro: a form read before that
    # (a poll or sweep already under way) must not undo it (orders.ingest).
    fulfillment_confirmed_at = models.DateTimeField(null=True, blank=True)
    revision = models.CharField(max_length=64, blank=True, default="")
    marketplace = models.CharField(_("marketplace"), max_length=32, blank=True, default="")

    # Buyer. The e-mail is Allegro's masked relay address.
    buyer_id = models.CharField(max_length=64, blank=True, default="")
    buyer_login = models.CharField(_("buyer login"), max_length=100, blank=True, default="")
    buyer_email = models.CharField(_("buyer e-mail"), max_length=254, blank=True, default="")
    buyer_first_name = models.CharField(max_length=100, blank=True, default="")
    buyer_last_name = models.CharField(max_length=100, blank=True, default="")
    buyer_company = models.CharField(max_length=200, blank=True, default="")
    buyer_phone = models.CharField(max_length=40, blank=True, default="")
    buyer_guest = models.BooleanField(default=False)
    buyer_language = models.CharField(max_length=16, blank=True, default="")
    buyer_address = models.JSONField(default=dict, blank=True)
    buyer_message = models.TextField(_("message from the buyer"), blank=True, default="")

    # Delivery.
    delivery_address = models.JSONField(default=dict, blank=True)
    delivery_method_id = models.CharField(max_length=64, blank=True, default="")
    delivery_method_name = models.CharField(
        _("delivery method"), max_length=200, blank=True, default=""
    )
    delivery_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    pickup_point_id = models.CharField(max_length=64, blank=True, default="")
    pickup_point_name = models.CharField(max_length=200, blank=True, default="")
    pickup_point_address = models.JSONField(default=dict, blank=True)

    # Invoice.
    invoice_required = models.BooleanField(_("invoice requested"), default=False)
    invoice_address = models.JSONField(default=dict, blank=True)
    invoice_company_name = models.CharField(max_length=200, blank=True, default="")
    invoice_tax_id = models.CharField(_("tax id (NIP)"), max_length=40, blank=True, default="")
    # Every tax id of the invoice's company: [{"type": "PL_NIP", "value": "5261040828"}, …]
    # (type "" when only the untyped company.taxId text came; orders.allegro_form).
    invoice_tax_ids = models.JSONField(default=list, blank=True)

    # Payment.
    payment_id = models.CharField(max_length=64, blank=True, default="")
    payment_type = models.CharField(_("payment type"), max_length=32, blank=True, default="")
    payment_provider = models.CharField(max_length=32, blank=True, default="")
    payment_status = models.CharField(
        _("payment status"),
        max_length=20,
        choices=PaymentStatus.choices,
        default=PaymentStatus.NONE,
    )
    paid_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    total_to_pay = models.DecimalField(_("total"), max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, blank=True, default="")

    # Dates.
    bought_at = models.DateTimeField(_("bought at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    imported_at = models.DateTimeField(_("imported at"))
    allegro_updated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # When the order was last compared with Allegro (set on every upsert, changed or not).
    allegro_synced_at = models.DateTimeField(null=True, blank=True)

    # Merged purchases: the old order points at the order Allegro merged it into.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_from"
    )

    # What the parser could not understand, as short English sentences (shown on the order).
    parse_warnings = models.JSONField(default=list, blank=True)
    raw_form = models.JSONField(default=dict, blank=True)
    # sha256 of the canonical JSON of raw_form: an unchanged form is skipped without a write.
    form_hash = models.CharField(max_length=64, blank=True, default="")
    # What the order list searches, normalised by orders.search.fold (no case, no diacritics):
    # one text column with a trigram index over (tenant, search_text) on PostgreSQL.
    search_text = models.TextField(blank=True, default="")

    # The tracking numbers of the order's shipments, folded, space-separated: kept by
    # orders.search.add_tracking_number so an upsert can rebuild search_text with them.
    tracking_numbers = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "external_id"], name="order_tenant_channel_external"
            ),
            models.UniqueConstraint(fields=["tenant", "number"], name="order_tenant_number"),
        ]
        indexes = [
            models.Index(fields=["tenant", "bought_at", "id"], name="order_tenant_bought"),
            models.Index(
                fields=["tenant", "status", "bought_at", "id"], name="order_tenant_status_bought"
            ),
            # Sort by total within a currency (orders.queries), both directions.
            models.Index(
                fields=["tenant", "currency", "total_to_pay", "id"],
                name="order_tenant_currency_total",
            ),
            # The payment-status filter, newest first.
            models.Index(
                fields=["tenant", "payment_status", "bought_at", "id"],
                name="order_tenant_payment_bought",
            ),
            # The "unpaid" tab: its page and its count (index-only) read just the unpaid orders.
            models.Index(
                fields=["tenant", "bought_at", "id"],
                condition=models.Q(payment_status__in=["none", "partial"]),
                name="order_tenant_unpaid",
            ),
            models.Index(
                fields=["tenant", "channel", "bought_at", "id"], name="order_tenant_channel_bought"
            ),
            models.Index(fields=["tenant", "imported_at"], name="order_tenant_imported"),
            models.Index(fields=["tenant", "external_id"], name="order_tenant_external"),
            models.Index(fields=["tenant", "buyer_login"], name="order_tenant_login"),
            models.Index(fields=["tenant", "buyer_email"], name="order_tenant_email"),
            models.Index(
                fields=["tenant", "channel"],
                condition=models.Q(needs_attention=True),
                name="order_tenant_attention",
            ),
            models.Index(
                fields=["tenant", "channel"],
                condition=~models.Q(parse_warnings=[]),
                name="order_tenant_warnings",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def invoice_tax_id_list(self) -> list[tuple[str, str, str]]:
        """(name, value, Allegro type) of each invoice tax id, e.g. ("NIP", "5261040828",
        "PL_NIP"); an id of unknown type is named plainly "Tax id"."""
        labels = dict(TaxIdType.choices)
        out = []
        for entry in self.invoice_tax_ids or []:
            if isinstance(entry, dict) and entry.get("value"):
                kind = str(entry.get("type") or "")
                out.append((str(labels.get(kind) or _("Tax id")), str(entry["value"]), kind))
        return out

    @property
    def buyer_name(self) -> str:
        return " ".join(p for p in (self.buyer_first_name, self.buyer_last_name) if p)


class OrderLine(TenantOwnedModel):
    """One line item of an order, keyed by Allegro's `lineItems[].id` within the order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    external_id = models.CharField(max_length=64)
    offer_id = models.CharField(_("offer id"), max_length=64, blank=True, default="")
    offer_name = models.CharField(_("offer"), max_length=300, blank=True, default="")
    sku = models.CharField(_("SKU"), max_length=100, blank=True, default="")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, default=0)
    original_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    bought_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "order", "external_id"], name="orderline_tenant_order_external"
            ),
        ]
        indexes = [
            # Merged purchases: which other order already holds this line item?
            models.Index(fields=["tenant", "external_id"], name="orderline_tenant_external"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.offer_name}"

    @property
    def total(self):
        return self.price * self.quantity


class OrderEventKind(models.TextChoices):
    IMPORTED = "imported", _("Imported")
    UPDATED = "updated", _("Updated from Allegro")
    STATUS_CHANGED = "status_changed", _("Status changed")
    ALLEGRO_STATUS_CHANGED = "allegro_status_changed", _("Allegro status changed")
    FULFILLMENT_CHANGED = "fulfillment_changed", _("Allegro fulfillment status changed")
    MERGED = "merged", _("Merged purchase")
    ALERT = "alert", _("Alert")
    ATTENTION_CLEARED = "attention_cleared", _("Alert handled")
    # Changes flowing out (fulfillment app): a push to Allegro and its outcome; a shipment.
    FULFILLMENT_PUSH = "fulfillment_push", pgettext_lazy("timeline", "Sent to Allegro")
    SHIPMENT_ADDED = "shipment_added", _("Shipment added")
    # Mail about the order (notifications app): written, held back, sent or failed.
    MAIL = "mail", _("E-mail")
    # A label through Wysyłam z Allegro: made, refused by Allegro, cancelled.
    LABEL = "label", _("Shipping label")


class OrderEvent(TenantOwnedModel):
    """One entry of an order's timeline: what happened, when, and who did it (null: the system).

    `data` holds the facts (e.g. status names from → to, as they were at the time); the text
    shown is built from kind + data in the reader's language (`describe()`), and `message`
    carries free text such as an alert's explanation. Rows are built and written only by
    orders.events, which also holds the words.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=OrderEventKind.choices)
    message = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "order", "created_at"], name="orderevent_tenant_order"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.created_at:%Y-%m-%d %H:%M}"

    def describe(self) -> str:
        """The entry as a sentence in the active language (the words: orders.events)."""
        # Imported here: orders.events imports this module.
        from orders.events import describe

        return describe(self)


class OrderNumberCounter(TenantOwnedModel):
    """The last sequence number issued per (tenant, channel alias, yymm). Numbers are allocated
    under this row's lock (orders.numbering), so they are unique and gap-free."""

    alias = models.CharField(max_length=2)
    period = models.CharField(max_length=4)  # yymm in the tenant's time zone
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "alias", "period"], name="ordernumbercounter_tenant_alias_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alias}{self.period}: {self.last_value}"


class DeliveryMethod(TenantOwnedModel):
    """The Allegro delivery methods the tenant's orders have used: the order list's filter
    options come from this small table instead of a DISTINCT over every order."""

    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"], name="deliverymethod_tenant_external"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OrderStatusCount(TenantOwnedModel):
    """How many orders of the tenant have each status: the order list's tab counts without
    counting a million rows per page view. Kept exact by the services that set Order.status
    (orders.ingest, orders.changes) in the same transaction, through
    `changes.adjust_status_counts`; `recount_status_counts` rebuilds it."""

    status = models.ForeignKey(OrderStatus, on_delete=models.CASCADE, related_name="+")
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "status"], name="orderstatuscount_tenant_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status_id}: {self.count}"
