"""What the API answers (read-only shapes) and the bodies and query strings it accepts."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from channels.models import SalesChannel
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, PaymentStatus
from orders.queries import Sort

MAX_LIMIT = 200


class StatusSerializer(serializers.ModelSerializer[OrderStatus]):
    class Meta:
        model = OrderStatus
        fields = ["id", "name", "buyer_name", "colour", "group", "position", "is_active"]
        fields += ["system_code"]


class StatusRefSerializer(serializers.Serializer[OrderStatus]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ChannelRefSerializer(serializers.Serializer[SalesChannel]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    alias = serializers.CharField()


class SyncHealthSerializer(serializers.Serializer[Any]):
    orders_today = serializers.IntegerField()
    last_import = serializers.DateTimeField(allow_null=True)
    needs_attention = serializers.IntegerField()
    with_warnings = serializers.IntegerField()
    lag_seconds = serializers.IntegerField(allow_null=True)
    stale = serializers.BooleanField()
    stuck_total = serializers.IntegerField()


class ChannelSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    alias = serializers.CharField()
    is_active = serializers.BooleanField()
    connection_state = serializers.CharField()
    connected_login = serializers.CharField()
    sync = SyncHealthSerializer(source="health")


_LIST_FIELDS = [
    "id",
    "number",
    "external_id",
    "bought_at",
    "imported_at",
    "buyer_login",
    "buyer_email",
    "buyer_first_name",
    "buyer_last_name",
    "buyer_company",
    "delivery_method_name",
    "payment_type",
    "payment_status",
    "total_to_pay",
    "currency",
    "needs_attention",
    "status",
    "channel",
]


class OrderListSerializer(serializers.ModelSerializer[Order]):
    """A list row: only the columns orders.queries.LIST_COLUMNS loads."""

    status = StatusRefSerializer()
    channel = ChannelRefSerializer()

    class Meta:
        model = Order
        fields = _LIST_FIELDS


class LineSerializer(serializers.ModelSerializer[OrderLine]):
    class Meta:
        model = OrderLine
        fields = ["id", "external_id", "offer_id", "offer_name", "sku", "quantity", "price"]
        fields += ["original_price", "currency"]


class ShipmentSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    carrier_id = serializers.CharField()
    carrier_name = serializers.CharField()
    waybill = serializers.CharField()
    created_at = serializers.DateTimeField()


class TimelineEntrySerializer(serializers.ModelSerializer[OrderEvent]):
    description = serializers.CharField(source="describe")
    actor = serializers.SerializerMethodField()

    class Meta:
        model = OrderEvent
        fields = ["id", "kind", "description", "actor", "created_at"]

    def get_actor(self, event: OrderEvent) -> str | None:
        return event.actor.email if event.actor is not None else None


class PaymentSerializer(serializers.Serializer[Order]):
    id = serializers.CharField(source="payment_id")
    type = serializers.CharField(source="payment_type")
    provider = serializers.CharField(source="payment_provider")
    status = serializers.CharField(source="payment_status")
    paid_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)


class AddressesSerializer(serializers.Serializer[Order]):
    buyer = serializers.JSONField(source="buyer_address")
    delivery = serializers.JSONField(source="delivery_address")
    invoice = serializers.JSONField(source="invoice_address")
    pickup_point = serializers.SerializerMethodField()

    def get_pickup_point(self, order: Order) -> dict[str, Any] | None:
        if not order.pickup_point_id:
            return None
        return {
            "id": order.pickup_point_id,
            "name": order.pickup_point_name,
            "address": order.pickup_point_address,
        }


class OrderDetailSerializer(serializers.ModelSerializer[Order]):
    status = StatusRefSerializer()
    channel = ChannelRefSerializer()
    lines = LineSerializer(many=True)
    addresses = AddressesSerializer(source="*")
    payments = serializers.SerializerMethodField()
    shipments = ShipmentSerializer(many=True)
    timeline = TimelineEntrySerializer(source="events", many=True)

    class Meta:
        model = Order
        fields = [
            *_LIST_FIELDS,
            "updated_at",
            "paid_at",
            "buyer_phone",
            "buyer_message",
            "delivery_method_id",
            "delivery_cost",
            "invoice_required",
            "invoice_company_name",
            "invoice_tax_id",
            "fulfillment_status",
            "allegro_status",
            "tracking_numbers",
            "lines",
            "addresses",
            "payments",
            "shipments",
            "timeline",
        ]

    def get_payments(self, order: Order) -> list[dict[str, Any]]:
        if not order.payment_id:
            return []
        return [dict(PaymentSerializer(order).data)]


class OrderFilterSerializer(serializers.Serializer[Any]):
    """The list's query string (dates and times in ISO 8601; ranges include `from`, exclude
    `to`)."""

    created_from = serializers.DateTimeField(required=False, help_text=_("Imported at or after."))
    created_to = serializers.DateTimeField(required=False, help_text=_("Imported before."))
    updated_from = serializers.DateTimeField(required=False)
    updated_to = serializers.DateTimeField(required=False)
    bought_from = serializers.DateTimeField(required=False)
    bought_to = serializers.DateTimeField(required=False)
    status = serializers.IntegerField(required=False, min_value=1)
    payment_status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False)
    channel = serializers.IntegerField(required=False, min_value=1)
    buyer_email = serializers.CharField(required=False, max_length=254)
    buyer_login = serializers.CharField(required=False, max_length=100)
    external_id = serializers.CharField(required=False, max_length=64)
    number = serializers.CharField(required=False, max_length=20)
    carrier = serializers.CharField(
        required=False, max_length=64, help_text=_("A carrier id of one of the order's shipments.")
    )
    sort = serializers.ChoiceField(choices=[s.value for s in Sort], default=Sort.BOUGHT_DESC.value)
    cursor = serializers.CharField(required=False, max_length=200)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=50)


class OrderPageSerializer(serializers.Serializer[Any]):
    results = OrderListSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)
    previous_cursor = serializers.CharField(allow_null=True)


class StatusChangeSerializer(serializers.Serializer[Any]):
    status = serializers.IntegerField(min_value=1)


class StatusChangeResultSerializer(serializers.Serializer[Any]):
    changed = serializers.BooleanField()
    status = StatusRefSerializer()


class ErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class PageQuerySerializer(serializers.Serializer[Any]):
    cursor = serializers.CharField(required=False, max_length=200)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=50)


class BulkStatusChangeSerializer(serializers.Serializer[Any]):
    orders = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=MAX_LIMIT
    )
    status = serializers.IntegerField(min_value=1)


class BulkStatusResultSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    result = serializers.ChoiceField(choices=["changed", "unchanged", "not_found"])


class BulkStatusChangeResultSerializer(serializers.Serializer[Any]):
    status = StatusRefSerializer()
    results = BulkStatusResultSerializer(many=True)


class ShipmentDetailSerializer(ShipmentSerializer):
    line_ids = serializers.ListField(child=serializers.CharField())
    comment = serializers.CharField()
    external_id = serializers.CharField()


class ShipmentPageSerializer(serializers.Serializer[Any]):
    results = ShipmentDetailSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class AddShipmentSerializer(serializers.Serializer[Any]):
    carrier_id = serializers.CharField(max_length=64)
    carrier_name = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    waybill = serializers.CharField(max_length=64)
    line_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, allow_null=True, default=None
    )
    comment = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class CarrierSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    name = serializers.CharField()


class ChannelCarriersSerializer(serializers.Serializer[Any]):
    channel = serializers.IntegerField()
    fetched_at = serializers.DateTimeField(allow_null=True)
    carriers = CarrierSerializer(many=True)


class LabelSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    state = serializers.CharField()
    carrier = serializers.CharField()
    waybills = serializers.ListField(child=serializers.CharField())
    file_type = serializers.CharField()
    has_file = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class LabelPageSerializer(serializers.Serializer[Any]):
    results = LabelSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class MailQuerySerializer(PageQuerySerializer):
    order = serializers.IntegerField(required=False, min_value=1)
    state = serializers.CharField(required=False, max_length=12)


class MailSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField(allow_null=True)
    kind = serializers.CharField()
    state = serializers.CharField()
    to_address = serializers.CharField()
    subject = serializers.CharField()
    attempts = serializers.IntegerField()
    reply_code = serializers.IntegerField(allow_null=True)
    reply_text = serializers.CharField()
    problem = serializers.CharField()
    hold_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class MailPageSerializer(serializers.Serializer[Any]):
    results = MailSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)


class FeedQuerySerializer(serializers.Serializer[Any]):
    # "from" is a keyword: the field is declared under another name and renamed below.
    from_ = serializers.IntegerField(
        required=False, min_value=0, default=0, help_text=_("The last position you have.")
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=100)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class FeedEventSerializer(serializers.Serializer[Any]):
    position = serializers.IntegerField()
    id = serializers.IntegerField(source="event.id")
    order_id = serializers.IntegerField(source="event.order_id")
    kind = serializers.CharField(source="event.kind")
    description = serializers.CharField(source="event.describe")
    data = serializers.JSONField(source="event.data")  # type: ignore[assignment]  # a field (the metaclass takes it off the class)
    actor = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="event.created_at")

    def get_actor(self, entry: Any) -> str | None:
        actor = entry.event.actor
        return actor.email if actor is not None else None


class FeedPageSerializer(serializers.Serializer[Any]):
    results = FeedEventSerializer(many=True)
    next = serializers.IntegerField(help_text=_("Send it as `from` to read on."))
    has_more = serializers.BooleanField()
