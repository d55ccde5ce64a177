"""The catalogue: the offers of every channel as Allegro last showed them, the seller's own
products, links between the two and to order lines, every change of a product's stock and the
outbox of stock quantities on their way to Allegro."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TenantOwnedModel


class Product(TenantOwnedModel):
    """The seller's own product: what offers on any channel sell. Its stock is the one truth
    the linked offers' quantities follow."""

    name = models.CharField(_("name"), max_length=300)
    # Unique per company where given (a product made from an offer without SKU has none).
    sku = models.CharField(_("SKU"), max_length=100, blank=True, default="")
    ean = models.CharField(_("EAN"), max_length=64, blank=True, default="")
    stock = models.IntegerField(_("stock"), default=0)
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    length_cm = models.DecimalField(
        _("length (cm)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    width_cm = models.DecimalField(
        _("width (cm)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    height_cm = models.DecimalField(
        _("height (cm)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="PLN")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "sku"],
                condition=~models.Q(sku=""),
                name="product_tenant_sku",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "ean"], name="product_tenant_ean"),
            models.Index(fields=["tenant", "name", "id"], name="product_tenant_name"),
        ]

    def __str__(self) -> str:
        return self.name


class OfferLink(models.TextChoices):
    """How an offer came to be linked to its product."""

    SKU = "sku", _("By SKU")
    EAN = "ean", _("By EAN")
    MANUAL = "manual", _("By hand")
    CREATED = "created", _("Product created from the offer")


class Offer(TenantOwnedModel):
    """One offer of one channel, as the last sweep or offer event showed it."""

    channel = models.ForeignKey(
        "channels.SalesChannel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Allegro's offer id.
    external_id = models.CharField(_("offer id"), max_length=32)
    name = models.CharField(_("name"), max_length=300, blank=True, default="")
    # Allegro's publication status: INACTIVE, ACTIVATING, ACTIVE, ENDED.
    status = models.CharField(_("status"), max_length=16, blank=True, default="")
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    # stock.available on Allegro.
    stock_available = models.IntegerField(_("stock on Allegro"), null=True, blank=True)
    # external.id on Allegro: the seller's signature of the offer.
    sku = models.CharField(_("SKU"), max_length=100, blank=True, default="")
    ean = models.CharField(_("EAN"), max_length=64, blank=True, default="")
    category_id = models.CharField(_("category"), max_length=32, blank=True, default="")
    image_url = models.URLField(max_length=500, blank=True, default="")
    url = models.URLField(_("offer on Allegro"), max_length=300, blank=True, default="")
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="offers"
    )
    link = models.CharField(max_length=8, choices=OfferLink.choices, blank=True, default="")
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    # Allegro no longer has it (archived, or missing from a complete sweep).
    removed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # When the offer's product set was last read for its EAN (the listing does not carry it;
    # docs/adr/0015-offer-import.md). None: not read yet, or the offer changed since.
    ean_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "external_id"], name="offer_tenant_channel_external"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "channel", "id"], name="offer_tenant_channel"),
            models.Index(fields=["tenant", "sku"], name="offer_tenant_sku"),
            models.Index(fields=["tenant", "ean"], name="offer_tenant_ean"),
            models.Index(fields=["tenant", "product"], name="offer_tenant_product"),
            models.Index(fields=["tenant", "external_id"], name="offer_tenant_external"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.name}"


class SweepState(models.TextChoices):
    NEVER = "never", _("Not imported yet")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Import failed")


class SweepReason(models.TextChoices):
    FIRST = "first", _("First import after connecting")
    MANUAL = "manual", _("Started by hand")
    CURSOR_EXPIRED = "cursor_expired", _("Offer events older than Allegro keeps")


