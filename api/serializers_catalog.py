"""The catalogue's shapes in the API (offers, products, their stock changes) and the bodies and
query strings its endpoints accept."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers import MAX_LIMIT, ChannelRefSerializer
from catalog.models import Offer, OfferLink, Product, ProductStockChange, StockReason
from catalog.services.stock import MAX_STOCK

OFFER_STATUSES = ["ACTIVE", "ACTIVATING", "INACTIVE", "ENDED"]


class OfferSerializer(serializers.ModelSerializer[Offer]):
    channel = ChannelRefSerializer()
    offer_id = serializers.CharField(source="external_id", help_text="Allegro's offer id.")
    stock_available = serializers.IntegerField(
        allow_null=True, help_text="The quantity Allegro last showed."
    )
    product_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Offer
        fields = ["id", "channel", "offer_id", "name", "status", "price", "currency"]
        fields += ["stock_available", "sku", "ean", "category_id", "image_url", "url"]
        fields += ["product_id", "removed_at", "last_seen_at"]


class LinkedOfferSerializer(serializers.ModelSerializer[Offer]):
    """An offer in its product's detail."""

    channel = ChannelRefSerializer()
    offer_id = serializers.CharField(source="external_id")
    link = serializers.ChoiceField(choices=OfferLink.choices, help_text="How it was linked.")

    class Meta:
        model = Offer
        fields = ["id", "channel", "offer_id", "name", "status", "stock_available", "link"]
        fields += ["removed_at"]


_PRODUCT_FIELDS = ["id", "name", "sku", "ean", "stock", "weight_kg", "length_cm", "width_cm"]
_PRODUCT_FIELDS += ["height_cm", "price", "currency", "created_at", "updated_at"]


class ProductSerializer(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = _PRODUCT_FIELDS


class ProductDetailSerializer(serializers.ModelSerializer[Product]):
    offers = LinkedOfferSerializer(many=True, source="linked_offers")

    class Meta:
        model = Product
        fields = [*_PRODUCT_FIELDS, "offers"]


class StockChangeSerializer(serializers.ModelSerializer[ProductStockChange]):
    reason = serializers.ChoiceField(choices=StockReason.choices)
    order_id = serializers.IntegerField(allow_null=True)
    offer_id = serializers.IntegerField(allow_null=True)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = ProductStockChange
        fields = ["id", "reason", "delta", "stock_after", "order_id", "offer_id", "actor"]
        fields += ["note", "created_at"]

    def get_actor(self, change: ProductStockChange) -> str | None:
        return change.actor.email if change.actor is not None else None


class _Cursors(serializers.Serializer[Any]):
    next_cursor = serializers.CharField(allow_null=True)
    previous_cursor = serializers.CharField(allow_null=True)


class OfferPageSerializer(_Cursors):
    results = OfferSerializer(many=True)


class ProductPageSerializer(_Cursors):
    results = ProductSerializer(many=True)


class StockChangePageSerializer(_Cursors):
    results = StockChangeSerializer(many=True)


class PageQuerySerializer(serializers.Serializer[Any]):
    # A product's cursor carries its name (300 characters, up to 4 bytes each in UTF-8).
    cursor = serializers.CharField(required=False, max_length=1700)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=50)


class OfferFilterSerializer(PageQuerySerializer):
    """The offer list's query string; newest stored first."""

    channel = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=OFFER_STATUSES, required=False)
    sku = serializers.CharField(required=False, max_length=100, help_text=_("Exactly this SKU."))
    ean = serializers.CharField(required=False, max_length=64)
    linked = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text=_("Linked to a product or not.")
    )
    q = serializers.CharField(
        required=False,
        max_length=300,
        help_text=_("Part of the name, or exactly the SKU, EAN or offer id."),
    )
    stock_zero = serializers.BooleanField(
        required=False, default=False, help_text=_("Only offers with no stock on Allegro.")
    )
    removed = serializers.BooleanField(
        required=False, default=False, help_text=_("Only the offers Allegro no longer has.")
    )


class ProductFilterSerializer(PageQuerySerializer):
    """The product list's query string; by name."""

    q = serializers.CharField(
        required=False, max_length=100, help_text=_("Every word in the name, SKU or EAN.")
    )
    sku = serializers.CharField(required=False, max_length=100)
    ean = serializers.CharField(required=False, max_length=64)
    linked = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text=_("Linked to offers or not.")
    )
    stock_zero = serializers.BooleanField(
        required=False, default=False, help_text=_("Only products with no stock (or below).")
    )


def _dimension() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=7, decimal_places=1, min_value=Decimal("0.1"), required=False, allow_null=True
    )


class ProductWriteSerializer(serializers.Serializer[Any]):
    """What a product is (never its stock: POST …/stock/ changes that)."""

    name = serializers.CharField(max_length=300)
    sku = serializers.CharField(max_length=100, required=False, allow_blank=True)
    ean = serializers.CharField(max_length=64, required=False, allow_blank=True)
    weight_kg = serializers.DecimalField(
        max_digits=8,
        decimal_places=3,
        min_value=Decimal("0.001"),
        required=False,
        allow_null=True,
    )
    length_cm = _dimension()
    width_cm = _dimension()
    height_cm = _dimension()
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )
    currency = serializers.CharField(max_length=3, required=False)


class NewProductSerializer(ProductWriteSerializer):
    initial_stock = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=MAX_STOCK
    )


class NewStockChangeSerializer(serializers.Serializer[Any]):
    """Exactly one of ``stock`` (the new stock) and ``delta`` (added; negative takes away)."""

    stock = serializers.IntegerField(required=False, min_value=0, max_value=MAX_STOCK)
    delta = serializers.IntegerField(required=False, min_value=-MAX_STOCK, max_value=MAX_STOCK)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class StockChangeResultSerializer(serializers.Serializer[Any]):
    stock = serializers.IntegerField(help_text="The product's stock after the change.")
    change = StockChangeSerializer()
