from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    """Changes flowing out to the marketplace: status mappings, shipments, the push outbox."""

    name = "fulfillment"
    verbose_name = _("Fulfillment")

    def ready(self) -> None:
        from channels.signals import channel_connected
        from fulfillment.services.carriers import refresh_when_connected
        from fulfillment.timeline import fulfillment_event_text
        from orders.events import register_describer
        from orders.models import OrderEventKind

        channel_connected.connect(refresh_when_connected, dispatch_uid="fulfillment.carriers")
        # The order page's sentences for our timeline entries (orders.events explains why).
        register_describer(OrderEventKind.FULFILLMENT_PUSH, fulfillment_event_text)
        register_describer(OrderEventKind.SHIPMENT_ADDED, fulfillment_event_text)