class ChannelCatalogState(TenantOwnedModel):
    """A channel's offer import: the full sweep's progress, the offer events' cursor, and
    whether product stock is pushed to its offers."""

    channel = models.OneToOneField(
        "channels.SalesChannel", on_delete=models.CASCADE, related_name="catalog_state"
    )
    sweep_state = models.CharField(
        max_length=8, choices=SweepState.choices, default=SweepState.NEVER
    )
    sweep_reason = models.CharField(
        max_length=16, choices=SweepReason.choices, blank=True, default=""
    )
    # Sweeps are numbered so a task of an older sweep stops when a newer one starts.
    sweep_run = models.PositiveIntegerField(default=0)
    sweep_total = models.PositiveIntegerField(default=0)
    sweep_done = models.PositiveIntegerField(default=0)
    sweep_offset = models.PositiveIntegerField(default=0)
    sweep_started_at = models.DateTimeField(null=True, blank=True)
    sweep_finished_at = models.DateTimeField(null=True, blank=True)
    sweep_heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The last offer event applied (/sale/offer-events `from`), and when it was stored: Allegro
    # keeps offer events 24 h, so an older cursor means a sweep.
    events_cursor = models.CharField(max_length=64, blank=True, default="")
    events_cursor_at = models.DateTimeField(null=True, blank=True)
    events_checked_at = models.DateTimeField(null=True, blank=True)
    next_events_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    # Off by default: a seller turns it on once their products' stock is right.
    stock_push_enabled = models.BooleanField(_("send stock to offers"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "channel"], name="catalogstate_tenant_ch"),
        ]

    def __str__(self) -> str:
        return f"catalog of channel {self.channel_id}"


class OrderLineLink(TenantOwnedModel):
    """Which offer and product an order line sold (kept by the catalogue, which sits above
    orders: orders knows nothing of offers and products)."""

    line = models.OneToOneField(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="catalog_link"
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    offer = models.ForeignKey(
        Offer, on_delete=models.SET_NULL, null=True, blank=True, related_name="line_links"
    )
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="line_links"
    )
    # The line's Allegro offer id, kept so an offer imported after its orders finds their lines.
    offer_external_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "line"], name="linelink_tenant_line"),
        ]
        indexes = [
            models.Index(fields=["tenant", "order"], name="linelink_tenant_order"),
            models.Index(fields=["tenant", "product"], name="linelink_tenant_product"),
            models.Index(fields=["tenant", "offer"], name="linelink_tenant_offer"),
            models.Index(
                fields=["tenant", "offer_external_id"],
                condition=models.Q(product__isnull=True),
                name="linelink_tenant_unlinked",
            ),
        ]


class StockReason(models.TextChoices):
    MANUAL = "manual", _("Changed by hand")
    SOLD = "sold", _("Sold in an order")
    RESTORED = "restored", _("Order cancelled before shipping")
    IMPORT = "import", _("Imported")


class ProductStockChange(TenantOwnedModel):
    """One change of a product's stock and why: the product's timeline."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_changes")
    reason = models.CharField(max_length=10, choices=StockReason.choices)
    delta = models.IntegerField()
    stock_after = models.IntegerField()
    order = models.ForeignKey(
        "orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    offer = models.ForeignKey(
        Offer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    note = models.CharField(max_length=200, blank=True, default="")
    # Makes a change that must happen once happen once (an order's sale, its restoration):
    # e.g. "sold:<order id>:<product id>". Empty for changes by hand.
    dedupe_key = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="stockchange_tenant_dedupe",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "product", "-id"], name="stockchange_tenant_product"),
        ]


class StockPushState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent, Allegro is applying it")
    DONE = "done", _("Applied on Allegro")
    FAILED = "failed", _("Refused by Allegro")
    SUPERSEDED = "superseded", _("Replaced by a newer quantity")


class OfferStockPush(TenantOwnedModel):
    """The outbox of one offer's quantity on its way to Allegro. Changes of one offer coalesce
    into its one pending row; the command id is fixed once the row is first sent, so a retry
    of the same command is the same command to Allegro."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="stock_pushes")
    channel = models.ForeignKey(
        "channels.SalesChannel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    quantity = models.PositiveIntegerField()
    command_id = models.UUIDField(default=uuid.uuid4)
    state = models.CharField(
        max_length=10, choices=StockPushState.choices, default=StockPushState.PENDING
    )
    stock_change = models.ForeignKey(
        ProductStockChange, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    error_code = models.CharField(max_length=40, blank=True, default="")
    error_detail = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # One waiting row per offer: a newer quantity replaces the older before it is sent.
            models.UniqueConstraint(
                fields=["tenant", "offer"],
                condition=models.Q(state="pending"),
                name="stockpush_one_pending",
            ),
            models.UniqueConstraint(fields=["tenant", "command_id"], name="stockpush_command"),
        ]
        indexes = [
            models.Index(fields=["tenant", "offer", "-id"], name="stockpush_tenant_offer"),
            # The sweeper's cross-tenant scan of due rows (system query, no tenant).
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state__in=["pending", "sent"]),
                name="stockpush_due",
            ),
        ]
